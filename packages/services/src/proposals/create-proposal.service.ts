import { ZProposalOrigin, type TProposalState } from '@fleetplane/contracts';
import type { AuditActor, Db, PrismaClient } from '@fleetplane/db';
import { compatibilityRefusal, planVoiding, proposalExpiresAt, validationRefusal } from '@fleetplane/domain';
import { SYSTEM_ACTOR } from '../context';
import { invalid, precondition } from '../errors';
import {
  buildProposalEvidence,
  inTransaction,
  lockClusterProposals,
  openStates,
  recordDecision,
  type TRunForEvidence,
} from './proposal-support';

export interface TCreateUpgradeProposal {
  artifactId: string;
  clusterId: string;
  origin: 'pipeline' | 'operator';
  validationRunId?: string | null;
  pipelineRunId?: string | null;
  requestedById?: string | null;
  reason?: string;
}

const RUN_SELECT = {
  id: true,
  state: true,
  verdict: true,
  summary: true,
  evidenceDigest: true,
  clusterId: true,
  artifactId: true,
} as const;

/**
 * Proposes upgrading a cluster to an artifact. Idempotent per (artifact, cluster) open proposal: asking
 * again returns the open one (with a different validation run, its evidence is replaced and approvals
 * given on the old evidence stop counting). Refuses an artifact that fails the cluster's compatibility or
 * fit check, a validation run that did not pass, and a revision older than one already proposed; voids
 * open proposals for older revisions of the same repo on the same cluster. Without a validation run an
 * operator's proposal waits in pending_validation.
 */
