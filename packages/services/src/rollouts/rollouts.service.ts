import {
  readRolloutPolicy,
  ZRollbackToDeploymentInput,
  ZRolloutActionInput,
  ZRolloutListInput,
  ZStartRolloutInput,
  ZUpdateRolloutPolicyInput,
  type TRolloutKind,
  type TRollbackToDeploymentInput,
  type TRolloutActionInput,
  type TRolloutListInput,
  type TRolloutState,
  type TStartRolloutInput,
  type TUpdateRolloutPolicyInput,
} from '@fleetplane/contracts';
import type { Prisma, PrismaClient } from '@fleetplane/db';
import { operatorAction, planRollout, rollbackArtifactFor, rolloutRefusals, type RolloutAction } from '@fleetplane/domain';
import { SYSTEM_ACTOR, withAudit, type AuditActor, type ServiceContext } from '../context';
import { conflict, isUniqueViolation, notFound, precondition } from '../errors';
import { unfitReasons } from '../capacity/compatibility.service';
import { getProposalDecisionState } from '../proposals/decisions.service';
import { advanceRollouts, stepPassed, type RolloutTickOptions } from './rollout-tick.service';
import { lockRow } from '../shared/locks.sql';

type Read = Pick<ServiceContext, 'prisma'>;
const userId = (actor: AuditActor) => (actor.type === 'user' ? actor.id : null);

interface RolloutTarget {
  clusterId: string;
  artifactId: string;
  proposalId: string | null;
  targetDeploymentId: string | null;
  kind: TRolloutKind;
  reason: string;
}

/**
 * Creates the rollout, its per-node plan and the cluster-wide deployment row in one transaction, after the
 * refusal checks. The cluster row is locked first, so two starts for one cluster are decided one after the
 * other; the unique active_cluster_id is the last word if anything slips past.
 */
async function createRollout(
  ctx: ServiceContext,
  target: RolloutTarget,
  proposalFacts: { state: string; approvedEnough: boolean; reasons: string[] },
) {
  const unfit = await unfitReasons(ctx, target.artifactId, target.clusterId);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      await lockRow(tx, 'cluster', target.clusterId);
      const cluster = await tx.cluster.findUnique({
        where: { id: target.clusterId },
        select: {
          id: true,
          rolloutPolicy: true,
          nodes: { select: { id: true, hostname: true, labels: true }, orderBy: { hostname: 'asc' } },
        },
      });
      if (!cluster) throw notFound('Cluster', target.clusterId);
      const active = await tx.rollout.findUnique({ where: { activeClusterId: target.clusterId }, select: { id: true } });
      const refusals = rolloutRefusals({
        proposalState: proposalFacts.state,
        approvedEnough: proposalFacts.approvedEnough,
        approvalReasons: proposalFacts.reasons,
        unfitReasons: unfit,
        activeRolloutId: active?.id ?? null,
        nodeCount: cluster.nodes.length,
        kind: target.kind,
      });
      if (refusals.length) throw precondition(`Rollout refused: ${refusals.join('; ')}.`);
      const policy = readRolloutPolicy(cluster.rolloutPolicy);
      const plan = planRollout(
        cluster.nodes.map((n) => ({ id: n.id, preferCanary: (n.labels as Record<string, unknown> | null)?.canary === 'true' })),
        policy,
      );
      const previousCluster = await tx.deployment.findFirst({
        where: { clusterId: target.clusterId, nodeId: null, state: 'active' },
        orderBy: { startedAt: 'desc' },
        select: { id: true, artifactId: true },
      });
      const nodeIds = cluster.nodes.map((n) => n.id);
      const nodeActive = await tx.deployment.findMany({
        where: { nodeId: { in: nodeIds }, state: 'active' },
        orderBy: { startedAt: 'desc' },
        select: { nodeId: true, artifactId: true },
      });
      const nodeDeployment = new Map<string, string>();
      for (const d of nodeActive) if (d.nodeId && !nodeDeployment.has(d.nodeId)) nodeDeployment.set(d.nodeId, d.artifactId);
      // What each engine really serves, for nodes no rollout has touched yet (they have no deployment of their own).
      const runtime = await tx.nodeRuntimeState.findMany({
        where: { nodeId: { in: nodeIds } },
        select: { nodeId: true, engineState: true, servedArtifactDigest: true },
      });
      const servedDigests = runtime.flatMap((r) => (r.servedArtifactDigest ? [r.servedArtifactDigest] : []));
      const servedArtifacts = servedDigests.length
        ? await tx.artifact.findMany({ where: { digest: { in: servedDigests } }, select: { id: true, digest: true } })
        : [];
      const artifactByDigest = new Map(servedArtifacts.map((a) => [a.digest, a.id]));
      const runtimeByNode = new Map(runtime.map((r) => [r.nodeId, r]));
      const previousArtifact = new Map<string, string | null>();
      for (const nodeId of nodeIds) {
        const r = runtimeByNode.get(nodeId);
        previousArtifact.set(
          nodeId,
          rollbackArtifactFor({
            nodeDeploymentArtifactId: nodeDeployment.get(nodeId) ?? null,
            reportedArtifactId: r?.servedArtifactDigest ? (artifactByDigest.get(r.servedArtifactDigest) ?? null) : null,
            reportedServingNothing: !!r && !r.servedArtifactDigest && (r.engineState === 'stopped' || r.engineState === 'failed'),
            clusterDeploymentArtifactId: previousCluster?.artifactId ?? null,
          }),
        );
      }
      const rollout = await tx.rollout.create({
        data: {
          clusterId: target.clusterId,
          activeClusterId: target.clusterId,
          kind: target.kind,
          proposalId: target.proposalId,
          targetDeploymentId: target.targetDeploymentId,
          artifactId: target.artifactId,
          stepCount: plan.steps.length,
          policy,
          reason: target.reason,
          requestedById: userId(ctx.actor),
          nodes: {
            create: plan.steps.flatMap((ids, step) =>
              ids.map((nodeId) => ({ nodeId, step, previousArtifactId: previousArtifact.get(nodeId) ?? null })),
            ),
          },
        },
      });
      await tx.deployment.create({
        data: {
          clusterId: target.clusterId,
          artifactId: target.artifactId,
          proposalId: target.proposalId,
          previousDeploymentId: previousCluster?.id ?? null,
          state: 'rolling_out',
          startedById: userId(ctx.actor),
          rolloutId: rollout.id,
        },
      });
      await audit({
        action: target.kind === 'rollback' ? 'rollout.rollback.start' : 'rollout.start',
        targetType: 'rollout',
        targetId: rollout.id,
        after: {
          clusterId: target.clusterId,
          artifactId: target.artifactId,
          proposalId: target.proposalId,
          targetDeploymentId: target.targetDeploymentId,
          steps: plan.steps.length,
        },
      });
      return { id: rollout.id, state: rollout.state as TRolloutState, steps: plan.steps };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('Rollout refused: the cluster already has a rollout in progress; one at a time.');
    throw err;
  }
}

