// The pipeline's validate stage: borrow the target cluster's staging node, load the candidate artifact on
// it through the node-commands service, run the cluster's gating suite against that node's engine as a
// node-scoped validation run, put the node back, and on a pass propose the upgrade. The decisions (which
// node, whose lease, what to restore, whether a load really serves the candidate) are domain rules in
// runs/staging-node.ts; this file only feeds them facts and carries out their answers.
//
// Postgres is the truth for every phase, so a job delivered again (worker killed, Redis came back empty and
// the reconciler re-queued the step) resumes instead of starting over: the lease row says which node is
// held and what to restore, the commands are found again by their dedupe keys, and the validation run by
// its step and lease.
import { ZEngineReadyResult, ZLoadArtifactPayload, type TAgentCommandBody } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import {
  chooseStagingNode,
  decideStagingLease,
  isStagingNodePutBack,
  isTerminalCommandState,
  judgeStagingLoad,
  planStagingRestore,
  STAGING_LEASE_RENEW_MS,
  STAGING_LEASE_TTL_MS,
  stagingCommandKey,
  type NodeHealthStatus,
  type RestorePlan,
} from '@fleetplane/domain';
import { artifactRefFor } from '../artifacts/artifact-ref';
import { engineLaunchSpecFor } from '../engine/launch-spec.service';
import { isUniqueViolation } from '../errors';
import { cancelNodeCommand, issueNodeCommand, waitForNodeCommand, type NodeCommandOutcome } from '../node-commands/node-commands.service';
import { createUpgradeProposal } from '../proposals/create-proposal.service';
import { runValidationCheck } from '../validation/check-runner.service';
import { beginRun, finaliseRun } from '../validation/run-lifecycle.service';
import { createStagingValidationRun } from '../validation/staging-run.service';
import { parseStepSpec } from './run-flow';
import { failedStagingRestores, RESTORE_FAILED_PHASE } from './staging-restore-alerts.service';
import type { StepResult, StepWork } from './step-runner.service';
import { lockRow } from '../shared/locks.sql';

/** A validate failure retrying cannot fix (no eligible node, load failed, candidate rejected): not retried. */
export class PermanentValidateError extends Error {
  override readonly name = 'PermanentValidateError';
}
export const isPermanentValidateError = (e: unknown): e is PermanentValidateError => e instanceof PermanentValidateError;

/** What the validate step writes into its progress; the run page's validate stage reads it. */
export interface ValidateStepProgress {
  phase: 'choosing_node' | 'waiting_for_node' | 'loading' | 'validating' | 'restoring' | 'done';
  message?: string;
  clusterName?: string;
  nodeId?: string;
  nodeHostname?: string;
  loadCommandId?: string;
  restoreCommandId?: string;
  /** Set when the node could not be put back: why (an alert stays open until the node is back). */
  restoreError?: string;
  validationRunId?: string;
  proposalId?: string;
  verdict?: string | null;
}

export interface ValidateStepDeps {
  prisma: PrismaClient;
  /** Lease timings (tests shorten them to exercise an expired lease). */
  leaseTtlMs?: number;
  leaseRenewMs?: number;
  /** How long one wait for a command's outcome lasts before the step looks again (and renews its heartbeat). */
  commandWaitSliceMs?: number;
}

type LeaseRow = NonNullable<Awaited<ReturnType<PrismaClient['stagingNodeLease']['findUnique']>>>;

const origin = (stepId: string) => `pipeline_step:${stepId}`;

