// GPU error states, NVLink5 Xids, readings dated in the future and node clock skew (issue 11).
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import { alertConditionsFromHealth, nodeClockSkewFingerprint } from './alert-conditions';
import { evaluateGpuHealth } from './gpu-health';
import { clockSkewReason, evaluateNodeHealth } from './node-health';
import { CAPTURED, makeBareReading, makeReading, makeXid, NOW, secondsBefore } from './test-support';
import { describeXid, describeXidEvent, NVLINK5_XIDS, XID_CATALOGUE } from './xid-catalogue';

const RESET = '[GPU requires reset]';
// Every reading the agent queries printed the marker, as nvidia-smi does for a GPU that needs a reset.
const FIELDS = [
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.current.sm',
  'ecc.errors.corrected.volatile.total',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_event_reasons.active',
];

describe('GPU error states', () => {
  it('a GPU whose every reading is [GPU requires reset] is critical, quoting the driver', () => {
    const latest = makeBareReading({ sampledAt: secondsBefore(5), errorStates: FIELDS.map((field) => ({ field, marker: RESET })) });
    const health = evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW });
    expect(health.status).toBe('critical');
    expect(health.reasons[0]).toMatchObject({ code: 'gpu_error_state', severity: 'critical', value: FIELDS.length });
    expect(health.reasons[0]!.message).toBe(
      'nvidia-smi reports the GPU in an error state: "[GPU requires reset]" for memory.total, memory.used, utilization.gpu, utilization.memory and 7 more. Drain the GPU and reset it (reboot the node if the reset fails)',
    );
  });

  it('quotes each distinct marker with its fields', () => {
    const latest = makeReading({
      temperatureC: null,
      powerDrawW: null,
      errorStates: [
        { field: 'temperature.gpu', marker: '[Unknown Error]' },
        { field: 'power.draw', marker: '[GPU is lost]' },
      ],
    });
    const [reason] = evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW }).reasons;
    expect(reason!.message).toContain('"[Unknown Error]" for temperature.gpu; "[GPU is lost]" for power.draw');
  });

  it('plain nulls ([N/A] on real captures) and an empty list stay healthy', () => {
    for (const latest of [
      makeReading({ ...CAPTURED.h100MigLoad }),
      makeReading({ ...CAPTURED.rtx4080Load, errorStates: [] }),
      makeBareReading(),
    ]) {
      expect(evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW }).reasons.some((r) => r.code === 'gpu_error_state')).toBe(false);
    }
    expect(evaluateGpuHealth({ latest: makeReading({ ...CAPTURED.h100Idle }), recent: [], xids: [], now: NOW }).status).toBe('healthy');
  });

  it('an old error-state reading no longer counts (the GPU is judged on fresh data only)', () => {
    const latest = makeBareReading({ sampledAt: secondsBefore(3600), errorStates: [{ field: 'temperature.gpu', marker: RESET }] });
    const health = evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW });
    expect(health.status).toBe('unknown');
  });

  it('raises its own alert', () => {
    const latest = makeBareReading({ errorStates: [{ field: 'temperature.gpu', marker: RESET }] });
    const { reasons } = evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW });
    const [condition] = alertConditionsFromHealth({
      gpus: [{ gpuId: 'g1', uuid: latest.uuid, nodeId: 'n1', clusterId: 'c1', hostname: 'h100-node-01', index: 3, reasons }],
      nodes: [],
    });
    expect(condition).toMatchObject({
      fingerprint: `gpu:${latest.uuid}:gpu_error_state`,
      severity: 'critical',
      title: 'h100-node-01 GPU 3: GPU in an error state',
    });
  });
});