/** Rolls out an approved proposal (operator, or the system when the cluster's policy says so). */
export async function startRollout(ctx: ServiceContext, input: TStartRolloutInput) {
  const { proposalId } = ZStartRolloutInput.parse(input);
  const proposal = await ctx.prisma.upgradeProposal.findUnique({
    where: { id: proposalId },
    select: { id: true, clusterId: true, artifactId: true, state: true },
  });
  if (!proposal) throw notFound('Proposal', proposalId);
  const decision = await getProposalDecisionState(ctx.prisma, proposalId);
  return createRollout(
    ctx,
    {
      clusterId: proposal.clusterId,
      artifactId: proposal.artifactId,
      proposalId,
      targetDeploymentId: null,
      kind: 'upgrade',
      reason: 'starting',
    },
    { state: proposal.state, approvedEnough: decision.approvedEnough, reasons: decision.reasons },
  );
}

/**
 * Rolls a cluster back to an earlier deployment's artifact: no new approval (that evidence was approved),
 * the same prefetch / canary / waves / analysis machinery.
 */
export async function rollbackToDeployment(ctx: ServiceContext, input: TRollbackToDeploymentInput) {
  const { deploymentId, reason } = ZRollbackToDeploymentInput.parse(input);
  const d = await ctx.prisma.deployment.findUnique({
    where: { id: deploymentId },
    select: { id: true, clusterId: true, artifactId: true, proposalId: true, artifact: { select: { status: true } } },
  });
  if (!d) throw notFound('Deployment', deploymentId);
  if (d.artifact.status !== 'ready')
    throw precondition(`Rollback refused: the deployment's artifact is ${d.artifact.status}, it can no longer be served.`);
  return createRollout(
    ctx,
    {
      clusterId: d.clusterId,
      artifactId: d.artifactId,
      proposalId: d.proposalId,
      targetDeploymentId: d.id,
      kind: 'rollback',
      reason: `rollback: ${reason}`,
    },
    { state: 'approved', approvedEnough: true, reasons: [] },
  );
}

