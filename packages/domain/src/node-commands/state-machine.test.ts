import { describe, expect, it } from 'vitest';
import { NODE_COMMAND_KINDS, NODE_COMMAND_STATES } from '@fleetplane/contracts';
import {
  canCommandTransition,
  commandDeadline,
  DEFAULT_COMMAND_TIMEOUT_SECONDS,
  isOpenCommandState,
  isTerminalCommandState,
} from './state-machine';

describe('canCommandTransition', () => {
  it('walks the happy path queued -> delivered -> running -> succeeded | failed', () => {
    expect(canCommandTransition('queued', 'delivered')).toBe(true);
    expect(canCommandTransition('delivered', 'running')).toBe(true);
    expect(canCommandTransition('running', 'succeeded')).toBe(true);
    expect(canCommandTransition('running', 'failed')).toBe(true);
  });

  it('lets a delivered command go back to the queue (lost answer), nothing else goes backwards', () => {
    expect(canCommandTransition('delivered', 'queued')).toBe(true);
    expect(canCommandTransition('running', 'queued')).toBe(false);
    expect(canCommandTransition('running', 'delivered')).toBe(false);
  });

  it('cancels or expires any open command', () => {
    for (const from of ['queued', 'delivered', 'running'] as const) {
      expect(canCommandTransition(from, 'cancelled')).toBe(true);
      expect(canCommandTransition(from, 'expired')).toBe(true);
    }
  });

  it('never leaves a terminal state', () => {
    for (const from of ['succeeded', 'failed', 'cancelled', 'expired'] as const) {
      for (const to of NODE_COMMAND_STATES) expect(canCommandTransition(from, to)).toBe(false);
    }
  });

  it('does not skip states: no outcome before running, no running before delivery', () => {
    expect(canCommandTransition('queued', 'running')).toBe(false);
    expect(canCommandTransition('queued', 'succeeded')).toBe(false);
    expect(canCommandTransition('delivered', 'succeeded')).toBe(false);
    expect(canCommandTransition('delivered', 'failed')).toBe(false);
  });

  it('splits states into open and terminal with nothing in both', () => {
    for (const s of NODE_COMMAND_STATES) expect(isOpenCommandState(s)).toBe(!isTerminalCommandState(s));
    expect(NODE_COMMAND_STATES.filter(isOpenCommandState)).toEqual(['queued', 'delivered', 'running']);
  });
});

describe('commandDeadline', () => {
  const at = new Date('2026-12-03T08:00:00.000Z');
  it('uses the kind default when no timeout is given', () => {
    for (const kind of NODE_COMMAND_KINDS) {
      expect(commandDeadline(kind, at).getTime() - at.getTime()).toBe(DEFAULT_COMMAND_TIMEOUT_SECONDS[kind] * 1000);
    }
  });
  it('uses the given timeout', () => {
    expect(commandDeadline('stop_engine', at, 90).toISOString()).toBe('2026-12-03T08:01:30.000Z');
  });
  it('refuses timeouts that are too short, too long or not whole seconds', () => {
    expect(() => commandDeadline('stop_engine', at, 1)).toThrow(RangeError);
    expect(() => commandDeadline('stop_engine', at, 8 * 24 * 3600)).toThrow(RangeError);
    expect(() => commandDeadline('stop_engine', at, 10.5)).toThrow(RangeError);
  });
});
