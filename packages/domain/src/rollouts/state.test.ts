import { describe, expect, it } from 'vitest';
import { ROLLOUT_STATES } from '@fleetplane/contracts';
import { canTransition, isTerminalRollout, operatorAction, rolloutRefusals } from './state';

describe('rollout state machine', () => {
  it('terminal states go nowhere; every live state can roll back or pause', () => {
    for (const s of ROLLOUT_STATES) {
      if (isTerminalRollout(s)) expect(ROLLOUT_STATES.some((t) => canTransition(s, t))).toBe(false);
    }
    for (const s of ['prefetching', 'canary', 'analysing', 'waves'] as const) {
      expect(canTransition(s, 'rolling_back')).toBe(true);
      expect(canTransition(s, 'paused')).toBe(true);
    }
    expect(canTransition('analysing', 'succeeded')).toBe(true);
    expect(canTransition('canary', 'succeeded')).toBe(false);
    expect(canTransition('rolling_back', 'rolled_back')).toBe(true);
  });
});

describe('operatorAction', () => {
  it('pause / resume return to where it was', () => {
    expect(operatorAction('waves', null, 'pause')).toEqual({ ok: true, to: 'paused' });
    expect(operatorAction('paused', 'waves', 'resume')).toEqual({ ok: true, to: 'waves' });
    expect(operatorAction('paused', 'waves', 'pause')).toMatchObject({ ok: false });
    expect(operatorAction('canary', null, 'resume')).toEqual({ ok: false, why: 'the rollout is not paused' });
  });
  it('promote only in an analysis window', () => {
    expect(operatorAction('analysing', null, 'promote')).toEqual({ ok: true, to: 'analysing' });
    expect(operatorAction('paused', 'analysing', 'promote')).toEqual({ ok: true, to: 'analysing' });
    expect(operatorAction('canary', null, 'promote')).toMatchObject({ ok: false });
  });
  it('abort rolls back; nothing acts on an ended or rolling-back rollout', () => {
    expect(operatorAction('canary', null, 'abort')).toEqual({ ok: true, to: 'rolling_back' });
    expect(operatorAction('succeeded', null, 'abort')).toEqual({ ok: false, why: 'the rollout has already ended (succeeded)' });
    expect(operatorAction('rolling_back', null, 'pause')).toEqual({ ok: false, why: 'the rollout is rolling back' });
  });
});

describe('rolloutRefusals', () => {
  const ok = {
    proposalState: 'approved',
    approvedEnough: true,
    approvalReasons: [],
    unfitReasons: [],
    activeRolloutId: null,
    nodeCount: 3,
    kind: 'upgrade' as const,
  };
  it('allows an approved proposal on an idle cluster', () => {
    expect(rolloutRefusals(ok)).toEqual([]);
  });
  it('says why for each refusal', () => {
    expect(
      rolloutRefusals({
        ...ok,
        proposalState: 'pending_approval',
        approvedEnough: false,
        approvalReasons: ['1 of 2 approvals.'],
        unfitReasons: ['needs 8 GPUs with 80 GiB'],
        activeRolloutId: 'r1',
        nodeCount: 0,
      }),
    ).toEqual([
      'the cluster already has a rollout in progress (r1); one at a time',
      'the proposal is pending approval, not approved',
      'not enough valid approvals: 1 of 2 approvals',
      'the artifact does not fit this cluster: needs 8 GPUs with 80 GiB',
      'the cluster has no nodes to roll out to',
    ]);
  });
  it('a rollback to approved evidence needs no new approval but still one at a time', () => {
    expect(rolloutRefusals({ ...ok, kind: 'rollback', proposalState: 'rolled_out', approvedEnough: false })).toEqual([]);
    expect(rolloutRefusals({ ...ok, kind: 'rollback', activeRolloutId: 'r2' })).toHaveLength(1);
  });
});