/** Pause, resume, promote or abort, by an operator; audited with the state before and after. */
export async function actOnRollout(ctx: ServiceContext, action: RolloutAction, input: TRolloutActionInput) {
  const { id, reason } = ZRolloutActionInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    await lockRow(tx, 'rollout', id);
    const r = await tx.rollout.findUnique({ where: { id } });
    if (!r) throw notFound('Rollout', id);
    const decided = operatorAction(r.state, r.pausedFrom, action);
    if (!decided.ok) throw precondition(`Cannot ${action}: ${decided.why}.`);
    const who = ctx.actor.label;
    const because = reason ? `: ${reason}` : '';
    const now = new Date();
    if (action === 'pause')
      await tx.rollout.update({ where: { id }, data: { state: 'paused', pausedFrom: r.state, reason: `paused by ${who}${because}` } });
    else if (action === 'resume')
      await tx.rollout.update({
        where: { id },
        // An analysis window restarts on resume: checks taken before the pause say nothing about now.
        data: {
          state: decided.to,
          pausedFrom: null,
          reason: `resumed by ${who}${because}`,
          ...(decided.to === 'analysing' ? { windowStartedAt: now } : {}),
        },
      });
    else if (action === 'promote') await stepPassed(tx, r, now, `promoted by ${who}${because}`);
    else
      await tx.rollout.update({
        where: { id },
        data: { state: 'rolling_back', rollbackOutcome: 'aborted', pausedFrom: null, reason: `aborted by ${who}${because}` },
      });
    const after = await tx.rollout.findUniqueOrThrow({ where: { id }, select: { state: true, currentStep: true } });
    await audit({
      action: `rollout.${action}`,
      targetType: 'rollout',
      targetId: id,
      before: { state: r.state, currentStep: r.currentStep },
      after: { ...after, reason: reason ?? null },
    });
    return { id, state: after.state };
  });
}

export async function updateRolloutPolicy(ctx: ServiceContext, input: TUpdateRolloutPolicyInput) {
  const { clusterId, policy } = ZUpdateRolloutPolicyInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.cluster.findUnique({ where: { id: clusterId }, select: { rolloutPolicy: true } });
    if (!before) throw notFound('Cluster', clusterId);
    await tx.cluster.update({ where: { id: clusterId }, data: { rolloutPolicy: policy } });
    await audit({
      action: 'cluster.rollout_policy.update',
      targetType: 'cluster',
      targetId: clusterId,
      before: readRolloutPolicy(before.rolloutPolicy),
      after: policy,
    });
    return policy;
  });
}

export async function getRolloutPolicy(ctx: Read, clusterId: string) {
  const c = await ctx.prisma.cluster.findUnique({ where: { id: clusterId }, select: { rolloutPolicy: true } });
  if (!c) throw notFound('Cluster', clusterId);
  return readRolloutPolicy(c.rolloutPolicy);
}

/**
 * Clusters whose policy rolls out on approval: every approved proposal there that never had a rollout is
 * started by the system. A refusal (another rollout in progress) is left for a later pass.
 */
export async function autoRolloutApproved(prisma: PrismaClient): Promise<{ started: string[] }> {
  const candidates = await prisma.upgradeProposal.findMany({
    where: { state: 'approved', rollouts: { none: {} }, cluster: { rolloutPolicy: { path: ['autoRolloutOnApproval'], equals: true } } },
    orderBy: { decidedAt: 'asc' },
    select: { id: true },
  });
  const started: string[] = [];
  for (const p of candidates) {
    try {
      started.push((await startRollout({ prisma, actor: SYSTEM_ACTOR }, { proposalId: p.id })).id);
    } catch {
      // Refused now (one at a time, approvals no longer valid): looked at again next pass.
    }
  }
  return { started };
}

