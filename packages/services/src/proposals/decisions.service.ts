import {
  ZApproveProposalInput,
  ZProposalEvidence,
  ZRejectProposalInput,
  type TApproveProposalInput,
  type TProposalState,
  type TRejectProposalInput,
  type TRole,
} from '@fleetplane/contracts';
import type { AuditActor, Db, PrismaClient } from '@fleetplane/db';
import {
  assertProposalTransition,
  checkCanDecide,
  compatibilityRefusal,
  countValidApprovals,
  rolloutReadiness,
  stateAfterApprovals,
} from '@fleetplane/domain';
import { SYSTEM_ACTOR, type ServiceContext } from '../context';
import { forbidden, notFound, precondition, type ServiceError } from '../errors';
import { dispatchOutbox } from '../outbox/outbox.service';
import { inTransaction, lockProposal, recordDecision, requesterIdsOf } from './proposal-support';

const DECISION_SELECT = {
  id: true,
  state: true,
  clusterId: true,
  artifactId: true,
  artifactDigest: true,
  evidenceDigest: true,
  evidence: true,
  expiresAt: true,
  requestedById: true,
  pipelineRun: { select: { triggeredById: true } },
  cluster: { select: { name: true, approvalsRequired: true } },
  artifact: { select: { digest: true, status: true } },
  approvals: { select: { approverId: true, decision: true, artifactDigest: true, evidenceDigest: true } },
} as const;

async function decider(tx: Db, actor: AuditActor): Promise<{ userId: string; role: TRole }> {
  if (actor.type !== 'user' || !actor.id) throw forbidden('Only a signed-in approver can decide on a proposal.');
  // The role is read again inside the transaction: a demotion a moment ago counts.
  const user = await tx.user.findUnique({ where: { id: actor.id }, select: { id: true, role: true, disabledAt: true } });
  if (!user || user.disabledAt) throw forbidden('Your account cannot decide on proposals.');
  return { userId: user.id, role: user.role };
}

function decisionError(check: { reason: string; kind: 'forbidden' | 'precondition' }): ServiceError {
  return check.kind === 'forbidden' ? forbidden(check.reason) : precondition(check.reason);
}

/**
 * Approves on the proposal's current artifact and evidence digests. The row is locked FOR UPDATE, so two
 * approvers deciding at once are counted one after the other and the proposal flips to approved exactly
 * when enough valid approvals exist. Approving again (on new evidence) replaces the person's earlier decision.
 */
export async function approveProposal(ctx: ServiceContext, input: TApproveProposalInput, now: Date = new Date()) {
  const data = ZApproveProposalInput.parse(input);
  const result = await ctx.prisma.$transaction(async (tx) => {
    if (!(await lockProposal(tx, data.id))) throw notFound('Proposal', data.id);
    const who = await decider(tx, ctx.actor);
    const p = await tx.upgradeProposal.findUniqueOrThrow({ where: { id: data.id }, select: DECISION_SELECT });
    const requesterIds = requesterIdsOf(p);
    const check = checkCanDecide(who, { state: p.state, requesterIds, expiresAt: p.expiresAt }, now);
    if (!check.ok) throw decisionError(check);
    const binding = { artifactDigest: p.artifactDigest, evidenceDigest: p.evidenceDigest };
    const approval = await tx.approval.upsert({
      where: { proposalId_approverId: { proposalId: p.id, approverId: who.userId } },
      create: { proposalId: p.id, approverId: who.userId, decision: 'approve', comment: data.comment ?? '', ...binding, createdAt: now },
      update: { decision: 'approve', comment: data.comment ?? '', ...binding, createdAt: now },
      select: { id: true },
    });
    const approvals = await tx.approval.findMany({
      where: { proposalId: p.id },
      select: { approverId: true, decision: true, artifactDigest: true, evidenceDigest: true },
    });
    const valid = countValidApprovals(approvals, binding, requesterIds);
    const state = stateAfterApprovals(p.state, valid, p.cluster.approvalsRequired);
    if (state !== p.state) {
      assertProposalTransition(p.state, state);
      await tx.upgradeProposal.update({ where: { id: p.id }, data: { state, decidedAt: state === 'approved' ? now : null } });
    }
    await recordDecision(
      tx,
      ctx.actor,
      {
        action: 'proposal.approve',
        targetId: p.id,
        before: { state: p.state },
        after: {
          state,
          approvalId: approval.id,
          ...binding,
          validApprovals: valid,
          approvalsRequired: p.cluster.approvalsRequired,
          comment: data.comment ?? '',
        },
      },
      {
        event: 'approved',
        detail: `${valid} of ${p.cluster.approvalsRequired} approval${p.cluster.approvalsRequired === 1 ? '' : 's'}${data.comment ? `: ${data.comment}` : ''}`,
      },
    );
    return { id: p.id, state, validApprovals: valid, approvalsRequired: p.cluster.approvalsRequired };
  });
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return result;
}

