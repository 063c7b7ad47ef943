import { ROLES } from '@fleetplane/contracts';
import { describe, expect, it } from 'vitest';
import {
  approvalValidity,
  checkCanDecide,
  countValidApprovals,
  expiresSoon,
  isExpired,
  proposalExpiresAt,
  rolloutReadiness,
  stateAfterApprovals,
  type TApprovalRecord,
} from './approvals';

const now = new Date('2026-12-03T08:00:00Z');
const later = new Date('2026-12-10T08:00:00Z');
const open = { state: 'pending_approval' as const, requesterIds: ['op'], expiresAt: later };

describe('who may decide', () => {
  it('allows approvers and admins who did not request it', () => {
    expect(checkCanDecide({ userId: 'a', role: 'approver' }, open, now)).toEqual({ ok: true });
    expect(checkCanDecide({ userId: 'b', role: 'admin' }, open, now)).toEqual({ ok: true });
  });

  it('refuses viewers and operators', () => {
    for (const role of ['viewer', 'operator'] as const) {
      const r = checkCanDecide({ userId: 'x', role }, open, now);
      expect(r).toMatchObject({ ok: false, kind: 'forbidden' });
    }
  });

  it('refuses self-approval for every role, admins included', () => {
    for (const role of ROLES) {
      const r = checkCanDecide({ userId: 'op', role }, open, now);
      expect(r).toMatchObject({ ok: false, kind: 'forbidden', reason: expect.stringContaining('separation of duties') });
    }
  });

  it('refuses the person who started the pipeline run behind a pipeline proposal', () => {
    const r = checkCanDecide({ userId: 'starter', role: 'admin' }, { ...open, requesterIds: ['starter'] }, now);
    expect(r).toMatchObject({ ok: false, kind: 'forbidden' });
  });

  it('refuses decisions without evidence, on final proposals and after expiry', () => {
    const d = { userId: 'a', role: 'approver' as const };
    expect(checkCanDecide(d, { ...open, state: 'pending_validation' }, now)).toMatchObject({ ok: false, kind: 'precondition' });
    for (const state of ['rejected', 'expired', 'voided', 'rolled_out'] as const)
      expect(checkCanDecide(d, { ...open, state }, now)).toMatchObject({ ok: false, kind: 'precondition' });
    expect(checkCanDecide(d, { ...open, expiresAt: now }, now)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    // A further approval on an approved proposal (e.g. when more are required) is allowed.
    expect(checkCanDecide(d, { ...open, state: 'approved' }, now)).toEqual({ ok: true });
  });
});

describe('approvals bound to digests', () => {
  const binding = { artifactDigest: 'sha256:art', evidenceDigest: 'sha256:ev1' };
  const ok: TApprovalRecord = { approverId: 'a', decision: 'approve', ...binding };

  it('counts an approval on the current artifact and evidence digests', () => {
    expect(approvalValidity(ok, binding, ['op'])).toMatchObject({ counts: true });
    expect(countValidApprovals([ok, { ...ok, approverId: 'b' }], binding, ['op'])).toBe(2);
  });

  it('stops counting when the evidence digest changes', () => {
    expect(approvalValidity(ok, { ...binding, evidenceDigest: 'sha256:ev2' }, ['op'])).toEqual({
      counts: false,
      reason: 'given on different evidence',
    });
    expect(approvalValidity(ok, { ...binding, evidenceDigest: null }, ['op']).counts).toBe(false);
  });

  it('stops counting when the artifact digest changes', () => {
    expect(approvalValidity(ok, { ...binding, artifactDigest: 'sha256:other' }, ['op']).counts).toBe(false);
  });

  it('never counts rejections or the requester', () => {
    expect(approvalValidity({ ...ok, decision: 'reject' }, binding, ['op']).counts).toBe(false);
    expect(approvalValidity({ ...ok, approverId: 'op' }, binding, ['op']).counts).toBe(false);
  });

  it('moves between pending approval and approved with the count', () => {
    expect(stateAfterApprovals('pending_approval', 1, 1)).toBe('approved');
    expect(stateAfterApprovals('pending_approval', 1, 2)).toBe('pending_approval');
    expect(stateAfterApprovals('approved', 0, 1)).toBe('pending_approval');
    expect(stateAfterApprovals('pending_approval', 0, 0)).toBe('pending_approval');
    expect(stateAfterApprovals('rejected', 5, 1)).toBe('rejected');
    expect(stateAfterApprovals('pending_validation', 5, 1)).toBe('pending_validation');
  });
});

describe('expiry', () => {
  it('defaults to seven days and honours the cluster setting', () => {
    expect(proposalExpiresAt(now).toISOString()).toBe('2026-12-10T08:00:00.000Z');
    expect(proposalExpiresAt(now, 2).toISOString()).toBe('2026-12-05T08:00:00.000Z');
  });

  it('warns within the last day and stops warning once expired', () => {
    expect(expiresSoon(new Date(now.getTime() + 23 * 3600_000), now)).toBe(true);
    expect(expiresSoon(new Date(now.getTime() + 25 * 3600_000), now)).toBe(false);
    expect(expiresSoon(now, now)).toBe(false);
    expect(isExpired(now, now)).toBe(true);
    expect(isExpired(new Date(now.getTime() + 1), now)).toBe(false);
  });
});

describe('rollout readiness', () => {
  const ready = {
    state: 'approved' as const,
    expiresAt: later,
    validApprovals: 1,
    approvalsRequired: 1,
    artifactAvailable: true,
    compatibilityRefusal: null,
  };

  it('is ready when approved with enough valid approvals', () => {
    expect(rolloutReadiness(ready, now)).toEqual({ approvedEnough: true, reasons: [] });
  });

  it('says every reason it is not', () => {
    const r = rolloutReadiness(
      {
        ...ready,
        state: 'pending_approval',
        validApprovals: 0,
        approvalsRequired: 2,
        artifactAvailable: false,
        compatibilityRefusal: 'GGUF on vLLM',
      },
      now,
    );
    expect(r.approvedEnough).toBe(false);
    expect(r.reasons).toEqual([
      'The proposal is pending approval, not approved.',
      'It has 0 valid approvals of the 2 the cluster requires (approvals count only on the current artifact and evidence digests).',
      'The artifact is no longer available.',
      'GGUF on vLLM',
    ]);
    expect(rolloutReadiness({ ...ready, expiresAt: now }, now).reasons).toEqual([`It expired at ${now.toISOString()}.`]);
  });
});
