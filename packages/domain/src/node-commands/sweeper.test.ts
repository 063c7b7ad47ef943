import { describe, expect, it } from 'vitest';
import { AGENT_SILENT_ERROR, DEFAULT_SWEEP_SETTINGS, sweepDecision, type SweepCandidate } from './sweeper';

const now = new Date('2026-12-03T08:00:00.000Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const future = new Date(now.getTime() + 3600_000);
const base: SweepCandidate = { state: 'queued', deadlineAt: future, deliveredAt: null, heartbeatAt: null };

describe('sweepDecision', () => {
  it('expires any open command past its deadline, before anything else', () => {
    for (const state of ['queued', 'delivered', 'running'] as const) {
      const d = sweepDecision({ ...base, state, deadlineAt: now, deliveredAt: ago(600), heartbeatAt: ago(600) }, now);
      expect(d?.action).toBe('expire');
      expect(d && 'error' in d ? d.error : '').toContain(`while ${state}`);
    }
  });

  it('leaves a fresh queued command alone', () => {
    expect(sweepDecision(base, now)).toBeNull();
  });

  it('fails a running command whose agent went silent, not one that reported recently', () => {
    const silent = DEFAULT_SWEEP_SETTINGS.silentAfterSeconds;
    expect(sweepDecision({ ...base, state: 'running', heartbeatAt: ago(silent - 1) }, now)).toBeNull();
    const d = sweepDecision({ ...base, state: 'running', heartbeatAt: ago(silent) }, now);
    expect(d).toEqual({ action: 'fail_silent', to: 'failed', error: `${AGENT_SILENT_ERROR} for ${silent} s` });
  });

  it('fails a running command that never sent a heartbeat', () => {
    expect(sweepDecision({ ...base, state: 'running', heartbeatAt: null }, now)?.action).toBe('fail_silent');
  });

  it('puts a delivered command the agent never started back in the queue', () => {
    const after = DEFAULT_SWEEP_SETTINGS.redeliverAfterSeconds;
    expect(sweepDecision({ ...base, state: 'delivered', deliveredAt: ago(after - 1) }, now)).toBeNull();
    expect(sweepDecision({ ...base, state: 'delivered', deliveredAt: ago(after) }, now)).toEqual({ action: 'redeliver', to: 'queued' });
  });

  it('honours custom settings', () => {
    const settings = { silentAfterSeconds: 5, redeliverAfterSeconds: 2 };
    expect(sweepDecision({ ...base, state: 'running', heartbeatAt: ago(5) }, now, settings)?.action).toBe('fail_silent');
    expect(sweepDecision({ ...base, state: 'delivered', deliveredAt: ago(2) }, now, settings)?.action).toBe('redeliver');
  });

  it('never touches terminal commands', () => {
    for (const state of ['succeeded', 'failed', 'cancelled', 'expired'] as const) {
      expect(sweepDecision({ ...base, state, deadlineAt: ago(1) }, now)).toBeNull();
    }
  });
});