export async function createUpgradeProposal(
  db: Db | PrismaClient,
  input: TCreateUpgradeProposal,
  options: { actor?: AuditActor; now?: Date } = {},
): Promise<{ id: string; state: TProposalState; created: boolean }> {
  const origin = ZProposalOrigin.parse(input.origin);
  const now = options.now ?? new Date();
  const actor = options.actor ?? SYSTEM_ACTOR;
  if (origin === 'pipeline' && !input.validationRunId) throw invalid('A pipeline proposal needs its validation run', 'validationRunId');
  return inTransaction(db, async (tx) => {
    await lockClusterProposals(tx, input.clusterId);
    const cluster = await tx.cluster.findUnique({
      where: { id: input.clusterId },
      select: { id: true, name: true, proposalExpiryDays: true },
    });
    if (!cluster) throw invalid('Choose an existing cluster', 'clusterId');
    const artifact = await tx.artifact.findUnique({
      where: { id: input.artifactId },
      select: {
        id: true,
        digest: true,
        status: true,
        revision: { select: { id: true, trackedRepoId: true, commitSha: true, committedAt: true, detectedAt: true } },
      },
    });
    if (!artifact) throw invalid('Choose an existing artifact', 'artifactId');
    if (artifact.status !== 'ready') throw precondition(`The artifact is ${artifact.status}; only a ready artifact can be proposed.`);

    let run: (TRunForEvidence & { clusterId: string; artifactId: string | null }) | null = null;
    if (input.validationRunId) {
      run = await tx.validationRun.findUnique({ where: { id: input.validationRunId }, select: RUN_SELECT });
      if (!run) throw invalid('Choose an existing validation run', 'validationRunId');
      if (run.clusterId !== cluster.id) throw invalid('The validation run ran on another cluster', 'validationRunId');
      if (run.artifactId !== artifact.id) throw invalid('The validation run validated another artifact', 'validationRunId');
      const refused = validationRefusal(run);
      if (refused) throw precondition(refused);
    }
    const runFinished = run !== null && run.state !== 'queued' && run.state !== 'running';

    const existing = await tx.upgradeProposal.findFirst({
      where: { artifactId: artifact.id, clusterId: cluster.id, state: { in: openStates() } },
      select: { id: true, state: true, validationRunId: true, evidenceDigest: true },
    });
    if (existing) {
      if (!run || run.id === existing.validationRunId) return { id: existing.id, state: existing.state, created: false };
      // New evidence for the same proposal: approvals given on the old digest no longer count.
      const sealed = await buildProposalEvidence(tx, {
        artifactId: artifact.id,
        artifactDigest: artifact.digest,
        clusterId: cluster.id,
        run,
      });
      const refusal = compatibilityRefusal(sealed.evidence.compatibility, cluster.name);
      if (refusal) throw precondition(refusal);
      const state: TProposalState = runFinished ? 'pending_approval' : 'pending_validation';
      await tx.upgradeProposal.update({
        where: { id: existing.id },
        data: { validationRunId: run.id, evidence: sealed.evidence as object, evidenceDigest: sealed.digest, state, decidedAt: null },
      });
      await recordDecision(
        tx,
        actor,
        {
          action: 'proposal.evidence_changed',
          targetId: existing.id,
          before: { validationRunId: existing.validationRunId, evidenceDigest: existing.evidenceDigest, state: existing.state },
          after: { validationRunId: run.id, evidenceDigest: sealed.digest, state },
        },
        { event: 'evidence_changed', detail: 'New validation evidence: approvals given on the earlier evidence no longer count.' },
      );
      return { id: existing.id, state, created: false };
    }

    const sealed = await buildProposalEvidence(tx, {
      artifactId: artifact.id,
      artifactDigest: artifact.digest,
      clusterId: cluster.id,
      run,
    });
    const refusal = compatibilityRefusal(sealed.evidence.compatibility, cluster.name);
    if (refusal) throw precondition(refusal);

    const open = await tx.upgradeProposal.findMany({
      where: {
        clusterId: cluster.id,
        state: { in: openStates() },
        artifact: { revision: { trackedRepoId: artifact.revision.trackedRepoId } },
      },
      select: {
        id: true,
        state: true,
        artifact: {
          select: { revision: { select: { id: true, trackedRepoId: true, committedAt: true, detectedAt: true, commitSha: true } } },
        },
      },
    });
    const revKey = (r: typeof artifact.revision) => ({
      trackedRepoId: r.trackedRepoId,
      revisionId: r.id,
      committedAt: r.committedAt,
      detectedAt: r.detectedAt,
    });
    const plan = planVoiding(
      { clusterId: cluster.id, revision: revKey(artifact.revision) },
      open.map((p) => ({ id: p.id, clusterId: cluster.id, revision: revKey(p.artifact.revision) })),
    );
    if (plan.supersededBy) {
      const newer = open.find((p) => p.id === plan.supersededBy)!;
      throw precondition(
        `Proposal ${newer.id} for a newer revision (${newer.artifact.revision.commitSha.slice(0, 7)}) of the same repo is open on "${cluster.name}"; an older revision cannot be proposed over it.`,
      );
    }

    const state: TProposalState = runFinished ? 'pending_approval' : 'pending_validation';
    const proposal = await tx.upgradeProposal.create({
      data: {
        clusterId: cluster.id,
        artifactId: artifact.id,
        artifactDigest: artifact.digest,
        validationRunId: run?.id ?? null,
        requestedById: input.requestedById ?? null,
        origin,
        pipelineRunId: input.pipelineRunId ?? null,
        evidence: sealed.evidence as object,
        evidenceDigest: sealed.digest,
        state,
        reason: input.reason ?? '',
        expiresAt: proposalExpiresAt(now, cluster.proposalExpiryDays),
        createdAt: now,
      },
      select: { id: true },
    });
    await recordDecision(
      tx,
      actor,
      {
        action: 'proposal.create',
        targetId: proposal.id,
        after: {
          clusterId: cluster.id,
          artifactId: artifact.id,
          artifactDigest: artifact.digest,
          evidenceDigest: sealed.digest,
          origin,
          state,
        },
      },
      { event: 'created', detail: input.reason ?? '' },
    );

    const shortSha = artifact.revision.commitSha.slice(0, 7);
    for (const id of plan.voids) {
      const stateReason = `Voided: proposal ${proposal.id} for newer revision ${shortSha} of the same repo arrived for this cluster.`;
      await tx.upgradeProposal.update({ where: { id }, data: { state: 'voided', stateReason, decidedAt: now } });
      await recordDecision(
        tx,
        actor,
        {
          action: 'proposal.void',
          targetId: id,
          before: { state: open.find((p) => p.id === id)!.state },
          after: { state: 'voided', supersededBy: proposal.id },
        },
        { event: 'voided', detail: stateReason },
      );
    }
    return { id: proposal.id, state, created: true };
  });
}
