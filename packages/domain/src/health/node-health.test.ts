import { describe, expect, it } from 'vitest';
import { evaluateNodeHealth, rollUpClusterHealth } from './node-health';
import { countByHealth, statusFromReasons, worstStatus } from './status';
import { NOW, secondsBefore } from './test-support';
import type { GpuStatus, NodeStatus } from './types';

function node(lastSeenSecondsAgo: number | null, gpuStatuses: GpuStatus[] = ['healthy'], reportIntervalSeconds = 10) {
  return evaluateNodeHealth({
    lastSeenAt: lastSeenSecondsAgo === null ? null : secondsBefore(lastSeenSecondsAgo),
    reportIntervalSeconds,
    now: NOW,
    gpuStatuses,
  });
}

describe('evaluateNodeHealth', () => {
  it('a node that never reported is unknown', () => {
    expect(node(null)).toEqual({
      status: 'unknown',
      reasons: [{ code: 'node_never_seen', severity: 'warning', message: 'The agent on this node has not reported yet' }],
    });
  });

  it('goes offline only after more than three missed intervals', () => {
    expect(node(30).status).toBe('healthy');
    expect(node(30.001).status).toBe('offline');
    expect(node(89, ['healthy'], 30).status).toBe('healthy');
    expect(node(91, ['healthy'], 30).status).toBe('offline');
  });

  it('explains offline with the numbers', () => {
    expect(node(312).reasons).toEqual([
      {
        code: 'node_offline',
        severity: 'critical',
        message: 'No report for 5.2 min (> 3 × 10 s report interval)',
        value: 312,
        threshold: 30,
      },
    ]);
  });

  it('offline wins over whatever its GPUs said last', () => {
    expect(node(600, ['critical']).status).toBe('offline');
  });

  it('a heartbeat stamped slightly in the future is online', () => {
    expect(node(-5).status).toBe('healthy');
  });

  it('otherwise takes the worst GPU status', () => {
    expect(node(5, ['healthy', 'healthy']).status).toBe('healthy');
    expect(node(5, ['healthy', 'unknown']).status).toBe('unknown');
    expect(node(5, ['unknown', 'warning', 'healthy']).status).toBe('warning');
    expect(node(5, ['warning', 'critical', 'unknown']).status).toBe('critical');
  });

  it('summarises its GPUs in the reasons', () => {
    expect(node(5, ['critical', 'warning', 'warning', 'healthy']).reasons).toEqual([
      { code: 'gpu_critical', severity: 'critical', message: '1 of 4 GPUs critical', value: 1 },
      { code: 'gpu_warning', severity: 'warning', message: '2 of 4 GPUs warning', value: 2 },
    ]);
    expect(node(5, ['unknown']).reasons[0]?.message).toBe('1 of 1 GPU without data');
  });

  it('a reporting node without GPUs (Apple/MLX host) is healthy', () => {
    expect(node(5, [])).toEqual({ status: 'healthy', reasons: [] });
  });

  it('rejects a non-positive interval and invalid dates', () => {
    expect(() => node(5, ['healthy'], 0)).toThrow(/reportIntervalSeconds must be a positive/);
    expect(() => evaluateNodeHealth({ lastSeenAt: new Date('x'), reportIntervalSeconds: 10, now: NOW, gpuStatuses: [] })).toThrow(
      /lastSeenAt/,
    );
  });
});

describe('rollUpClusterHealth', () => {
  const fleet = (...s: NodeStatus[]) => s;

  it('an empty cluster is unknown; all nodes offline is offline', () => {
    expect(rollUpClusterHealth([])).toBe('unknown');
    expect(rollUpClusterHealth(fleet('offline', 'offline'))).toBe('offline');
  });

  it('one offline node of four is a warning, two of four are critical', () => {
    expect(rollUpClusterHealth(fleet('offline', 'healthy', 'healthy', 'healthy'))).toBe('warning');
    expect(rollUpClusterHealth(fleet('offline', 'offline', 'healthy', 'healthy'))).toBe('critical');
  });

  it('a single-node cluster that is offline is offline', () => {
    expect(rollUpClusterHealth(fleet('offline'))).toBe('offline');
  });

  it('any critical node makes the cluster critical', () => {
    expect(rollUpClusterHealth(fleet('healthy', 'healthy', 'critical'))).toBe('critical');
    expect(rollUpClusterHealth(fleet('offline', 'critical', 'healthy', 'healthy'))).toBe('critical');
  });

  it('otherwise the worst status: warning > unknown > healthy', () => {
    expect(rollUpClusterHealth(fleet('healthy', 'healthy'))).toBe('healthy');
    expect(rollUpClusterHealth(fleet('healthy', 'unknown'))).toBe('unknown');
    expect(rollUpClusterHealth(fleet('unknown', 'warning'))).toBe('warning');
  });

  it('honours a configured offline fraction', () => {
    const statuses = fleet('offline', 'healthy', 'healthy', 'healthy');
    expect(rollUpClusterHealth(statuses, { offlineCriticalFraction: 0.25 })).toBe('critical');
    expect(() => rollUpClusterHealth(statuses, { offlineCriticalFraction: 0 })).toThrow(/offlineCriticalFraction/);
  });
});

describe('status helpers', () => {
  it('countByHealth returns every status, zero when absent', () => {
    expect(countByHealth(['healthy', 'healthy', 'offline', 'critical'])).toEqual({
      unknown: 0,
      healthy: 2,
      warning: 0,
      critical: 1,
      offline: 1,
    });
    expect(countByHealth([])).toEqual({ unknown: 0, healthy: 0, warning: 0, critical: 0, offline: 0 });
    expect(() => countByHealth(['sick' as never])).toThrow(/Unknown health status "sick"/);
  });

  it('worstStatus orders healthy < unknown < warning < critical < offline', () => {
    expect(worstStatus(['critical', 'offline', 'warning'], 'healthy')).toBe('offline');
    expect(worstStatus(['unknown', 'healthy'], 'healthy')).toBe('unknown');
    expect(worstStatus([], 'unknown')).toBe('unknown');
  });

  it('statusFromReasons is the worst severity', () => {
    expect(statusFromReasons([])).toBe('healthy');
    expect(statusFromReasons([{ code: 'xid_warning', severity: 'warning', message: '' }])).toBe('warning');
    expect(
      statusFromReasons([
        { code: 'xid_warning', severity: 'warning', message: '' },
        { code: 'xid_critical', severity: 'critical', message: '' },
      ]),
    ).toBe('critical');
  });
});
