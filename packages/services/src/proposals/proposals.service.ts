import {
  ZClusterApprovalPolicyInput,
  ZCreateProposalInput,
  ZProposalEvidence,
  ZProposalListInput,
  type TClusterApprovalPolicyInput,
  type TCreateProposalInput,
  type TProposalListInput,
} from '@fleetplane/contracts';
import type { Prisma } from '@fleetplane/db';
import { approvalValidity, checkCanDecide, expiresSoon, sealProposalEvidence, EXPIRES_SOON_MS } from '@fleetplane/domain';
import { withAudit, type ServiceContext } from '../context';
import { invalid, notFound } from '../errors';
import { dispatchOutbox } from '../outbox/outbox.service';
import { compareValidationRun } from '../validation/runs.service';
import { createUpgradeProposal } from './create-proposal.service';
import { getProposalDecisionState } from './decisions.service';
import { openStates, requesterIdsOf } from './proposal-support';

type Read = Pick<ServiceContext, 'prisma'>;

function artifactLabel(a: { quantisation: string; revision: { commitSha: string; trackedRepo: { hubRepoId: string } } }) {
  return `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 7)} ${a.quantisation}`;
}

export async function listProposals(ctx: Read, input: TProposalListInput, now: Date = new Date()) {
  const q = ZProposalListInput.parse(input);
  const where: Prisma.UpgradeProposalWhereInput = {
    ...(q.clusterId ? { clusterId: q.clusterId } : {}),
    ...(q.state ? { state: q.state } : q.openOnly ? { state: { in: openStates() } } : {}),
    ...(q.search
      ? {
          OR: [
            { cluster: { name: { contains: q.search, mode: 'insensitive' } } },
            { artifact: { revision: { trackedRepo: { hubRepoId: { contains: q.search, mode: 'insensitive' } } } } },
            { artifact: { quantisation: { contains: q.search, mode: 'insensitive' } } },
          ],
        }
      : {}),
  };
  const [rows, total, expiringSoon] = await Promise.all([
    ctx.prisma.upgradeProposal.findMany({
      where,
      orderBy: [{ [q.sortBy]: q.sortDir }, { id: 'asc' }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      select: {
        id: true,
        state: true,
        origin: true,
        createdAt: true,
        expiresAt: true,
        decidedAt: true,
        cluster: { select: { id: true, name: true, approvalsRequired: true } },
        requestedBy: { select: { name: true } },
        artifact: {
          select: { id: true, quantisation: true, revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } } },
        },
        validationRun: { select: { id: true, verdict: true } },
        artifactDigest: true,
        evidenceDigest: true,
        requestedById: true,
        pipelineRun: { select: { triggeredById: true } },
        approvals: { select: { approverId: true, decision: true, artifactDigest: true, evidenceDigest: true } },
      },
    }),
    ctx.prisma.upgradeProposal.count({ where }),
    ctx.prisma.upgradeProposal.count({
      where: { state: { in: openStates() }, expiresAt: { gt: now, lte: new Date(now.getTime() + EXPIRES_SOON_MS) } },
    }),
  ]);
  const items = rows.map((r) => {
    const requesterIds = requesterIdsOf(r);
    const binding = { artifactDigest: r.artifactDigest, evidenceDigest: r.evidenceDigest };
    return {
      id: r.id,
      state: r.state,
      origin: r.origin,
      cluster: { id: r.cluster.id, name: r.cluster.name },
      artifact: { id: r.artifact.id, label: artifactLabel(r.artifact) },
      requestedBy: r.requestedBy?.name ?? (r.origin === 'pipeline' ? 'pipeline' : null),
      validationVerdict: r.validationRun?.verdict ?? null,
      approvals: {
        valid: r.approvals.filter((a) => approvalValidity(a, binding, requesterIds).counts).length,
        required: r.cluster.approvalsRequired,
      },
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      decidedAt: r.decidedAt,
      expiresSoon: openStates().includes(r.state) && expiresSoon(r.expiresAt, now),
    };
  });
  return { items, total, page: q.page, pageSize: q.pageSize, expiringSoon };
}

