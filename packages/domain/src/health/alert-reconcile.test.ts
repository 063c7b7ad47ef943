import { describe, expect, it } from 'vitest';
import { reconcileAlerts, type ActiveAlert, type AlertCondition } from './alert-reconcile';
import { NOW, secondsBefore } from './test-support';
import type { ReasonSeverity } from './types';

const FP = 'gpu:GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b:temperature_high';

function condition(fingerprint = FP, severity: ReasonSeverity = 'warning'): AlertCondition {
  return { fingerprint, rule: fingerprint.split(':').at(-1)!, severity, title: `title ${fingerprint}`, details: { message: 'm' } };
}

function alert(id: string, overrides: Partial<ActiveAlert> = {}): ActiveAlert {
  return { id, fingerprint: FP, severity: 'warning', state: 'open', lastSeenAt: secondsBefore(10), ...overrides };
}

describe('reconcileAlerts', () => {
  it('opens an alert for a new condition', () => {
    expect(reconcileAlerts({ conditions: [condition()], active: [], now: NOW })).toEqual({ open: [condition()], resolve: [], update: [] });
  });

  it('updates, never reopens, an alert whose condition persists', () => {
    const result = reconcileAlerts({ conditions: [condition()], active: [alert('a1')], now: NOW });
    expect(result.open).toEqual([]);
    expect(result.resolve).toEqual([]);
    expect(result.update).toEqual([{ id: 'a1', severity: 'warning', lastSeenAt: NOW, escalated: false }]);
  });

  it('an acknowledged alert whose condition persists stays acknowledged (no open, no state change)', () => {
    const result = reconcileAlerts({ conditions: [condition()], active: [alert('a1', { state: 'acknowledged' })], now: NOW });
    expect(result.open).toEqual([]);
    expect(result.update).toEqual([{ id: 'a1', severity: 'warning', lastSeenAt: NOW, escalated: false }]);
    expect(result.update[0]).not.toHaveProperty('state');
  });

  it('a rise in severity updates in place and is marked escalated', () => {
    const result = reconcileAlerts({ conditions: [condition(FP, 'critical')], active: [alert('a1', { state: 'acknowledged' })], now: NOW });
    expect(result.open).toEqual([]);
    expect(result.update).toEqual([{ id: 'a1', severity: 'critical', lastSeenAt: NOW, escalated: true }]);
  });

  it('a drop in severity updates in place without escalation', () => {
    const result = reconcileAlerts({ conditions: [condition(FP, 'warning')], active: [alert('a1', { severity: 'critical' })], now: NOW });
    expect(result.update).toEqual([{ id: 'a1', severity: 'warning', lastSeenAt: NOW, escalated: false }]);
  });

  it('resolves an alert once its condition has been gone for the hold-down (inclusive)', () => {
    expect(reconcileAlerts({ conditions: [], active: [alert('a1', { lastSeenAt: secondsBefore(300) })], now: NOW }).resolve).toEqual([
      'a1',
    ]);
    expect(reconcileAlerts({ conditions: [], active: [alert('a1', { lastSeenAt: secondsBefore(299) })], now: NOW }).resolve).toEqual([]);
  });

  it('resolves acknowledged alerts too when the condition is gone', () => {
    const active = [alert('a1', { state: 'acknowledged', lastSeenAt: secondsBefore(900) })];
    expect(reconcileAlerts({ conditions: [], active, now: NOW }).resolve).toEqual(['a1']);
  });

  it('a hold-down of 0 resolves at once', () => {
    expect(reconcileAlerts({ conditions: [], active: [alert('a1', { lastSeenAt: NOW })], now: NOW, holdDownSeconds: 0 }).resolve).toEqual([
      'a1',
    ]);
  });

  it('never resolves inside the hold-down when lastSeenAt is in the future; resolves when it is invalid', () => {
    expect(reconcileAlerts({ conditions: [], active: [alert('a1', { lastSeenAt: secondsBefore(-60) })], now: NOW }).resolve).toEqual([]);
    expect(reconcileAlerts({ conditions: [], active: [alert('a1', { lastSeenAt: new Date('bad') })], now: NOW }).resolve).toEqual(['a1']);
  });

  it('opens one alert when two rules report the same fingerprint, keeping the more severe', () => {
    const result = reconcileAlerts({
      conditions: [condition(FP, 'warning'), condition(FP, 'critical'), condition(FP, 'warning')],
      active: [],
      now: NOW,
    });
    expect(result.open).toHaveLength(1);
    expect(result.open[0]?.severity).toBe('critical');
  });

  it('if the store ever holds two live alerts for one condition, keeps the acknowledged one and resolves the other', () => {
    const active = [alert('a1'), alert('a2', { state: 'acknowledged' }), alert('a3')];
    const result = reconcileAlerts({ conditions: [condition()], active, now: NOW });
    expect(result.update.map((u) => u.id)).toEqual(['a2']);
    expect(result.resolve.sort()).toEqual(['a1', 'a3']);
    expect(result.open).toEqual([]);
  });

  it('handles many fingerprints independently', () => {
    const other = 'node:n1:offline';
    const result = reconcileAlerts({
      conditions: [condition(other, 'critical')],
      active: [alert('a1', { lastSeenAt: secondsBefore(1000) })],
      now: NOW,
    });
    expect(result).toEqual({ open: [condition(other, 'critical')], resolve: ['a1'], update: [] });
  });

  it('rejects a negative hold-down and an invalid now', () => {
    expect(() => reconcileAlerts({ conditions: [], active: [], now: NOW, holdDownSeconds: -1 })).toThrow(/holdDownSeconds/);
    expect(() => reconcileAlerts({ conditions: [], active: [], now: new Date(Number.NaN) })).toThrow(/now/);
  });
});

