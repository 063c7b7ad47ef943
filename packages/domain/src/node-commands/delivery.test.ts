import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_POLL_WAIT_SECONDS } from '@fleetplane/contracts';
import { MAX_COMMANDS_PER_POLL, parsePollWait, planPoll, type OpenCommandView } from './delivery';

const now = new Date('2026-12-03T08:00:00.000Z');
const later = new Date(now.getTime() + 60_000);
const c = (id: string, state: OpenCommandView['state'], deadlineAt = later): OpenCommandView => ({ id, state, deadlineAt });

describe('planPoll', () => {
  it('delivers queued commands, shows delivered and running ones again without a new delivery', () => {
    const plan = planPoll([c('a', 'running'), c('b', 'delivered'), c('c', 'queued')], 30, now);
    expect(plan).toEqual({ deliver: ['c'], visible: ['a', 'b', 'c'], respondNow: true });
  });

  it('waits when nothing is new and the agent asked to wait', () => {
    expect(planPoll([c('a', 'running'), c('b', 'delivered')], 30, now)).toEqual({ deliver: [], visible: ['a', 'b'], respondNow: false });
    expect(planPoll([], 30, now).respondNow).toBe(false);
  });

  it('answers at once with everything open when the agent asks not to wait (after a restart or a lost connection)', () => {
    expect(planPoll([c('b', 'delivered')], 0, now)).toEqual({ deliver: [], visible: ['b'], respondNow: true });
    expect(planPoll([], 0, now)).toEqual({ deliver: [], visible: [], respondNow: true });
  });

  it('answers at once after a change woke the poll, so a cancelled command vanishes from the agent’s view', () => {
    expect(planPoll([c('a', 'running')], 30, now, true)).toEqual({ deliver: [], visible: ['a'], respondNow: true });
    expect(planPoll([], 30, now, true).respondNow).toBe(true);
  });

  it('hides and never delivers commands past their deadline (the sweeper expires them)', () => {
    const plan = planPoll([c('old', 'queued', now), c('run', 'running', new Date(now.getTime() - 1)), c('ok', 'queued')], 30, now);
    expect(plan).toEqual({ deliver: ['ok'], visible: ['ok'], respondNow: true });
  });

  it('ignores terminal rows if given any', () => {
    expect(planPoll([c('x', 'succeeded'), c('y', 'cancelled')], 0, now).visible).toEqual([]);
  });

  it('keeps to the answer size limit, oldest first, and delivers only what it shows', () => {
    const many = Array.from({ length: MAX_COMMANDS_PER_POLL + 5 }, (_, i) => c(`q${i}`, 'queued'));
    const plan = planPoll(many, 30, now);
    expect(plan.visible).toHaveLength(MAX_COMMANDS_PER_POLL);
    expect(plan.deliver).toEqual(plan.visible);
    expect(plan.visible[0]).toBe('q0');
  });
});

describe('parsePollWait', () => {
  it('treats absent as no wait', () => {
    expect(parsePollWait(null)).toBe(0);
    expect(parsePollWait(undefined)).toBe(0);
    expect(parsePollWait('')).toBe(0);
  });
  it('reads whole and fractional seconds, cut to the maximum', () => {
    expect(parsePollWait('25')).toBe(25);
    expect(parsePollWait('2.9')).toBe(2);
    expect(parsePollWait('600')).toBe(MAX_COMMAND_POLL_WAIT_SECONDS);
  });
  it('refuses what is not a non-negative number', () => {
    for (const bad of ['-1', 'abc', '1e3', '0x10', 'Infinity', 'NaN']) expect(parsePollWait(bad)).toBeNull();
  });
});