describe('NVLink5 Xids 144–150', () => {
  it('are in the catalogue with NVIDIA descriptions', () => {
    expect(NVLINK5_XIDS).toEqual([144, 145, 146, 147, 148, 149, 150]);
    expect(NVLINK5_XIDS.map((c) => describeXid(c).meaning)).toEqual([
      'NVLINK: SAW Error',
      'NVLINK: RLW Error',
      'NVLINK: TLW Error',
      'NVLINK: TREX Error',
      'NVLINK: NVLPW_CTRL Error',
      'NVLINK: NETIR Error',
      'NVLINK: MSE Error',
    ]);
    for (const c of NVLINK5_XIDS) expect(XID_CATALOGUE.find((x) => x.code === c)).toMatchObject({ known: true, severity: 'warning' });
  });

  it('a line the driver marks Fatal is critical, Nonfatal stays a warning', () => {
    expect(
      describeXidEvent(149, 'NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x026001c6 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)')
        .severity,
    ).toBe('critical');
    expect(
      describeXidEvent(144, 'SAW_MVB Nonfatal XC0 i0 Link 0 (0x00000001 0x00000008 0x00000000 0x00000000 0x00000000 0x00000000)').severity,
    ).toBe('warning');
    expect(describeXidEvent(145, 'RLW_REMAP Non-fatal XC0 i0 Link 3').severity).toBe('warning');
    expect(describeXidEvent(13, 'Fatal something').severity).toBe('warning'); // only NVLink5 codes are graded by the line
  });

  it('a fatal NVLink5 Xid makes the GPU critical; a non-fatal one is a warning, never "unknown XID"', () => {
    const fatal = evaluateGpuHealth({
      latest: makeReading(),
      recent: [],
      xids: [makeXid(149, 30, { message: 'NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x026001c6 0x00000000)' })],
      now: NOW,
    });
    expect(fatal.status).toBe('critical');
    expect(fatal.reasons[0]).toMatchObject({ code: 'xid_critical', value: 149 });
    expect(fatal.reasons[0]!.message).toContain('XID 149 (NVLINK: NETIR Error (fatal))');
    const nonfatal = evaluateGpuHealth({
      latest: makeReading(),
      recent: [],
      xids: [makeXid(144, 30, { message: 'SAW_MVB Nonfatal XC0 i0 Link 0 (0x00000001 0x00000008)' })],
      now: NOW,
    });
    expect(nonfatal.status).toBe('warning');
    expect(nonfatal.reasons[0]!.message).toContain('XID 144 (NVLINK: SAW Error)');
    expect(nonfatal.reasons[0]!.message).not.toContain('Unknown XID');
  });
});

describe('readings dated in the future', () => {
  it('a reading far in the future (an agent clock in 2099) does not count as fresh', () => {
    const latest = makeReading({ sampledAt: new Date('2099-01-01T00:00:00Z'), eccUncorrectedVolatile: 0 });
    const health = evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW });
    expect(health.status).toBe('unknown');
    expect(health.reasons.at(-1)!.message).toMatch(
      /^Newest reading is dated .* in the future \(2099-01-01T00:00:00.000Z\); check the node's clock$/,
    );
  });

  it('a reading a few seconds ahead (within the tolerance) is still used', () => {
    const latest = makeReading({ sampledAt: new Date(NOW.getTime() + (MAX_CLOCK_SKEW_SECONDS - 1) * 1000), temperatureC: 95 });
    expect(evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW }).reasons[0]!.code).toBe('temperature_high');
  });
});

describe('node clock skew', () => {
  const base = { lastSeenAt: secondsBefore(5), reportIntervalSeconds: 10, now: NOW, gpuStatuses: ['healthy', 'healthy'] as const };

  it('warns when the node clock is off by more than the tolerance, either way', () => {
    const ahead = evaluateNodeHealth({ ...base, clockOffsetMs: 10 * 60_000 });
    expect(ahead.status).toBe('warning');
    expect(ahead.reasons).toEqual([
      expect.objectContaining({ code: 'clock_skew', severity: 'warning', value: 600, threshold: MAX_CLOCK_SKEW_SECONDS }),
    ]);
    expect(ahead.reasons[0]!.message).toContain('10 min ahead of');
    expect(evaluateNodeHealth({ ...base, clockOffsetMs: -3 * 3600_000 }).reasons[0]!.message).toContain('3 h behind');
  });

  it('stays healthy within the tolerance or when unknown', () => {
    for (const clockOffsetMs of [0, 1500, -MAX_CLOCK_SKEW_SECONDS * 1000, null, undefined])
      expect(evaluateNodeHealth({ ...base, clockOffsetMs }).status).toBe('healthy');
    expect(clockSkewReason(Number.NaN)).toBeNull();
  });

  it('keeps a critical GPU critical and explains an offline node', () => {
    expect(evaluateNodeHealth({ ...base, gpuStatuses: ['critical'], clockOffsetMs: 3_600_000 }).status).toBe('critical');
    const offline = evaluateNodeHealth({ ...base, lastSeenAt: secondsBefore(600), clockOffsetMs: 3_600_000 });
    expect(offline.status).toBe('offline');
    expect(offline.reasons.map((r) => r.code)).toEqual(['node_offline', 'clock_skew']);
  });

  it('raises a node clock-skew alert through the alert conditions', () => {
    const { status, reasons } = evaluateNodeHealth({ ...base, clockOffsetMs: -900_000 });
    const conditions = alertConditionsFromHealth({
      gpus: [],
      nodes: [{ nodeId: 'n1', clusterId: 'c1', hostname: 'lab-node-01', status, reasons }],
    });
    expect(conditions).toEqual([
      expect.objectContaining({
        fingerprint: nodeClockSkewFingerprint('n1'),
        rule: 'clock_skew',
        severity: 'warning',
        title: 'lab-node-01 clock is off',
        nodeId: 'n1',
      }),
    ]);
  });
});
