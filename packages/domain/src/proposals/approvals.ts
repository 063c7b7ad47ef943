import type { TProposalState, TRole } from '@fleetplane/contracts';

/** Roles that may approve or reject a proposal. Operators request; they never decide. */
export const DECIDING_ROLES: readonly TRole[] = ['approver', 'admin'];

export interface TDecider {
  userId: string;
  role: TRole;
}

export interface TProposalForDecision {
  state: TProposalState;
  /** Everyone who counts as having asked for it: the requesting operator, or for a pipeline proposal the person who started the run. */
  requesterIds: readonly string[];
  expiresAt: Date;
}

export type TDecisionCheck = { ok: true } | { ok: false; reason: string; kind: 'forbidden' | 'precondition' };

/**
 * Whether this person may approve or reject the proposal now. Separation of duties: nobody decides on
 * their own request, admins included.
 */
export function checkCanDecide(decider: TDecider, proposal: TProposalForDecision, now: Date): TDecisionCheck {
  // The requester hears about separation of duties first, whatever their role: that is the rule they meet.
  if (proposal.requesterIds.includes(decider.userId))
    return {
      ok: false,
      kind: 'forbidden',
      reason: 'You requested this upgrade, so someone else must decide on it (separation of duties).',
    };
  if (!DECIDING_ROLES.includes(decider.role))
    return { ok: false, kind: 'forbidden', reason: `Only approvers and admins decide on proposals; your role is ${decider.role}.` };
  if (proposal.state === 'pending_validation')
    return {
      ok: false,
      kind: 'precondition',
      reason: 'The proposal is waiting for its validation run; there is no evidence to decide on yet.',
    };
  if (proposal.state !== 'pending_approval' && proposal.state !== 'approved')
    return { ok: false, kind: 'precondition', reason: `The proposal is ${proposal.state.replace('_', ' ')}; it can no longer be decided.` };
  if (isExpired(proposal.expiresAt, now))
    return { ok: false, kind: 'precondition', reason: `The proposal expired at ${proposal.expiresAt.toISOString()}.` };
  return { ok: true };
}

export interface TApprovalRecord {
  approverId: string;
  decision: 'approve' | 'reject';
  artifactDigest: string;
  evidenceDigest: string | null;
}

export interface TBinding {
  artifactDigest: string;
  evidenceDigest: string | null;
}

/** Why one approval does or does not count towards the proposal's current evidence. */
export function approvalValidity(
  approval: TApprovalRecord,
  binding: TBinding,
  requesterIds: readonly string[],
): { counts: boolean; reason: string } {
  if (approval.decision !== 'approve') return { counts: false, reason: 'a rejection' };
  if (requesterIds.includes(approval.approverId)) return { counts: false, reason: 'given by the requester' };
  if (approval.artifactDigest !== binding.artifactDigest) return { counts: false, reason: 'given on a different artifact digest' };
  if (binding.evidenceDigest === null || approval.evidenceDigest !== binding.evidenceDigest)
    return { counts: false, reason: 'given on different evidence' };
  return { counts: true, reason: 'bound to the current artifact and evidence' };
}

export function countValidApprovals(approvals: readonly TApprovalRecord[], binding: TBinding, requesterIds: readonly string[]): number {
  return approvals.filter((a) => approvalValidity(a, binding, requesterIds).counts).length;
}

/**
 * The state an open proposal should be in given its approvals: approved once enough approvals bound to
 * the current digests exist, back to pending_approval when some stopped counting.
 */
export function stateAfterApprovals(state: TProposalState, validApprovals: number, approvalsRequired: number): TProposalState {
  if (state !== 'pending_approval' && state !== 'approved') return state;
  return validApprovals >= Math.max(1, approvalsRequired) ? 'approved' : 'pending_approval';
}

export const DEFAULT_PROPOSAL_EXPIRY_DAYS = 7;
const DAY_MS = 86_400_000;
export const EXPIRES_SOON_MS = DAY_MS;

export function proposalExpiresAt(createdAt: Date, expiryDays: number = DEFAULT_PROPOSAL_EXPIRY_DAYS): Date {
  return new Date(createdAt.getTime() + Math.max(1, expiryDays) * DAY_MS);
}

export function isExpired(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() <= now.getTime();
}

/** The dashboard warns a day before a proposal expires. */
export function expiresSoon(expiresAt: Date, now: Date): boolean {
  const left = expiresAt.getTime() - now.getTime();
  return left > 0 && left <= EXPIRES_SOON_MS;
}

export interface TReadinessInput {
  state: TProposalState;
  expiresAt: Date;
  validApprovals: number;
  approvalsRequired: number;
  /** The artifact can still be served from (not deleted / failed). */
  artifactAvailable: boolean;
  /** From compatibilityRefusal over the proposal's compatibility snapshot; null = no refusal. */
  compatibilityRefusal: string | null;
}

/** What a rollout asks before starting: enough valid approvals, not expired, not refused. Every reason says why not. */
export function rolloutReadiness(input: TReadinessInput, now: Date): { approvedEnough: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (input.state !== 'approved') reasons.push(`The proposal is ${input.state.replace('_', ' ')}, not approved.`);
  if (input.validApprovals < Math.max(1, input.approvalsRequired))
    reasons.push(
      `It has ${input.validApprovals} valid approval${input.validApprovals === 1 ? '' : 's'} of the ${input.approvalsRequired} the cluster requires (approvals count only on the current artifact and evidence digests).`,
    );
  if (isOpenState(input.state) && isExpired(input.expiresAt, now)) reasons.push(`It expired at ${input.expiresAt.toISOString()}.`);
  if (!input.artifactAvailable) reasons.push('The artifact is no longer available.');
  if (input.compatibilityRefusal) reasons.push(input.compatibilityRefusal);
  return { approvedEnough: reasons.length === 0, reasons };
}

function isOpenState(state: TProposalState): boolean {
  return state === 'pending_validation' || state === 'pending_approval' || state === 'approved';
}
