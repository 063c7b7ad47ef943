import { PROPOSAL_STATES } from '@fleetplane/contracts';
import { describe, expect, it } from 'vitest';
import { assertProposalTransition, canProposalTransition, isOpenProposalState, ProposalTransitionError } from './state-machine';

describe('proposal state machine', () => {
  it('lets open proposals be decided, expire or be voided', () => {
    expect(canProposalTransition('pending_validation', 'pending_approval')).toBe(true);
    expect(canProposalTransition('pending_approval', 'approved')).toBe(true);
    expect(canProposalTransition('pending_approval', 'rejected')).toBe(true);
    expect(canProposalTransition('approved', 'rolled_out')).toBe(true);
    for (const from of ['pending_validation', 'pending_approval', 'approved'] as const) {
      expect(canProposalTransition(from, 'expired')).toBe(true);
      expect(canProposalTransition(from, 'voided')).toBe(true);
    }
  });

  it('drops an approved proposal back to pending approval when its approvals stop counting', () => {
    expect(canProposalTransition('approved', 'pending_approval')).toBe(true);
  });

  it('never rolls out what is not approved', () => {
    for (const from of PROPOSAL_STATES.filter((s) => s !== 'approved')) expect(canProposalTransition(from, 'rolled_out')).toBe(false);
  });

  it('keeps final states final', () => {
    for (const from of ['rejected', 'expired', 'voided', 'rolled_out'] as const) {
      expect(isOpenProposalState(from)).toBe(false);
      for (const to of PROPOSAL_STATES) expect(canProposalTransition(from, to)).toBe(false);
    }
  });

  it('throws a readable error for a refused transition', () => {
    expect(() => assertProposalTransition('rejected', 'approved')).toThrow(ProposalTransitionError);
    expect(() => assertProposalTransition('rejected', 'approved')).toThrow('A proposal that is rejected cannot become approved');
    expect(() => assertProposalTransition('pending_approval', 'approved')).not.toThrow();
  });
});
