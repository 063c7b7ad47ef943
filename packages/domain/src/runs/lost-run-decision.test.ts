import { describe, expect, it } from 'vitest';
import { decideLostRun, isFreshHeartbeat, latestOf, type LostRunFacts } from './lost-run-decision';

const now = new Date('2026-12-02T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const base: LostRunFacts = {
  outboxPending: false,
  jobLive: false,
  cancelRequested: false,
  units: [{ state: 'queued', heartbeatAt: null }],
  requeues: 0,
  maxRequeues: 3,
  now,
  heartbeatStaleMs: 60_000,
  lastActivityAt: ago(10 * 60_000),
  idleGraceMs: 60_000,
};

describe('decideLostRun', () => {
  it('queues a run again when Redis holds none of its jobs and no worker is on it', () => {
    expect(decideLostRun(base)).toEqual({ action: 'requeue' });
    expect(
      decideLostRun({
        ...base,
        units: [
          { state: 'succeeded', heartbeatAt: ago(5 * 60_000) },
          { state: 'pending', heartbeatAt: null },
        ],
      }),
    ).toEqual({ action: 'requeue' });
  });

  it('leaves a run whose start message is still in the outbox', () => {
    expect(decideLostRun({ ...base, outboxPending: true })).toEqual({ action: 'leave', why: 'outbox_pending' });
  });

  it('leaves a run that moved within the grace period', () => {
    expect(decideLostRun({ ...base, lastActivityAt: ago(59_000) })).toEqual({ action: 'leave', why: 'recently_active' });
    expect(decideLostRun({ ...base, lastActivityAt: ago(60_000) })).toEqual({ action: 'requeue' });
  });

  it('leaves a run with a live job (waiting, delayed, active, waiting for children)', () => {
    expect(decideLostRun({ ...base, jobLive: true })).toEqual({ action: 'leave', why: 'job_live' });
  });

  it('does not start a unit again while a worker still runs it in memory (fresh heartbeat), however long its job is gone', () => {
    const running = { state: 'running', heartbeatAt: ago(5_000) };
    expect(decideLostRun({ ...base, units: [running] })).toEqual({ action: 'leave', why: 'worker_busy' });
    // Even with cancel requested: the worker sees the request itself and ends the unit.
    expect(decideLostRun({ ...base, cancelRequested: true, units: [running] })).toEqual({ action: 'leave', why: 'worker_busy' });
  });

  it('queues again a unit whose worker went quiet (stale heartbeat or none)', () => {
    expect(decideLostRun({ ...base, units: [{ state: 'running', heartbeatAt: ago(61_000) }] })).toEqual({ action: 'requeue' });
    expect(decideLostRun({ ...base, units: [{ state: 'running', heartbeatAt: null }] })).toEqual({ action: 'requeue' });
  });

  it('settles a run whose units all ended, or whose cancel was requested', () => {
    expect(
      decideLostRun({
        ...base,
        units: [
          { state: 'succeeded', heartbeatAt: null },
          { state: 'skipped', heartbeatAt: null },
        ],
      }),
    ).toEqual({ action: 'settle' });
    expect(decideLostRun({ ...base, cancelRequested: true })).toEqual({ action: 'settle' });
  });

  it('fails a run whose jobs were lost too often, saying so, instead of queueing it forever', () => {
    const d = decideLostRun({ ...base, requeues: 3 });
    expect(d.action).toBe('fail');
    expect(d.action === 'fail' && d.reason).toMatch(/lost 4 times/);
    expect(decideLostRun({ ...base, requeues: 2 })).toEqual({ action: 'requeue' });
  });
});

describe('isFreshHeartbeat / latestOf', () => {
  it('counts only running units with a recent heartbeat', () => {
    expect(isFreshHeartbeat({ state: 'running', heartbeatAt: ago(1_000) }, now, 60_000)).toBe(true);
    expect(isFreshHeartbeat({ state: 'queued', heartbeatAt: ago(1_000) }, now, 60_000)).toBe(false);
    expect(isFreshHeartbeat({ state: 'running', heartbeatAt: ago(60_000) }, now, 60_000)).toBe(false);
  });
  it('takes the newest date and ignores nulls', () => {
    expect(latestOf(ago(5), null, ago(1), undefined, ago(3))).toEqual(ago(1));
    expect(latestOf(null).getTime()).toBe(0);
  });
});
