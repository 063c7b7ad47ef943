import { describe, expect, it } from 'vitest';
import { decideReport } from './report';

const now = new Date('2026-12-03T08:00:00.000Z');
const future = new Date(now.getTime() + 60_000);

describe('decideReport', () => {
  it('starts a delivered command on its first running report', () => {
    expect(decideReport({ state: 'delivered', deadlineAt: future }, 'running', now)).toEqual({ action: 'start', to: 'running' });
  });

  it('starts a command the sweeper had put back in the queue (the agent did get it)', () => {
    expect(decideReport({ state: 'queued', deadlineAt: future }, 'running', now)).toEqual({ action: 'start', to: 'running' });
  });

  it('treats later running reports as heartbeats', () => {
    expect(decideReport({ state: 'running', deadlineAt: future }, 'running', now)).toEqual({ action: 'heartbeat', to: 'running' });
  });

  it('finishes with the first outcome, passing through running when the agent skipped it', () => {
    expect(decideReport({ state: 'running', deadlineAt: future }, 'succeeded', now)).toEqual({
      action: 'finish',
      to: 'succeeded',
      wasStarted: true,
    });
    expect(decideReport({ state: 'delivered', deadlineAt: future }, 'failed', now)).toEqual({
      action: 'finish',
      to: 'failed',
      wasStarted: false,
    });
  });

  it('ignores any report on a finished command and answers its state: the first outcome wins', () => {
    for (const state of ['succeeded', 'failed', 'cancelled', 'expired'] as const) {
      for (const report of ['running', 'succeeded', 'failed'] as const) {
        expect(decideReport({ state, deadlineAt: future }, report, now)).toEqual({ action: 'ignore', to: state });
      }
    }
  });

  it('expires an open command whose deadline passed instead of taking a late outcome', () => {
    for (const report of ['running', 'succeeded', 'failed'] as const) {
      expect(decideReport({ state: 'running', deadlineAt: now }, report, now)).toEqual({ action: 'expire', to: 'expired' });
    }
  });
});
