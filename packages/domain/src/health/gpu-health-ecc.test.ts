import { describe, expect, it } from 'vitest';
import { evaluateGpuHealth } from './gpu-health';
import type { THealthThresholdsInput } from './thresholds.schema';
import { NOW, OTHER_UUID, makeReading, secondsBefore } from './test-support';
import type { GpuReading } from './types';

/** Readings with the given corrected-ECC counter values, one per minute, the last one 5 s ago. */
function series(values: (number | null)[]): GpuReading[] {
  return values.map((v, i) => makeReading({ sampledAt: secondsBefore(5 + (values.length - 1 - i) * 60), eccCorrectedVolatile: v }));
}

function burst(recent: GpuReading[], thresholds: THealthThresholdsInput = {}, latest: GpuReading | null = recent.at(-1) ?? null) {
  const result = evaluateGpuHealth({ latest, recent, xids: [], now: NOW, thresholds });
  return result.reasons.find((r) => r.code === 'ecc_correctable_burst');
}

describe('evaluateGpuHealth: corrected ECC bursts', () => {
  it('warns when the counter rises by at least the threshold inside the window', () => {
    const reason = burst(series([0, 40, 150]));
    expect(reason).toMatchObject({ severity: 'warning', value: 150, threshold: 100 });
    expect(reason?.message).toBe('Corrected ECC errors rose by 150 in the last 60 min (≥ 100)');
  });

  it('is inclusive at the threshold and silent just below it', () => {
    expect(burst(series([0, 100]))).toBeDefined();
    expect(burst(series([0, 99]))).toBeUndefined();
  });

  it('a steady high counter is not a burst: only the increase counts', () => {
    expect(burst(series([5000, 5000, 5010]))).toBeUndefined();
  });

  it('handles a counter reset after a driver reload (drop = restart from zero)', () => {
    // 900 → 10 after the reload: 10 new errors, then 110 more. last − first would say −780.
    expect(burst(series([900, 10, 120]))?.value).toBe(120);
    // 80 → 90 (+10) → 5 (reset, +5) → 60 (+55) = 70, below 100.
    expect(burst(series([80, 90, 5, 60]))).toBeUndefined();
    expect(burst(series([80, 90, 5, 60]), { eccCorrectableBurst: 50 })?.value).toBe(70);
  });

  it('skips unreported values instead of treating them as zero', () => {
    expect(burst(series([0, null, 50, null, 120]))?.value).toBe(120);
    // Treating null as 0 would turn 500 → null → 510 into a reset and count 510.
    expect(burst(series([500, null, 510]))).toBeUndefined();
  });

  it('ignores readings older than the ECC window', () => {
    const old = makeReading({ sampledAt: secondsBefore(7200), eccCorrectedVolatile: 0 });
    const recent = [old, ...series([500, 600])];
    expect(burst(recent, { eccCorrectableBurst: 150 })).toBeUndefined();
    expect(burst(recent, { eccCorrectableBurst: 150, eccWindowSeconds: 3 * 3600 })?.value).toBe(600);
  });

  it('includes latest even when the caller left it out of recent, and does not count it twice', () => {
    const recent = series([0, 60]);
    const latest = makeReading({ sampledAt: secondsBefore(1), eccCorrectedVolatile: 110 });
    expect(burst(recent, {}, latest)?.value).toBe(110);
    expect(burst([...recent, latest], {}, latest)?.value).toBe(110);
  });

  it('sorts readings itself, so a shuffled window gives the same answer', () => {
    const ordered = series([0, 30, 70, 130]);
    const shuffled = [ordered[2]!, ordered[0]!, ordered[3]!, ordered[1]!];
    expect(burst(shuffled, {}, ordered[3]!)?.value).toBe(130);
  });

  it("ignores another GPU's readings", () => {
    const foreign = makeReading({ uuid: OTHER_UUID, sampledAt: secondsBefore(30), eccCorrectedVolatile: 0 });
    expect(burst([...series([1000, 1050]), foreign])).toBeUndefined();
  });

  it('needs at least two values to see an increase', () => {
    expect(burst(series([5000]))).toBeUndefined();
    expect(burst([], {}, null)).toBeUndefined();
  });

  it('still reports a burst from the window when the latest reading has gone stale', () => {
    const recent = series([0, 300]).map((r, i) => ({ ...r, sampledAt: secondsBefore(900 - i * 60) }));
    const result = evaluateGpuHealth({ latest: recent.at(-1)!, recent, xids: [], now: NOW });
    expect(result.status).toBe('warning');
    expect(result.reasons.map((r) => r.code)).toEqual(['ecc_correctable_burst', 'no_data']);
  });
});