/** The proposal page: the evidence in one place, the approvals and whether the caller may decide. */
export async function getProposal(ctx: Read & Pick<ServiceContext, 'actor'>, id: string, now: Date = new Date()) {
  const p = await ctx.prisma.upgradeProposal.findUnique({
    where: { id },
    include: {
      cluster: {
        select: { id: true, name: true, servingEngine: true, engineVersion: true, approvalsRequired: true, proposalExpiryDays: true },
      },
      requestedBy: { select: { id: true, name: true, email: true } },
      pipelineRun: { select: { id: true, state: true, triggeredById: true, triggeredBy: { select: { name: true } } } },
      artifact: {
        include: {
          revision: {
            include: {
              trackedRepo: { select: { id: true, hubRepoId: true } },
              previousRevision: { select: { id: true, commitSha: true } },
            },
          },
          producedByRun: { select: { id: true, state: true, summary: true } },
        },
      },
      validationRun: {
        select: {
          id: true,
          state: true,
          verdict: true,
          summary: true,
          evidenceDigest: true,
          finishedAt: true,
          suite: { select: { name: true, version: true } },
        },
      },
      approvals: { include: { approver: { select: { id: true, name: true } } }, orderBy: { createdAt: 'asc' } },
      // Its rollouts, newest first: the page links to them (a rolled-back upgrade may be tried again).
      rollouts: { select: { id: true, kind: true, state: true, createdAt: true }, orderBy: { createdAt: 'desc' } },
    },
  });
  if (!p) throw notFound('Proposal', id);
  const requesterIds = requesterIdsOf(p);
  const binding = { artifactDigest: p.artifactDigest, evidenceDigest: p.evidenceDigest };
  const evidence = ZProposalEvidence.safeParse(p.evidence);
  const recomputedDigest = evidence.success ? sealProposalEvidence(evidence.data).digest : null;
  const baseline = p.validationRun ? await compareValidationRun(ctx, p.validationRun.id) : null;
  const decision = await getProposalDecisionState(ctx.prisma, p.id, now);
  let viewer: { canDecide: boolean; reason: string | null } = { canDecide: false, reason: 'Sign in as an approver to decide.' };
  if (ctx.actor.type === 'user' && ctx.actor.id) {
    const me = await ctx.prisma.user.findUnique({ where: { id: ctx.actor.id }, select: { id: true, role: true } });
    if (me) {
      const check = checkCanDecide({ userId: me.id, role: me.role }, { state: p.state, requesterIds, expiresAt: p.expiresAt }, now);
      viewer = check.ok ? { canDecide: true, reason: null } : { canDecide: false, reason: check.reason };
    }
  }
  const a = p.artifact;
  const rev = a.revision;
  return {
    id: p.id,
    state: p.state,
    stateReason: p.stateReason,
    reason: p.reason,
    origin: p.origin,
    createdAt: p.createdAt,
    decidedAt: p.decidedAt,
    expiresAt: p.expiresAt,
    expiresSoon: openStates().includes(p.state) && expiresSoon(p.expiresAt, now),
    requestedBy: p.requestedBy ? { id: p.requestedBy.id, name: p.requestedBy.name } : null,
    pipelineRun: p.pipelineRun
      ? { id: p.pipelineRun.id, state: p.pipelineRun.state, triggeredBy: p.pipelineRun.triggeredBy?.name ?? null }
      : null,
    cluster: p.cluster,
    artifact: {
      id: a.id,
      label: artifactLabel(a),
      digest: a.digest,
      boundDigest: p.artifactDigest,
      format: a.format,
      quantisation: a.quantisation,
      sizeBytes: a.sizeBytes.toString(),
      status: a.status,
      // Lineage: the recipe (tool, version, params, quality measurements when the quantiser recorded them) and the run.
      recipe: (a.recipe ?? null) as Record<string, unknown> | null,
      producedByRun: a.producedByRun,
      createdAt: a.createdAt,
    },
    revision: {
      id: rev.id,
      repo: rev.trackedRepo.hubRepoId,
      commitSha: rev.commitSha,
      commitTitle: rev.commitTitle,
      committedAt: rev.committedAt,
      changeClass: rev.changeClass,
      diff: rev.diff as { added?: string[]; removed?: string[]; changed?: string[] },
      previousCommitSha: rev.previousRevision?.commitSha ?? null,
    },
    validation: p.validationRun ? { ...p.validationRun, comparison: baseline?.comparison ?? null } : null,
    compatibility: evidence.success ? evidence.data.compatibility : null,
    evidenceDigest: p.evidenceDigest,
    evidenceVerified: recomputedDigest !== null && recomputedDigest === p.evidenceDigest,
    approvals: p.approvals.map((ap) => ({
      id: ap.id,
      approver: ap.approver.name,
      decision: ap.decision,
      comment: ap.comment,
      createdAt: ap.createdAt,
      ...approvalValidity(ap, binding, requesterIds),
    })),
    decision,
    rollouts: p.rollouts,
    viewer,
  };
}

/** An operator asks for an upgrade; they can never approve it themselves. */
export async function requestUpgradeProposal(ctx: ServiceContext, input: TCreateProposalInput) {
  const data = ZCreateProposalInput.parse(input);
  const result = await createUpgradeProposal(
    ctx.prisma,
    {
      artifactId: data.artifactId,
      clusterId: data.clusterId,
      origin: 'operator',
      validationRunId: data.validationRunId ?? null,
      requestedById: ctx.actor.type === 'user' ? ctx.actor.id : null,
      reason: data.reason ?? '',
    },
    { actor: ctx.actor },
  );
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return result;
}

/** Admin: how many approvals a cluster's proposals need, how long they live, which suite gates them. */
export async function updateClusterApprovalPolicy(ctx: ServiceContext, input: TClusterApprovalPolicyInput) {
  const data = ZClusterApprovalPolicyInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.cluster.findUnique({
      where: { id: data.clusterId },
      select: { approvalsRequired: true, proposalExpiryDays: true, gatingSuiteName: true },
    });
    if (!before) throw notFound('Cluster', data.clusterId);
    if (data.gatingSuiteName && !(await tx.validationSuite.findFirst({ where: { name: data.gatingSuiteName }, select: { id: true } })))
      throw invalid(`There is no validation suite named "${data.gatingSuiteName}"`, 'gatingSuiteName');
    const after = {
      approvalsRequired: data.approvalsRequired,
      proposalExpiryDays: data.proposalExpiryDays,
      gatingSuiteName: data.gatingSuiteName,
    };
    await tx.cluster.update({ where: { id: data.clusterId }, data: after });
    await audit({ action: 'cluster.approval_policy.update', targetType: 'cluster', targetId: data.clusterId, before, after });
    return { id: data.clusterId, ...after };
  });
}