export async function executeValidateStep(deps: ValidateStepDeps, work: StepWork): Promise<StepResult> {
  const { prisma } = deps;
  const { step, writer, signal } = work;
  const spec = parseStepSpec(step.spec);
  const clusterId = spec.clusterId ?? step.run.targetKey;
  const progress: ValidateStepProgress = { phase: 'choosing_node' };
  const report = (p: Partial<ValidateStepProgress>) => {
    Object.assign(progress, p);
    writer.progress({ ...progress });
  };

  const candidate = await findCandidate(prisma, step.runId, spec.candidate ?? { kind: 'download', targetKey: 'default' });
  const cluster = await prisma.cluster.findUnique({
    where: { id: clusterId },
    select: {
      id: true,
      name: true,
      engineDrainSeconds: true,
      stagingNode: {
        select: {
          id: true,
          hostname: true,
          clusterId: true,
          health: true,
          healthReasons: true,
          lastSeenAt: true,
          reportIntervalSeconds: true,
        },
      },
    },
  });
  if (!cluster) throw new PermanentValidateError(`Cluster ${clusterId} no longer exists`);
  report({ clusterName: cluster.name });

  // A job delivered again while its lease lives keeps going on that node whatever its health says now:
  // walking away would leave the candidate loaded on it.
  const held = await prisma.stagingNodeLease.findFirst({ where: { holderStepId: step.id } });
  const n = cluster.stagingNode;
  if (!held) {
    const choice = chooseStagingNode({
      clusterName: cluster.name,
      node: n
        ? {
            id: n.id,
            hostname: n.hostname,
            inCluster: n.clusterId === cluster.id,
            health: n.health as NodeHealthStatus,
            healthReasons: healthMessages(n.healthReasons),
            lastSeenAt: n.lastSeenAt,
            reportIntervalSeconds: n.reportIntervalSeconds,
          }
        : null,
      now: new Date(),
    });
    if (!choice.ok) {
      // No staging node at all is a setting not made yet: the candidate is simply not validated (no
      // proposal). A node that exists but cannot be used is a failure someone must look at.
      if (choice.code === 'no_staging_node')
        return { skipped: choice.reason, message: choice.reason, progress: { ...progress, message: choice.reason } };
      report({ message: choice.reason });
      throw new PermanentValidateError(choice.reason);
    }
  }
  const nodeId = held?.nodeId ?? n!.id;
  const hostname = held
    ? ((await prisma.node.findUnique({ where: { id: nodeId }, select: { hostname: true } }))?.hostname ?? nodeId)
    : n!.hostname;
  report({ nodeId, nodeHostname: hostname });

  const lease = held ?? (await takeLease(deps, work, { nodeId, hostname, clusterId: cluster.id, candidate }, report));
  writer.log(
    'info',
    held
      ? `Resuming on staging node ${hostname} (lease taken ${lease.acquiredAt.toISOString()})`
      : `Took staging node ${hostname}; afterwards: ${lease.restoreReason}`,
  );
  const renewMs = deps.leaseRenewMs ?? STAGING_LEASE_RENEW_MS;
  const ttlMs = deps.leaseTtlMs ?? STAGING_LEASE_TTL_MS;
  const renew = setInterval(() => {
    prisma.stagingNodeLease
      .updateMany({ where: { nodeId, holderStepId: step.id }, data: { expiresAt: new Date(Date.now() + ttlMs) } })
      .catch(() => undefined);
  }, renewMs);
  const keyOf = (purpose: 'load' | 'restore') =>
    stagingCommandKey({ runId: step.runId, stepId: step.id, leaseAcquiredAt: lease.acquiredAt, purpose });

  let validationRunId: string | undefined;
  try {
    let verdict: { verdict: string | null; summary: string | null; evidenceDigest: string | null } | null = null;
    if (lease.phase === 'holding') {
      // 1. Load the candidate (the same command again when this job was delivered before).
      report({ phase: 'loading', message: `Loading ${candidate.label} on ${hostname}` });
      const artifact = await artifactRefFor(prisma, candidate.id);
      const launch = await engineLaunchSpecFor(prisma, { nodeId, artifactId: candidate.id });
      const load = await issueNodeCommand(prisma, {
        nodeId,
        command: { kind: 'load_artifact', payload: { artifact, launch, bandwidthMbps: null } },
        origin: origin(step.id),
        artifactId: candidate.id,
        dedupeKey: keyOf('load'),
      });
      report({ loadCommandId: load.id });
      writer.log('info', `${load.created ? 'Issued' : 'Found the already issued'} load_artifact command ${load.id} on ${hostname}`);
      const loaded = await waitUntilTerminal(deps, load.id, signal);
      const payload = await prisma.nodeCommand.findUniqueOrThrow({ where: { id: load.id }, select: { payload: true } });
      const servedModelName = ZLoadArtifactPayload.parse(payload.payload).launch.servedModelName;
      const ready = ZEngineReadyResult.safeParse(loaded.result ?? {});
      const judged = judgeStagingLoad(
        { state: loaded.state, error: loaded.error, ready: ready.success ? ready.data : null },
        { hostname, candidateDigest: candidate.digest, servedModelName },
      );
      if (!judged.ok) {
        writer.log('error', judged.reason);
        report({ message: judged.reason });
        await restore(deps, work, { lease, hostname, key: keyOf('restore'), report });
        throw new PermanentValidateError(judged.reason);
      }
      writer.log('info', `Candidate ready on ${hostname} at ${judged.endpointUrl} as "${servedModelName}"`);

      // 2. The gating suite against the staging node's engine, as a node-scoped validation run.
      report({ phase: 'validating', message: `Running the gating suite against ${judged.endpointUrl}` });
      validationRunId = await stagingRunFor(prisma, {
        clusterId: cluster.id,
        nodeId,
        candidateId: candidate.id,
        runId: step.runId,
        stepId: step.id,
        since: lease.acquiredAt,
        endpointUrl: judged.endpointUrl,
        servedModelName,
      });
      report({ validationRunId });
      const begun = await beginRun(prisma, validationRunId);
      for (const key of begun?.checkKeys ?? []) {
        if (signal.aborted) break;
        writer.log('info', `Check ${key}…`);
        const r = await runValidationCheck(prisma, validationRunId, key, { signal });
        writer.log(r.verdict === 'pass' ? 'info' : 'warn', `Check ${key}: ${r.verdict ?? r.reason ?? 'no verdict'}`);
      }
      if (signal.aborted) throw signal.reason;
      await finaliseRun(prisma, validationRunId);
      verdict = await prisma.validationRun.findUniqueOrThrow({
        where: { id: validationRunId },
        select: { verdict: true, summary: true, evidenceDigest: true },
      });
      report({ verdict: verdict.verdict });
    } else {
      // Killed while putting the node back: the suite already ran; finish the restore.
      const run = await prisma.validationRun.findFirst({
        where: { pipelineStepId: step.id, createdAt: { gte: lease.acquiredAt } },
        orderBy: { createdAt: 'desc' },
        select: { id: true, verdict: true, summary: true, evidenceDigest: true, finishedAt: true },
      });
      if (run && !run.finishedAt) await finaliseRun(prisma, run.id);
      validationRunId = run?.id;
      verdict = run
        ? await prisma.validationRun.findUniqueOrThrow({
            where: { id: run.id },
            select: { verdict: true, summary: true, evidenceDigest: true },
          })
        : null;
      report({ validationRunId, verdict: verdict?.verdict ?? null });
    }

    // 3. Put the node back, pass or fail.
    await restore(deps, work, { lease, hostname, key: keyOf('restore'), report });

    if (!verdict || !validationRunId) throw new PermanentValidateError('The staging validation run of this step is gone; retry the step');
    if (verdict.verdict !== 'pass') {
      const reason = `Candidate rejected on ${hostname}: ${verdict.summary ?? `verdict ${verdict.verdict}`}`;
      report({ phase: 'done', message: reason });
      throw new PermanentValidateError(reason);
    }

    // 4. A pass proposes the upgrade, bound to the artifact digest and the evidence digest.
    let proposalId: string | undefined;
    try {
      const proposal = await createUpgradeProposal(prisma, {
        artifactId: candidate.id,
        clusterId: cluster.id,
        origin: 'pipeline',
        validationRunId,
        pipelineRunId: step.runId,
        reason: `Validated on staging node ${hostname} by pipeline run ${step.runId}`,
      });
      proposalId = proposal.id;
      writer.log('info', `Upgrade proposal ${proposal.id} ${proposal.created ? 'created' : 'updated'} (${proposal.state})`);
    } catch (e) {
      // The candidate did pass; a refusal (an older revision than one already proposed, a fit check) is
      // reported on the step without undoing the verdict.
      writer.log('warn', `No upgrade proposal: ${e instanceof Error ? e.message : String(e)}`);
    }
    const message = `Candidate ${candidate.label} passed on ${hostname}${proposalId ? '; upgrade proposal waiting for approval' : ''}`;
    return {
      artifactId: candidate.id,
      progress: { ...progress, phase: 'done', message, proposalId, verdict: verdict.verdict },
      message,
    };
  } catch (err) {
    if (signal.aborted) {
      // Cancelled: stop the load if it is still open, seal the validation run as cancelled, put the node back.
      await cancelOpen(prisma, step.id, keyOf('load'), nodeId);
      if (validationRunId) {
        await prisma.validationRun.updateMany({
          where: { id: validationRunId, finishedAt: null },
          data: { cancelRequestedAt: new Date() },
        });
        await finaliseRun(prisma, validationRunId);
      }
      await restore(deps, work, { lease, hostname, key: keyOf('restore'), report }).catch((e: unknown) =>
        writer.log('error', `Could not put ${hostname} back after the cancel: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    throw err;
  } finally {
    clearInterval(renew);
  }
}

/** The artifact the step validates: what the named quantise or download step of the same run produced. */
async function findCandidate(prisma: PrismaClient, runId: string, ref: { kind: string; targetKey: string }) {
  const source = await prisma.pipelineStep.findFirst({
    where: { runId, kind: ref.kind as 'download' | 'quantise' | 'validate', targetKey: ref.targetKey },
    select: {
      state: true,
      artifact: {
        select: {
          id: true,
          digest: true,
          status: true,
          quantisation: true,
          revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
        },
      },
    },
  });
  const a = source?.artifact;
  if (!a || a.status !== 'ready')
    throw new PermanentValidateError(`The ${ref.kind} step "${ref.targetKey}" of this run produced no ready artifact to validate`);
  return {
    id: a.id,
    digest: a.digest,
    label: `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 12)} ${a.quantisation}`,
  };
}

function healthMessages(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((r) => (typeof r === 'string' ? r : typeof r?.message === 'string' ? r.message : JSON.stringify(r)));
}

type Report = (p: Partial<ValidateStepProgress>) => void;

/**
 * Takes the staging node's lease for this step, recording what to put back. Waits while another step holds
 * a live lease; restores the node from an expired one (its worker died) before taking it.
 */
async function takeLease(
  deps: ValidateStepDeps,
  work: StepWork,
  t: { nodeId: string; hostname: string; clusterId: string; candidate: { id: string; digest: string } },
  report: Report,
): Promise<LeaseRow> {
  const { prisma } = deps;
  const { step, signal, writer } = work;
  const ttlMs = deps.leaseTtlMs ?? STAGING_LEASE_TTL_MS;
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const now = new Date();
    const current = await prisma.stagingNodeLease.findUnique({ where: { nodeId: t.nodeId } });
    const decision = decideStagingLease({ lease: current, stepId: step.id, now });
    if (decision.action === 'resume') return current!;
    if (decision.action === 'wait') {
      report({
        phase: 'waiting_for_node',
        message: `Staging node ${t.hostname} is busy with another validation (step ${decision.holderStepId})`,
      });
      await sleep(Math.min(2_000, Math.max(100, decision.expiresAt.getTime() - now.getTime())), signal);
      continue;
    }
    if (decision.action === 'recover') {
      writer.log('warn', `The lease of step ${decision.holderStepId} on ${t.hostname} expired; putting the node back first`);
      await restore(deps, work, { lease: current!, hostname: t.hostname, key: null, report });
      continue;
    }
    const plan = await restorePlanFor(prisma, t.nodeId, t.clusterId, t.candidate);
    if (plan.kind === 'refuse') throw new PermanentValidateError(plan.reason);
    try {
      return await prisma.stagingNodeLease.create({
        data: {
          nodeId: t.nodeId,
          clusterId: t.clusterId,
          holderStepId: step.id,
          pipelineRunId: step.runId,
          candidateArtifactId: t.candidate.id,
          restoreKind: plan.kind,
          restoreArtifactId: plan.kind === 'load' ? plan.artifactId : null,
          restoreReason: plan.reason,
          acquiredAt: now,
          expiresAt: new Date(now.getTime() + ttlMs),
        },
      });
    } catch (e) {
      // Another step took it between the read and the insert: decide again.
      if (!isUniqueViolation(e)) throw e;
    }
  }
}

/** What to put back on the node afterwards, from what its agent last reported and its desired deployment. */
async function restorePlanFor(
  prisma: PrismaClient,
  nodeId: string,
  clusterId: string,
  candidate: { id: string; digest: string },
): Promise<RestorePlan> {
  const runtime = await prisma.nodeRuntimeState.findUnique({
    where: { nodeId },
    select: { engineState: true, servedArtifactDigest: true },
  });
  const labelOf = (a: { id: string; quantisation: string; revision: { commitSha: string; trackedRepo: { hubRepoId: string } } }) =>
    `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 12)} ${a.quantisation}`;
  const artifactSelect = {
    id: true,
    digest: true,
    quantisation: true,
    revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
  } as const;
  const served = runtime?.servedArtifactDigest
    ? await prisma.artifact.findUnique({ where: { digest: runtime.servedArtifactDigest }, select: artifactSelect })
    : null;
  const dep = await prisma.deployment.findFirst({
    where: { clusterId, state: 'active', OR: [{ nodeId }, { nodeId: null }] },
    orderBy: [{ nodeId: { sort: 'desc', nulls: 'last' } }, { startedAt: 'desc' }],
    select: { artifact: { select: artifactSelect } },
  });
  return planStagingRestore({
    runtime,
    servedArtifact: served ? { id: served.id, label: labelOf(served) } : null,
    desired: dep ? { id: dep.artifact.id, label: labelOf(dep.artifact), digest: dep.artifact.digest } : null,
    candidate,
  });
}

/**
 * Puts the node back as the lease recorded and releases the lease. `key` is the holder's own restore key;
 * null when recovering another step's expired lease (then the holder's key is tried first, so a restore
 * it already issued is not sent twice, and a new one is sent only if that one did not succeed).
 */
async function restore(
  deps: ValidateStepDeps,
  work: StepWork,
  r: { lease: LeaseRow; hostname: string; key: string | null; report: Report },
): Promise<void> {
  const { prisma } = deps;
  const { lease } = r;
  const holderKey = stagingCommandKey({
    runId: lease.pipelineRunId,
    stepId: lease.holderStepId,
    leaseAcquiredAt: lease.acquiredAt,
    purpose: 'restore',
  });
  r.report({ phase: 'restoring', message: `Putting ${r.hostname} back: ${lease.restoreReason}` });
  await prisma.stagingNodeLease.updateMany({
    where: { nodeId: lease.nodeId, holderStepId: lease.holderStepId },
    data: { phase: 'restoring' },
  });
  const command = await restoreCommandFor(prisma, lease);
  const issue = (dedupeKey: string) =>
    issueNodeCommand(prisma, {
      nodeId: lease.nodeId,
      command,
      origin: origin(r.key ? lease.holderStepId : work.step.id),
      artifactId: lease.restoreArtifactId,
      dedupeKey,
    });
  let cmd = await issue(r.key ?? holderKey);
  r.report({ restoreCommandId: cmd.id });
  // The restore must finish even when the step was cancelled: it is not aborted by the step's signal.
  let outcome = await waitUntilTerminal(deps, cmd.id);
  if (outcome.state !== 'succeeded' && !r.key) {
    cmd = await issue(`${holderKey}:recovered-by:${work.step.id}`);
    outcome = await waitUntilTerminal(deps, cmd.id);
  }
  if (outcome.state !== 'succeeded') {
    // The lease stays (in phase "restore_failed"): the node is not as it was found, an alert says so until it
    // is back, and the next step to want it recovers it once the lease expires.
    const reason = `${command.kind === 'stop_engine' ? 'stop engine' : 'load the previous artifact'} ${outcome.state}${outcome.error ? `: ${outcome.error}` : ''}`;
    await markRestoreFailed(prisma, lease, reason);
    const message = `Staging node ${r.hostname} could not be put back (${reason})`;
    r.report({ restoreError: reason, message });
    work.writer.log('error', message);
    throw new PermanentValidateError(message);
  }
  await prisma.stagingNodeLease.deleteMany({ where: { nodeId: lease.nodeId, holderStepId: lease.holderStepId } });
  work.writer.log('info', `Staging node ${r.hostname} put back (${lease.restoreReason})`);
}

/** Records on the lease that its restore failed and why: the failed-restore alert reads it. */
function markRestoreFailed(prisma: PrismaClient, lease: LeaseRow, reason: string) {
  return prisma.stagingNodeLease.updateMany({
    where: { nodeId: lease.nodeId, holderStepId: lease.holderStepId, acquiredAt: lease.acquiredAt },
    data: { phase: RESTORE_FAILED_PHASE, restoreError: reason },
  });
}

/** The command that puts a node back as its lease recorded: the artifact it served before, or a stopped engine. */
async function restoreCommandFor(prisma: PrismaClient, lease: LeaseRow): Promise<TAgentCommandBody> {
  if (lease.restoreKind === 'load' && lease.restoreArtifactId) {
    const artifact = await artifactRefFor(prisma, lease.restoreArtifactId);
    const launch = await engineLaunchSpecFor(prisma, { nodeId: lease.nodeId, artifactId: lease.restoreArtifactId });
    return { kind: 'load_artifact', payload: { artifact, launch, bandwidthMbps: null } };
  }
  const c = await prisma.cluster.findUnique({ where: { id: lease.clusterId }, select: { engineDrainSeconds: true } });
  return { kind: 'stop_engine', payload: { drainSeconds: c?.engineDrainSeconds ?? 30 } };
}

export interface StagingLeaseSweep {
  /** Restores sent (or still running) for abandoned leases. */
  restoring: number;
  /** Leases released after their node was put back. */
  released: number;
  /** Restores that failed: the lease stays, so the node is not handed to another candidate as if it were clean. */
  failed: string[];
}

/**
 * Puts back staging nodes whose step will not come back for them: the lease expired and its step is no
 * longer queued or running (it failed for good, was cancelled by the reconciler, or was deleted). Runs with
 * the node-command sweep; it never waits: it issues the holder's own restore (same dedupe key, so a restore
 * the step already sent is not sent twice) and releases the lease on a later pass once that succeeded. A
 * restore that failed is recorded on the lease (its alert opens); that lease is released once the node is
 * back as it was found.
 */
export async function sweepStagingLeases(prisma: PrismaClient, opts: { now?: Date; limit?: number } = {}): Promise<StagingLeaseSweep> {
  const now = opts.now ?? new Date();
  const out: StagingLeaseSweep = { restoring: 0, released: 0, failed: [] };
  // A node whose restore failed and that is back since (an operator loaded its artifact again): released.
  for (const r of await failedStagingRestores(prisma)) {
    if (!isStagingNodePutBack(r.target, r.runtime)) continue;
    const gone = await prisma.stagingNodeLease.deleteMany({
      where: { nodeId: r.nodeId, holderStepId: r.holderStepId, phase: RESTORE_FAILED_PHASE },
    });
    out.released += gone.count;
  }
  const expired = await prisma.stagingNodeLease.findMany({
    where: { expiresAt: { lte: now } },
    orderBy: { expiresAt: 'asc' },
    take: opts.limit ?? 100,
  });
  for (const lease of expired) {
    const holder = await prisma.pipelineStep.findUnique({ where: { id: lease.holderStepId }, select: { state: true } });
    // A queued or running step resumes its own lease when its job is delivered again.
    if (holder && (holder.state === 'queued' || holder.state === 'running')) continue;
    const key = stagingCommandKey({
      runId: lease.pipelineRunId,
      stepId: lease.holderStepId,
      leaseAcquiredAt: lease.acquiredAt,
      purpose: 'restore',
    });
    const existing = await prisma.nodeCommand.findUnique({
      where: { nodeId_dedupeKey: { nodeId: lease.nodeId, dedupeKey: key } },
      select: { id: true, state: true, error: true },
    });
    if (existing?.state === 'succeeded') {
      const gone = await prisma.stagingNodeLease.deleteMany({
        where: { nodeId: lease.nodeId, holderStepId: lease.holderStepId, acquiredAt: lease.acquiredAt },
      });
      out.released += gone.count;
      continue;
    }
    if (existing && isTerminalCommandState(existing.state)) {
      const reason = `restore ${existing.state}${existing.error ? `: ${existing.error}` : ''}`;
      out.failed.push(`${lease.nodeId}: ${reason}`);
      // Its step died before it could say so: the lease records it, and the alert opens.
      if (lease.phase !== RESTORE_FAILED_PHASE) await markRestoreFailed(prisma, lease, reason);
      continue;
    }
    if (!existing) {
      await prisma.stagingNodeLease.updateMany({
        where: { nodeId: lease.nodeId, holderStepId: lease.holderStepId },
        data: { phase: 'restoring' },
      });
      await issueNodeCommand(prisma, {
        nodeId: lease.nodeId,
        command: await restoreCommandFor(prisma, lease),
        origin: origin(lease.holderStepId),
        artifactId: lease.restoreArtifactId,
        dedupeKey: key,
      });
    }
    out.restoring += 1;
  }
  return out;
}

/** The staging validation run of this step's current lease, created once. */
async function stagingRunFor(
  prisma: PrismaClient,
  i: {
    clusterId: string;
    nodeId: string;
    candidateId: string;
    runId: string;
    stepId: string;
    since: Date;
    endpointUrl: string;
    servedModelName: string;
  },
): Promise<string> {
  return prisma.$transaction(async (tx) => {
    // Serialises two deliveries of the same job: the step row is the lock.
    await lockRow(tx, 'pipeline_step', i.stepId);
    const existing = await tx.validationRun.findFirst({
      where: { pipelineStepId: i.stepId, createdAt: { gte: i.since } },
      orderBy: { createdAt: 'desc' },
      select: { id: true },
    });
    if (existing) return existing.id;
    const created = await createStagingValidationRun(tx, {
      clusterId: i.clusterId,
      nodeId: i.nodeId,
      artifactId: i.candidateId,
      pipelineRunId: i.runId,
      pipelineStepId: i.stepId,
      endpointUrl: i.endpointUrl,
      servedModelName: i.servedModelName,
    });
    return created.id;
  });
}

/** Cancels the step's load if it is still open (audited under the step's name); a finished one is left alone. */
async function cancelOpen(prisma: PrismaClient, stepId: string, dedupeKey: string, nodeId: string) {
  const c = await prisma.nodeCommand.findUnique({ where: { nodeId_dedupeKey: { nodeId, dedupeKey } }, select: { id: true, state: true } });
  if (!c || isTerminalCommandState(c.state)) return;
  await cancelNodeCommand({ prisma, actor: { type: 'system', id: null, label: origin(stepId) } }, c.id).catch(() => undefined);
}

/** Waits for a command's outcome in slices (Postgres is the truth, so a new worker simply waits again). */
async function waitUntilTerminal(deps: ValidateStepDeps, commandId: string, signal?: AbortSignal): Promise<NodeCommandOutcome> {
  for (;;) {
    const o = await waitForNodeCommand(deps.prisma, commandId, { timeoutMs: deps.commandWaitSliceMs ?? 30_000, signal });
    if (isTerminalCommandState(o.state)) return o;
    if (signal?.aborted) throw signal.reason;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