/** Rejects with a reason; one approver's rejection ends the proposal. */
export async function rejectProposal(ctx: ServiceContext, input: TRejectProposalInput, now: Date = new Date()) {
  const data = ZRejectProposalInput.parse(input);
  const result = await ctx.prisma.$transaction(async (tx) => {
    if (!(await lockProposal(tx, data.id))) throw notFound('Proposal', data.id);
    const who = await decider(tx, ctx.actor);
    const p = await tx.upgradeProposal.findUniqueOrThrow({ where: { id: data.id }, select: DECISION_SELECT });
    const check = checkCanDecide(who, { state: p.state, requesterIds: requesterIdsOf(p), expiresAt: p.expiresAt }, now);
    if (!check.ok) throw decisionError(check);
    assertProposalTransition(p.state, 'rejected');
    await tx.approval.upsert({
      where: { proposalId_approverId: { proposalId: p.id, approverId: who.userId } },
      create: {
        proposalId: p.id,
        approverId: who.userId,
        decision: 'reject',
        comment: data.reason,
        artifactDigest: p.artifactDigest,
        evidenceDigest: p.evidenceDigest,
        createdAt: now,
      },
      update: {
        decision: 'reject',
        comment: data.reason,
        artifactDigest: p.artifactDigest,
        evidenceDigest: p.evidenceDigest,
        createdAt: now,
      },
    });
    await tx.upgradeProposal.update({ where: { id: p.id }, data: { state: 'rejected', stateReason: data.reason, decidedAt: now } });
    await recordDecision(
      tx,
      ctx.actor,
      { action: 'proposal.reject', targetId: p.id, before: { state: p.state }, after: { state: 'rejected', reason: data.reason } },
      { event: 'rejected', detail: data.reason },
    );
    return { id: p.id, state: 'rejected' as const };
  });
  if (ctx.producer) await dispatchOutbox(ctx.prisma, ctx.producer).catch(() => undefined);
  return result;
}

export interface TProposalDecisionState {
  proposalId: string;
  state: TProposalState;
  clusterId: string;
  artifactId: string;
  artifactDigest: string;
  evidenceDigest: string | null;
  approvalsRequired: number;
  validApprovals: number;
  /** True when a rollout may start: approved, enough approvals on the current digests, not expired, not refused. */
  approvedEnough: boolean;
  /** Why not, one sentence each (empty when approvedEnough). */
  reasons: string[];
}

/** What a rollout asks before it starts (and what the proposal page shows as "ready to roll out"). */
export async function getProposalDecisionState(
  db: Db | PrismaClient,
  proposalId: string,
  now: Date = new Date(),
): Promise<TProposalDecisionState> {
  const p = await db.upgradeProposal.findUnique({ where: { id: proposalId }, select: DECISION_SELECT });
  if (!p) throw notFound('Proposal', proposalId);
  const requesterIds = requesterIdsOf(p);
  // The artifact row's own digest, not the copy on the proposal: if the bytes changed, the approvals are void.
  const binding = { artifactDigest: p.artifact.digest, evidenceDigest: p.evidenceDigest };
  const valid = p.artifact.digest === p.artifactDigest ? countValidApprovals(p.approvals, binding, requesterIds) : 0;
  const evidence = ZProposalEvidence.safeParse(p.evidence);
  const refusal = evidence.success ? compatibilityRefusal(evidence.data.compatibility, p.cluster.name) : null;
  const readiness = rolloutReadiness(
    {
      state: p.state,
      expiresAt: p.expiresAt,
      validApprovals: valid,
      approvalsRequired: p.cluster.approvalsRequired,
      artifactAvailable: p.artifact.status === 'ready',
      compatibilityRefusal: refusal,
    },
    now,
  );
  return {
    proposalId: p.id,
    state: p.state,
    clusterId: p.clusterId,
    artifactId: p.artifactId,
    artifactDigest: p.artifactDigest,
    evidenceDigest: p.evidenceDigest,
    approvalsRequired: p.cluster.approvalsRequired,
    validApprovals: valid,
    ...readiness,
  };
}

/**
 * Marks an approved proposal rolled out once its rollout finished (called by the rollout in its own
 * transaction). Idempotent: a proposal already rolled out stays so.
 */
export async function markProposalRolledOut(
  db: Db | PrismaClient,
  proposalId: string,
  rolloutId: string,
  options: { actor?: AuditActor; now?: Date } = {},
): Promise<{ id: string; state: 'rolled_out'; changed: boolean }> {
  const now = options.now ?? new Date();
  return inTransaction(db, async (tx) => {
    if (!(await lockProposal(tx, proposalId))) throw notFound('Proposal', proposalId);
    const p = await tx.upgradeProposal.findUniqueOrThrow({ where: { id: proposalId }, select: { id: true, state: true } });
    if (p.state === 'rolled_out') return { id: p.id, state: 'rolled_out' as const, changed: false };
    if (p.state !== 'approved')
      throw precondition(`The proposal is ${p.state.replace('_', ' ')}; only an approved proposal can be rolled out.`);
    await tx.upgradeProposal.update({ where: { id: p.id }, data: { state: 'rolled_out', decidedAt: now } });
    await recordDecision(
      tx,
      options.actor ?? SYSTEM_ACTOR,
      { action: 'proposal.rolled_out', targetId: p.id, before: { state: p.state }, after: { state: 'rolled_out', rolloutId } },
      { event: 'rolled_out', detail: `Rollout ${rolloutId} finished.` },
    );
    return { id: p.id, state: 'rolled_out' as const, changed: true };
  });
}