export async function listRollouts(ctx: Read, input: TRolloutListInput) {
  const q = ZRolloutListInput.parse(input);
  const where: Prisma.RolloutWhereInput = {
    ...(q.clusterId ? { clusterId: q.clusterId } : {}),
    ...(q.state ? { state: q.state } : {}),
    ...(q.search
      ? {
          OR: [{ cluster: { name: { contains: q.search, mode: 'insensitive' } } }, { reason: { contains: q.search, mode: 'insensitive' } }],
        }
      : {}),
  };
  const [rows, total] = await Promise.all([
    ctx.prisma.rollout.findMany({
      where,
      orderBy: [{ [q.sortBy]: q.sortBy === 'finishedAt' ? { sort: q.sortDir, nulls: 'last' } : q.sortDir }, { id: 'asc' }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: {
        cluster: { select: { id: true, name: true } },
        artifact: { select: artifactSelect },
        requestedBy: { select: { name: true, email: true } },
        _count: { select: { nodes: true } },
      },
    }),
    ctx.prisma.rollout.count({ where }),
  ]);
  return {
    items: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      state: r.state,
      cluster: r.cluster,
      artifact: artifactView(r.artifact),
      currentStep: r.currentStep,
      stepCount: r.stepCount,
      nodeCount: r._count.nodes,
      reason: r.reason,
      requestedBy: r.requestedBy?.name ?? (r.requestedById ? null : 'system'),
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
    })),
    total,
    page: q.page,
    pageSize: q.pageSize,
  };
}

const artifactSelect = {
  id: true,
  digest: true,
  quantisation: true,
  status: true,
  revision: { select: { id: true, commitSha: true, commitTitle: true, trackedRepo: { select: { hubRepoId: true } } } },
} as const;

function artifactView(a: {
  id: string;
  digest: string;
  quantisation: string;
  status: string;
  revision: { id: string; commitSha: string; commitTitle: string; trackedRepo: { hubRepoId: string } };
}) {
  return {
    id: a.id,
    digest: a.digest,
    quantisation: a.quantisation,
    status: a.status,
    repo: a.revision.trackedRepo.hubRepoId,
    revisionId: a.revision.id,
    commitSha: a.revision.commitSha,
    label: `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 7)} ${a.quantisation}`,
  };
}

/** The rollout page: plan with each node's state and commands, and every analysis check with its thresholds. */
export async function getRollout(ctx: Read, id: string) {
  const r = await ctx.prisma.rollout.findUnique({
    where: { id },
    include: {
      cluster: { select: { id: true, name: true } },
      artifact: { select: artifactSelect },
      requestedBy: { select: { name: true, email: true } },
      proposal: { select: { id: true, state: true } },
      nodes: {
        include: {
          node: { select: { id: true, hostname: true, lastSeenAt: true, health: true } },
          previousArtifact: { select: artifactSelect },
        },
        orderBy: [{ step: 'asc' }, { nodeId: 'asc' }],
      },
      analyses: { orderBy: [{ step: 'asc' }, { checkNo: 'asc' }] },
    },
  });
  if (!r) throw notFound('Rollout', id);
  const commandIds = r.nodes.flatMap((n) => [n.prefetchCommandId, n.loadCommandId, n.rollbackCommandId]).filter((x): x is string => !!x);
  const commands = new Map(
    (
      await ctx.prisma.nodeCommand.findMany({
        where: { id: { in: commandIds } },
        select: { id: true, kind: true, state: true, error: true, progress: true },
      })
    ).map((c) => [c.id, c]),
  );
  const cmd = (cid: string | null) => (cid ? (commands.get(cid) ?? null) : null);
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    pausedFrom: r.pausedFrom,
    cluster: r.cluster,
    artifact: artifactView(r.artifact),
    proposal: r.proposal,
    targetDeploymentId: r.targetDeploymentId,
    currentStep: r.currentStep,
    stepCount: r.stepCount,
    windowStartedAt: r.windowStartedAt,
    policy: readRolloutPolicy(r.policy),
    reason: r.reason,
    requestedBy: r.requestedBy?.name ?? (r.requestedById ? null : 'system'),
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    nodes: r.nodes.map((n) => ({
      nodeId: n.nodeId,
      hostname: n.node.hostname,
      health: n.node.health,
      step: n.step,
      state: n.state,
      error: n.error,
      previousArtifact: n.previousArtifact ? artifactView(n.previousArtifact) : null,
      prefetch: cmd(n.prefetchCommandId),
      load: cmd(n.loadCommandId),
      rollback: cmd(n.rollbackCommandId),
    })),
    analyses: r.analyses.map((a) => ({
      step: a.step,
      checkNo: a.checkNo,
      passed: a.passed,
      metrics: a.metrics as Record<string, unknown>,
      failures: a.failures,
      notes: a.notes,
      thresholds: a.thresholds as Record<string, number | null>,
      measuredAt: a.measuredAt,
    })),
  };
}

const approvalsSelect = {
  where: { decision: 'approve' as const },
  select: { approver: { select: { name: true, email: true } }, createdAt: true, comment: true },
  orderBy: { createdAt: 'asc' as const },
};

