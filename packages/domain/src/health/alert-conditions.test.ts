import { describe, expect, it } from 'vitest';
import { alertConditionsFromHealth, type GpuAlertInput } from './alert-conditions';
import { reconcileAlerts } from './alert-reconcile';
import { evaluateGpuHealth } from './gpu-health';
import { NOW, UUID, makeReading, makeXid } from './test-support';
import type { HealthReason } from './types';

function gpu(reasons: HealthReason[], overrides: Partial<GpuAlertInput> = {}): GpuAlertInput {
  return { gpuId: 'g1', uuid: UUID, nodeId: 'n1', clusterId: 'c1', hostname: 'gpu-node-01', index: 3, reasons, ...overrides };
}
const hot: HealthReason = { code: 'temperature_high', severity: 'warning', message: 'Temperature 91 °C ≥ 87 °C', value: 91, threshold: 87 };

describe('alertConditionsFromHealth', () => {
  it('turns a GPU reason into a condition keyed gpu:<uuid>:<code>', () => {
    expect(alertConditionsFromHealth({ gpus: [gpu([hot])], nodes: [] })).toEqual([
      {
        fingerprint: `gpu:${UUID}:temperature_high`,
        rule: 'temperature_high',
        severity: 'warning',
        title: 'gpu-node-01 GPU 3: temperature high',
        details: { message: 'Temperature 91 °C ≥ 87 °C', value: 91, threshold: 87, uuid: UUID, index: 3, hostname: 'gpu-node-01' },
        clusterId: 'c1',
        nodeId: 'n1',
        gpuId: 'g1',
      },
    ]);
  });

  it('keeps the fingerprint and title stable when the numbers or the GPU index change', () => {
    const a = alertConditionsFromHealth({ gpus: [gpu([hot])], nodes: [] })[0]!;
    const b = alertConditionsFromHealth({
      gpus: [gpu([{ ...hot, message: 'Temperature 93 °C ≥ 87 °C', value: 93 }], { index: 5 })],
      nodes: [],
    })[0]!;
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.title).not.toMatch(/91/);
  });

  it('does not alert on no_data', () => {
    const reasons: HealthReason[] = [{ code: 'no_data', severity: 'warning', message: 'No reading from this GPU yet' }];
    expect(alertConditionsFromHealth({ gpus: [gpu(reasons)], nodes: [] })).toEqual([]);
  });

  it('raises node:<id>:offline for offline nodes only, as critical', () => {
    const conditions = alertConditionsFromHealth({
      gpus: [],
      nodes: [
        { nodeId: 'n1', clusterId: 'c1', hostname: 'gpu-node-01', status: 'offline' },
        { nodeId: 'n2', clusterId: 'c1', hostname: 'gpu-node-02', status: 'critical' },
        { nodeId: 'n3', clusterId: 'c1', hostname: 'gpu-node-03', status: 'healthy' },
      ],
    });
    expect(conditions).toEqual([
      {
        fingerprint: 'node:n1:offline',
        rule: 'node_offline',
        severity: 'critical',
        title: 'gpu-node-01 is offline',
        details: { hostname: 'gpu-node-01' },
        clusterId: 'c1',
        nodeId: 'n1',
      },
    ]);
  });

  it('evaluating the same health twice gives identical fingerprints, so reconciliation opens nothing new', () => {
    const health = evaluateGpuHealth({
      latest: makeReading({ temperatureC: 95, eccUncorrectedVolatile: 1 }),
      recent: [],
      xids: [makeXid(79, 30)],
      now: NOW,
    });
    const first = alertConditionsFromHealth({ gpus: [gpu(health.reasons)], nodes: [] });
    expect(first.map((c) => c.fingerprint).sort()).toEqual([
      `gpu:${UUID}:ecc_uncorrected`,
      `gpu:${UUID}:temperature_high`,
      `gpu:${UUID}:xid_critical`,
    ]);
    const active = first.map((c, i) => ({
      id: `a${i}`,
      fingerprint: c.fingerprint,
      severity: c.severity,
      state: 'open' as const,
      lastSeenAt: NOW,
    }));
    const second = alertConditionsFromHealth({ gpus: [gpu(health.reasons)], nodes: [] });
    const result = reconcileAlerts({ conditions: second, active, now: NOW });
    expect(result.open).toEqual([]);
    expect(result.update).toHaveLength(3);
  });
});
