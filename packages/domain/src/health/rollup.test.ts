import { describe, expect, it } from 'vitest';
import { bucketStart, mergeRollups, rollupReadings, type GpuRollupValues, type RollupReading } from './rollup';

const r = (
  utilizationGpuPct: number | null,
  memoryUsedMib: number | null,
  temperatureC: number | null,
  powerDrawW: number | null,
): RollupReading => ({
  utilizationGpuPct,
  memoryUsedMib,
  temperatureC,
  powerDrawW,
});

describe('bucketStart', () => {
  it('floors to the UTC minute and hour', () => {
    const d = new Date('2026-05-01T12:34:56.789Z');
    expect(bucketStart(d, 'minute').toISOString()).toBe('2026-05-01T12:34:00.000Z');
    expect(bucketStart(d, 'hour').toISOString()).toBe('2026-05-01T12:00:00.000Z');
  });

  it('leaves a date already on the boundary unchanged, and puts the last millisecond in the earlier bucket', () => {
    expect(bucketStart(new Date('2026-05-01T12:00:00.000Z'), 'hour').toISOString()).toBe('2026-05-01T12:00:00.000Z');
    expect(bucketStart(new Date('2026-05-01T12:59:59.999Z'), 'hour').toISOString()).toBe('2026-05-01T12:00:00.000Z');
  });

  it('uses UTC even across a local DST change', () => {
    // 2026-03-29 01:30 UTC is inside the hour Europe skips; UTC buckets do not care.
    expect(bucketStart(new Date('2026-03-29T01:30:00Z'), 'hour').toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('handles dates before 1970', () => {
    expect(bucketStart(new Date('1969-12-31T23:59:30.500Z'), 'minute').toISOString()).toBe('1969-12-31T23:59:00.000Z');
  });

  it('does not mutate its input and rejects bad input', () => {
    const d = new Date('2026-05-01T12:34:56.789Z');
    bucketStart(d, 'hour');
    expect(d.toISOString()).toBe('2026-05-01T12:34:56.789Z');
    expect(() => bucketStart(new Date('nope'), 'minute')).toThrow(/date must be a valid Date/);
    expect(() => bucketStart(d, 'day' as never)).toThrow(/Unknown rollup resolution "day"/);
  });
});

describe('rollupReadings', () => {
  it('averages and maxes each field', () => {
    const out = rollupReadings([r(90, 74000, 60, 500), r(100, 74200, 66, 650.5), r(80, 74100, 63, 540)]);
    expect(out).toMatchObject({
      sampleCount: 3,
      utilizationGpuAvg: 90,
      utilizationGpuMax: 100,
      memoryUsedMibAvg: 74100,
      memoryUsedMibMax: 74200,
      temperatureCAvg: 63,
      temperatureCMax: 66,
      powerDrawWMax: 650.5,
    });
    expect(out.powerDrawWAvg).toBeCloseTo(563.5, 10);
  });

  it('ignores nulls instead of averaging them as zero', () => {
    const out = rollupReadings([r(90, null, 60, null), r(null, null, 70, null)]);
    expect(out.utilizationGpuAvg).toBe(90);
    expect(out.temperatureCAvg).toBe(65);
    expect(out.valueCounts).toEqual({ utilizationGpu: 1, memoryUsedMib: 0, temperatureC: 2, powerDrawW: 0 });
  });

  it('keeps an all-null field null (MIG cards report utilisation as [N/A])', () => {
    const out = rollupReadings([r(null, 11125, 53, 433.78), r(null, 11125, 54, 430)]);
    expect(out.utilizationGpuAvg).toBeNull();
    expect(out.utilizationGpuMax).toBeNull();
    expect(out.memoryUsedMibAvg).toBe(11125);
  });

  it('treats a real zero as a value', () => {
    expect(rollupReadings([r(0, 0, 30, 60), r(0, 0, 30, 60)])).toMatchObject({
      utilizationGpuAvg: 0,
      utilizationGpuMax: 0,
      memoryUsedMibMax: 0,
    });
  });

  it('skips NaN and Infinity', () => {
    expect(rollupReadings([r(Number.NaN, null, Number.POSITIVE_INFINITY, null), r(50, null, 40, null)])).toMatchObject({
      utilizationGpuAvg: 50,
      temperatureCMax: 40,
    });
  });

  it('an empty bucket has zero samples and only nulls', () => {
    expect(rollupReadings([])).toEqual({
      sampleCount: 0,
      utilizationGpuAvg: null,
      utilizationGpuMax: null,
      memoryUsedMibAvg: null,
      memoryUsedMibMax: null,
      temperatureCAvg: null,
      temperatureCMax: null,
      powerDrawWAvg: null,
      powerDrawWMax: null,
      valueCounts: { utilizationGpu: 0, memoryUsedMib: 0, temperatureC: 0, powerDrawW: 0 },
    });
  });
});

describe('mergeRollups', () => {
  it('weights averages by sample count (an hour from minutes of different sizes)', () => {
    const busy = rollupReadings(Array.from({ length: 6 }, () => r(100, 80000, 70, 700)));
    const quiet = rollupReadings([r(10, 1000, 40, 100)]);
    const hour = mergeRollups([busy, quiet]);
    expect(hour.sampleCount).toBe(7);
    expect(hour.utilizationGpuAvg).toBeCloseTo(610 / 7, 10);
    expect(hour.utilizationGpuAvg).not.toBeCloseTo(55, 1); // the unweighted mean of means
    expect(hour.utilizationGpuMax).toBe(100);
    expect(hour.temperatureCAvg).toBeCloseTo((6 * 70 + 40) / 7, 10);
  });

  it('equals rolling up all the raw readings at once', () => {
    const minutes = [
      [r(10, 100, 40, 50), r(20, 200, 41, null), r(null, 300, 42, 70)],
      [r(90, null, 80, 690)],
      [r(55, 555, null, 300), r(65, 565, 60, 310)],
    ];
    const merged = mergeRollups(minutes.map(rollupReadings));
    const direct = rollupReadings(minutes.flat());
    expect(merged.sampleCount).toBe(direct.sampleCount);
    expect(merged.valueCounts).toEqual(direct.valueCounts);
    for (const key of ['utilizationGpuAvg', 'memoryUsedMibAvg', 'temperatureCAvg', 'powerDrawWAvg'] as const) {
      expect(merged[key]).toBeCloseTo(direct[key]!, 10);
    }
    expect(merged.powerDrawWMax).toBe(direct.powerDrawWMax);
  });

  it('falls back to sampleCount for rows read back from gpu_rollup (no value counts)', () => {
    const row = (sampleCount: number, avg: number | null): GpuRollupValues => ({
      sampleCount,
      utilizationGpuAvg: avg,
      utilizationGpuMax: avg,
      memoryUsedMibAvg: null,
      memoryUsedMibMax: null,
      temperatureCAvg: null,
      temperatureCMax: null,
      powerDrawWAvg: null,
      powerDrawWMax: null,
    });
    const hour = mergeRollups([row(6, 50), row(2, 90), row(4, null)]);
    expect(hour.sampleCount).toBe(12);
    expect(hour.utilizationGpuAvg).toBeCloseTo((6 * 50 + 2 * 90) / 8, 10);
    expect(hour.utilizationGpuMax).toBe(90);
    expect(hour.memoryUsedMibAvg).toBeNull();
  });

  it('merging nothing gives an empty rollup, and rejects a bad sampleCount', () => {
    expect(mergeRollups([]).sampleCount).toBe(0);
    expect(mergeRollups([]).temperatureCAvg).toBeNull();
    expect(() => mergeRollups([{ ...rollupReadings([]), sampleCount: -1 }])).toThrow(/Rollup 0 has an invalid sampleCount -1/);
  });
});
