import { describe, expect, it } from 'vitest';
import { proposalNotificationJob } from '../jobs/proposals.job';
import { ZClusterApprovalPolicyInput, ZCreateProposalInput, ZProposalListInput, ZRejectProposalInput } from './proposals.schema';

describe('proposal contracts', () => {
  it('a rejection needs a reason', () => {
    expect(ZRejectProposalInput.safeParse({ id: 'p1', reason: '   ' }).success).toBe(false);
    expect(ZRejectProposalInput.parse({ id: 'p1', reason: ' TTFT regressed ' }).reason).toBe('TTFT regressed');
  });

  it('the approval policy needs at least one approval and a bounded expiry', () => {
    const ok = { clusterId: 'c1', approvalsRequired: 1, proposalExpiryDays: 7, gatingSuiteName: null };
    expect(ZClusterApprovalPolicyInput.safeParse(ok).success).toBe(true);
    expect(ZClusterApprovalPolicyInput.safeParse({ ...ok, approvalsRequired: 0 }).success).toBe(false);
    expect(ZClusterApprovalPolicyInput.safeParse({ ...ok, proposalExpiryDays: 0 }).success).toBe(false);
  });

  it('list and create inputs have their defaults', () => {
    expect(ZProposalListInput.parse({})).toMatchObject({ page: 1, sortBy: 'createdAt', sortDir: 'desc' });
    expect(ZProposalListInput.safeParse({ state: 'merged' }).success).toBe(false);
    expect(ZCreateProposalInput.parse({ artifactId: 'a', clusterId: 'c' })).toEqual({ artifactId: 'a', clusterId: 'c' });
  });

  it('the webhook job id is one per decision and safe for BullMQ', () => {
    const id = proposalNotificationJob.jobId!({ proposalId: 'p:1', event: 'approved', key: 'a1', detail: '' });
    expect(id).toBe('proposal-p_3a1-approved-a1');
    expect(id).not.toContain(':');
  });
});