describe('reconcileAlerts over time (a store applying each result)', () => {
  interface Row extends ActiveAlert {
    resolved: boolean;
  }

  function simulate(presentAt: (cycle: number) => boolean, cycles: number, intervalSeconds = 10, holdDownSeconds = 300) {
    const rows: Row[] = [];
    let opened = 0;
    let resolved = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const now = new Date(NOW.getTime() + cycle * intervalSeconds * 1000);
      const live = rows.filter((r) => !r.resolved);
      const result = reconcileAlerts({ conditions: presentAt(cycle) ? [condition()] : [], active: live, now, holdDownSeconds });
      for (const c of result.open) {
        rows.push({
          id: `a${rows.length + 1}`,
          fingerprint: c.fingerprint,
          severity: c.severity,
          state: 'open',
          lastSeenAt: now,
          resolved: false,
        });
        opened++;
      }
      for (const u of result.update)
        Object.assign(
          rows.find((r) => r.id === u.id)!,
          { severity: u.severity, lastSeenAt: u.lastSeenAt },
        );
      for (const id of result.resolve) {
        rows.find((r) => r.id === id)!.resolved = true;
        resolved++;
      }
    }
    return { opened, resolved, live: rows.filter((r) => !r.resolved).length };
  }

  it('a condition flapping every cycle inside the hold-down opens one alert and never resolves it', () => {
    expect(simulate((c) => c % 2 === 0, 100)).toEqual({ opened: 1, resolved: 0, live: 1 });
  });

  it('without a hold-down the same flapping would resolve and reopen every cycle', () => {
    expect(simulate((c) => c % 2 === 0, 100, 10, 0)).toEqual({ opened: 50, resolved: 50, live: 0 });
  });

  it('a condition that stops resolves once, after the hold-down, and a later return opens a fresh alert', () => {
    // Present for cycles 0–9, gone for 40 cycles (400 s > 300 s), back at cycle 50.
    expect(simulate((c) => c < 10, 50)).toEqual({ opened: 1, resolved: 1, live: 0 });
    expect(simulate((c) => c < 10 || c >= 50, 60)).toEqual({ opened: 2, resolved: 1, live: 1 });
  });
});
