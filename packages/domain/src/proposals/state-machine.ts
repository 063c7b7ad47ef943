import type { TProposalState } from '@fleetplane/contracts';

/**
 * Proposal lifecycle. Open states can still be decided or superseded; the others are final.
 * approved -> pending_approval happens when the evidence or artifact the approvals were bound to changes
 * (the approvals stop counting, so the proposal needs them again).
 */
const TRANSITIONS: Record<TProposalState, readonly TProposalState[]> = {
  pending_validation: ['pending_approval', 'rejected', 'expired', 'voided'],
  pending_approval: ['pending_validation', 'approved', 'rejected', 'expired', 'voided'],
  approved: ['pending_approval', 'rejected', 'expired', 'voided', 'rolled_out'],
  rejected: [],
  expired: [],
  voided: [],
  rolled_out: [],
};

export const OPEN_PROPOSAL_STATES = ['pending_validation', 'pending_approval', 'approved'] as const satisfies readonly TProposalState[];

export function isOpenProposalState(state: TProposalState): boolean {
  return (OPEN_PROPOSAL_STATES as readonly TProposalState[]).includes(state);
}

export function canProposalTransition(from: TProposalState, to: TProposalState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class ProposalTransitionError extends Error {
  override readonly name = 'ProposalTransitionError';
  constructor(
    readonly from: TProposalState,
    readonly to: TProposalState,
  ) {
    super(`A proposal that is ${from.replace('_', ' ')} cannot become ${to.replace('_', ' ')}`);
  }
}

export function assertProposalTransition(from: TProposalState, to: TProposalState): void {
  if (!canProposalTransition(from, to)) throw new ProposalTransitionError(from, to);
}