/** A cluster's deployments, newest first: artifact, revision, who requested and approved, evidence, outcome. */
export async function clusterDeploymentHistory(ctx: Read, input: { clusterId: string; limit?: number }) {
  const rows = await ctx.prisma.deployment.findMany({
    where: { clusterId: input.clusterId, nodeId: null },
    orderBy: { startedAt: 'desc' },
    take: input.limit ?? 50,
    include: {
      artifact: { select: artifactSelect },
      startedBy: { select: { name: true } },
      rollout: { select: { id: true, kind: true, state: true, reason: true } },
      proposal: {
        select: {
          id: true,
          origin: true,
          evidenceDigest: true,
          validationRunId: true,
          requestedBy: { select: { name: true } },
          approvals: approvalsSelect,
        },
      },
    },
  });
  return rows.map((d) => ({
    id: d.id,
    state: d.state,
    startedAt: d.startedAt,
    endedAt: d.endedAt,
    startedBy: d.startedBy?.name ?? 'system',
    artifact: artifactView(d.artifact),
    rollout: d.rollout,
    proposal: d.proposal
      ? {
          id: d.proposal.id,
          requestedBy: d.proposal.requestedBy?.name ?? (d.proposal.origin === 'pipeline' ? 'pipeline' : null),
          approvedBy: d.proposal.approvals.map((a) => a.approver.name),
          evidenceDigest: d.proposal.evidenceDigest,
          validationRunId: d.proposal.validationRunId,
        }
      : null,
    // A rollback may target any earlier deployment whose artifact can still be served.
    canRollBackTo: d.artifact.status === 'ready' && d.state !== 'rolling_out',
  }));
}

/** "What runs on node X, built from what, approved by whom, on what evidence." */
export async function nodeProvenance(ctx: Read, nodeId: string) {
  const node = await ctx.prisma.node.findUnique({ where: { id: nodeId }, select: { id: true, hostname: true, runtimeState: true } });
  if (!node) throw notFound('Node', nodeId);
  // The node's own deployment; a node no rollout has touched yet runs its cluster's active deployment.
  const own = await ctx.prisma.deployment.findFirst({
    where: { nodeId, state: 'active' },
    orderBy: { startedAt: 'desc' },
    select: { id: true },
  });
  const clusterId = (await ctx.prisma.node.findUniqueOrThrow({ where: { id: nodeId }, select: { clusterId: true } })).clusterId;
  const d = await ctx.prisma.deployment.findFirst({
    where: own ? { id: own.id } : { clusterId, nodeId: null, state: 'active' },
    orderBy: { startedAt: 'desc' },
    include: {
      artifact: {
        select: {
          ...artifactSelect,
          recipe: true,
          producedByRun: { select: { id: true, createdAt: true } },
        },
      },
      rollout: { select: { id: true, kind: true, state: true, finishedAt: true } },
      startedBy: { select: { name: true } },
      proposal: {
        select: {
          id: true,
          origin: true,
          evidenceDigest: true,
          requestedBy: { select: { name: true } },
          approvals: approvalsSelect,
          validationRun: { select: { id: true, verdict: true, finishedAt: true, suite: { select: { name: true, version: true } } } },
        },
      },
    },
  });
  const served = node.runtimeState?.servedArtifactDigest ?? null;
  return {
    nodeId: node.id,
    hostname: node.hostname,
    deployment: d
      ? {
          id: d.id,
          since: d.startedAt,
          startedBy: d.startedBy?.name ?? 'system',
          artifact: { ...artifactView(d.artifact), recipe: d.artifact.recipe, pipelineRunId: d.artifact.producedByRun?.id ?? null },
          rollout: d.rollout,
          proposal: d.proposal
            ? {
                id: d.proposal.id,
                requestedBy: d.proposal.requestedBy?.name ?? (d.proposal.origin === 'pipeline' ? 'pipeline' : null),
                approvals: d.proposal.approvals.map((a) => ({ by: a.approver.name, at: a.createdAt, comment: a.comment })),
                evidenceDigest: d.proposal.evidenceDigest,
                validationRun: d.proposal.validationRun,
              }
            : null,
        }
      : null,
    // What the agent says the engine serves, against what the deployment says it should.
    servedDigest: served,
    drift: d && served ? served !== d.artifact.digest : false,
  };
}

/** The repeatable job's one call: start what the policy rolls out by itself, then advance every live rollout. */
export async function runRolloutTick(prisma: PrismaClient, opts: RolloutTickOptions = {}) {
  const auto = await autoRolloutApproved(prisma);
  const { advanced } = await advanceRollouts(prisma, opts);
  return { autoStarted: auto.started, advanced };
}
