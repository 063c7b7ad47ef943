import { assertValidDate } from './format';
import type { GpuReading } from './types';

export type RollupResolution = 'minute' | 'hour';

const BUCKET_MS: Record<RollupResolution, number> = { minute: 60_000, hour: 3_600_000 };

/** Start of the UTC minute or hour containing `date` (UTC, so a DST change never makes a 59- or 61-minute hour). */
export function bucketStart(date: Date, resolution: RollupResolution): Date {
  assertValidDate(date, 'date');
  const size = BUCKET_MS[resolution];
  if (size === undefined) throw new RangeError(`Unknown rollup resolution "${String(resolution)}"`);
  const ms = date.getTime();
  return new Date(ms - (((ms % size) + size) % size));
}

export type RollupReading = Pick<GpuReading, 'utilizationGpuPct' | 'memoryUsedMib' | 'temperatureC' | 'powerDrawW'>;

/** Same columns as the gpu_rollup table. An all-null field stays null, never 0. */
export interface GpuRollupValues {
  sampleCount: number;
  utilizationGpuAvg: number | null;
  utilizationGpuMax: number | null;
  memoryUsedMibAvg: number | null;
  memoryUsedMibMax: number | null;
  temperatureCAvg: number | null;
  temperatureCMax: number | null;
  powerDrawWAvg: number | null;
  powerDrawWMax: number | null;
}

const FIELDS = [
  { key: 'utilizationGpu', reading: 'utilizationGpuPct', avg: 'utilizationGpuAvg', max: 'utilizationGpuMax' },
  { key: 'memoryUsedMib', reading: 'memoryUsedMib', avg: 'memoryUsedMibAvg', max: 'memoryUsedMibMax' },
  { key: 'temperatureC', reading: 'temperatureC', avg: 'temperatureCAvg', max: 'temperatureCMax' },
  { key: 'powerDrawW', reading: 'powerDrawW', avg: 'powerDrawWAvg', max: 'powerDrawWMax' },
] as const;

type FieldKey = (typeof FIELDS)[number]['key'];

/**
 * How many non-null values each average was computed from. Weighting by sampleCount alone is only
 * exact when a field is reported in every sample or in none; these counts keep merges exact when a
 * card reports a field intermittently. Rows read back from gpu_rollup lack them and fall back to
 * sampleCount.
 */
export type RollupValueCounts = Record<FieldKey, number>;

export interface GpuRollup extends GpuRollupValues {
  valueCounts: RollupValueCounts;
}

interface Acc {
  sum: number;
  count: number;
  max: number | null;
}

const emptyAcc = (): Acc => ({ sum: 0, count: 0, max: null });

function finish(sampleCount: number, accs: Record<FieldKey, Acc>): GpuRollup {
  const out = { sampleCount, valueCounts: {} as RollupValueCounts } as GpuRollup;
  for (const f of FIELDS) {
    const a = accs[f.key];
    out[f.avg] = a.count > 0 ? a.sum / a.count : null;
    out[f.max] = a.max;
    out.valueCounts[f.key] = a.count;
  }
  return out;
}

function newAccs(): Record<FieldKey, Acc> {
  return { utilizationGpu: emptyAcc(), memoryUsedMib: emptyAcc(), temperatureC: emptyAcc(), powerDrawW: emptyAcc() };
}

/** Rollup of raw samples. null (and NaN/±Infinity, which no card reports) are skipped, not counted as 0. */
export function rollupReadings(readings: readonly RollupReading[]): GpuRollup {
  const accs = newAccs();
  for (const r of readings) {
    for (const f of FIELDS) {
      const v = r[f.reading];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const a = accs[f.key];
      a.sum += v;
      a.count += 1;
      a.max = a.max === null ? v : Math.max(a.max, v);
    }
  }
  return finish(readings.length, accs);
}

/**
 * Combines rollups (e.g. sixty minute rollups into an hour) with averages weighted by how many
 * values each one averaged, so a minute with 6 samples outweighs a minute with 1.
 */
export function mergeRollups(rollups: readonly (GpuRollupValues & { valueCounts?: RollupValueCounts })[]): GpuRollup {
  const accs = newAccs();
  let sampleCount = 0;
  for (const [i, r] of rollups.entries()) {
    if (!Number.isSafeInteger(r.sampleCount) || r.sampleCount < 0) {
      throw new RangeError(`Rollup ${i} has an invalid sampleCount ${r.sampleCount}; it must be a non-negative integer`);
    }
    sampleCount += r.sampleCount;
    for (const f of FIELDS) {
      const avg = r[f.avg];
      const max = r[f.max];
      const a = accs[f.key];
      if (avg !== null && Number.isFinite(avg)) {
        const weight = r.valueCounts ? r.valueCounts[f.key] : r.sampleCount;
        a.sum += avg * weight;
        a.count += weight;
      }
      if (max !== null && Number.isFinite(max)) a.max = a.max === null ? max : Math.max(a.max, max);
    }
  }
  return finish(sampleCount, accs);
}
