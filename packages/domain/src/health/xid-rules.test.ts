import { describe, expect, it } from 'vitest';
import { evaluateGpuHealth } from './gpu-health';
import type { THealthThresholdsInput } from './thresholds.schema';
import { NOW, OTHER_UUID, UUID, makeReading, makeXid } from './test-support';
import type { XidObservation } from './types';
import { countIncidents } from './xid-rules';

function judge(xids: XidObservation[], thresholds: THealthThresholdsInput = {}) {
  return evaluateGpuHealth({ latest: makeReading(), recent: [], xids, now: NOW, thresholds });
}
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

// The 17 lines of /work/shared/fixtures/xid_dmesg_iso_13_43.log (GPU at PCI 0000:38:00): one
// out-of-range access printed sixteen XID 13 lines within 2 ms, then XID 43 when the process died.
const FIXTURE_MICROS = [
  283302, 283390, 283575, 283671, 283758, 283937, 284042, 284250, 284345, 284433, 284616, 284705, 284792, 284971, 285060, 285147,
];
function fixtureBurst(at: Date): XidObservation[] {
  const base = at.getTime() - 285147 / 1000;
  return [
    ...FIXTURE_MICROS.map((us) => ({
      occurredAt: new Date(base + us / 1000),
      xid: 13,
      gpuUuid: UUID,
      message: 'Graphics SM Warp Exception on (GPC 9, TPC 1, SM 1): Out Of Range Address',
    })),
    { occurredAt: new Date(base + 287197 / 1000), xid: 43, gpuUuid: UUID, message: 'Ch 00000008' },
  ];
}

describe('XID rules: critical codes', () => {
  it('a critical XID in the window makes the GPU critical and says what to do', () => {
    const result = judge([makeXid(48, 120)]);
    expect(result.status).toBe('critical');
    expect(result.reasons[0]).toMatchObject({ code: 'xid_critical', severity: 'critical', value: 48 });
    expect(result.reasons[0]?.message).toContain('XID 48 (Double Bit ECC Error), 1 incident');
    expect(result.reasons[0]?.message).toContain('Drain the GPU and reset it');
  });

  it('several critical codes give one reason whose value is the latest code', () => {
    const result = judge([makeXid(48, 600), makeXid(79, 30)]);
    expect(codes(result)).toEqual(['xid_critical']);
    expect(result.reasons[0]?.value).toBe(79);
    expect(result.reasons[0]?.message).toMatch(/XID 79 .*; XID 48 /);
  });

  it('forgets XIDs older than the window; the window start itself is inside', () => {
    expect(judge([makeXid(79, 3601)]).status).toBe('healthy');
    expect(judge([makeXid(79, 3600)]).status).toBe('critical');
    expect(judge([makeXid(79, 5000)], { xidWindowSeconds: 6000 }).status).toBe('critical');
  });

  it('counts XIDs stamped in the future (agent clock ahead)', () => {
    expect(judge([makeXid(95, -20)]).status).toBe('critical');
  });

  it('ignores XIDs mapped to another GPU but keeps unmapped ones the caller passed', () => {
    expect(judge([makeXid(79, 30, { gpuUuid: OTHER_UUID })]).status).toBe('healthy');
    expect(judge([makeXid(79, 30, { gpuUuid: null })]).status).toBe('critical');
  });
});

describe('XID rules: warnings and repeats', () => {
  it('an unknown XID is a warning, never dropped', () => {
    const result = judge([makeXid(999, 60)]);
    expect(result.status).toBe('warning');
    expect(result.reasons[0]).toMatchObject({ code: 'xid_warning', value: 999 });
    expect(result.reasons[0]?.message).toContain('Unknown XID 999');
  });

  it('a known non-critical XID is a warning however often it repeats', () => {
    const result = judge([makeXid(61, 3000), makeXid(61, 2000), makeXid(61, 1000), makeXid(61, 10)]);
    expect(codes(result)).toEqual(['xid_warning']);
  });

  it('a single application-level XID is a plain warning', () => {
    expect(codes(judge([makeXid(43, 60)]))).toEqual(['xid_warning']);
  });

  it('the real 16-line XID 13 burst is one incident, not a repeat', () => {
    const result = judge(fixtureBurst(new Date(NOW.getTime() - 60_000)));
    expect(result.status).toBe('warning');
    expect(codes(result)).toEqual(['xid_warning']);
    expect(result.reasons[0]?.message).toContain('XID 13 (Graphics Engine Exception), 1 incident (16 lines)');
    expect(result.reasons[0]?.value).toBe(43);
  });

  it('application-level XIDs in separate incidents reaching the repeat count are "repeated"', () => {
    const xids = [
      ...fixtureBurst(new Date(NOW.getTime() - 1800_000)),
      ...fixtureBurst(new Date(NOW.getTime() - 900_000)),
      ...fixtureBurst(new Date(NOW.getTime() - 60_000)),
    ];
    const result = judge(xids);
    expect(result.status).toBe('warning');
    const repeated = result.reasons.find((r) => r.code === 'xid_repeated');
    expect(repeated).toMatchObject({ severity: 'warning', value: 3, threshold: 3 });
    expect(repeated?.message).toContain('XID 13 (Graphics Engine Exception), 3 incidents (48 lines)');
    expect(repeated?.message).toContain('XID 43');
    expect(codes(result)).not.toContain('xid_warning');
  });

  it('two incidents stay a plain warning; a lower repeat count makes them repeated', () => {
    const xids = [makeXid(31, 600), makeXid(31, 60)];
    expect(codes(judge(xids))).toEqual(['xid_warning']);
    expect(codes(judge(xids, { appXidRepeatCount: 2 }))).toEqual(['xid_repeated']);
  });

  it('the incident gap is configurable', () => {
    const xids = [makeXid(13, 30), makeXid(13, 20), makeXid(13, 10)];
    expect(codes(judge(xids))).toEqual(['xid_warning']);
    expect(codes(judge(xids, { xidIncidentGapSeconds: 5 }))).toEqual(['xid_repeated']);
  });

  it('critical, repeated and plain XIDs together give one reason each, critical first', () => {
    const xids = [makeXid(13, 3000), makeXid(13, 2000), makeXid(13, 1000), makeXid(154, 500), makeXid(119, 100)];
    const result = judge(xids);
    expect(result.status).toBe('critical');
    expect(codes(result)).toEqual(['xid_critical', 'xid_warning', 'xid_repeated']);
  });
});

describe('countIncidents', () => {
  it('counts bursts separated by more than the gap, in any order', () => {
    expect(countIncidents([], 10_000)).toBe(0);
    expect(countIncidents([0], 10_000)).toBe(1);
    expect(countIncidents([50_000, 0, 5, 20_000], 10_000)).toBe(3);
  });

  it('a gap exactly equal to the limit stays in the same incident', () => {
    expect(countIncidents([0, 10_000], 10_000)).toBe(1);
    expect(countIncidents([0, 10_001], 10_000)).toBe(2);
  });

  it('with a zero gap only identical timestamps merge', () => {
    expect(countIncidents([0, 0, 1], 0)).toBe(2);
  });
});
