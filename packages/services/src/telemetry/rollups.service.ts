import type { Db, PrismaClient } from '@fleetplane/db';
import { bucketStart, mergeRollups, rollupReadings, type GpuRollupValues } from '@fleetplane/domain';
import { LATE_SAMPLE_SECONDS } from './ingest.service';
import {
  firstSampleAt,
  minuteRollupsIn,
  rawSamplesIn,
  upsertClusterMinuteRollups,
  upsertGpuRollups,
  type RawRollupInput,
  type RollupRow,
} from './rollups.sql';
import { tryLockKey } from '../shared/locks.sql';

/** Setting key of the first minute the repeatable rollup has not covered yet (ISO timestamp). */
export const ROLLUP_WATERMARK_KEY = 'telemetry.rollup.minute_watermark';
/** How far back each run re-aggregates, so samples arriving a little late are folded in. */
export const ROLLUP_OVERLAP_MS = LATE_SAMPLE_SECONDS * 1000;
/** At most this much new time per run: after an outage the worker catches up in steps, never in one huge read. */
export const ROLLUP_MAX_STEP_MS = 60 * 60_000;
/** On the very first run, how much history to roll up. */
export const ROLLUP_FIRST_RUN_MS = 6 * 3_600_000;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function strip(values: GpuRollupValues): GpuRollupValues {
  const {
    sampleCount,
    utilizationGpuAvg,
    utilizationGpuMax,
    memoryUsedMibAvg,
    memoryUsedMibMax,
    temperatureCAvg,
    temperatureCMax,
    powerDrawWAvg,
    powerDrawWMax,
  } = values;
  return {
    sampleCount,
    utilizationGpuAvg,
    utilizationGpuMax,
    memoryUsedMibAvg,
    memoryUsedMibMax,
    temperatureCAvg,
    temperatureCMax,
    powerDrawWAvg,
    powerDrawWMax,
  };
}

/** Minute rollups of [from, to) (minute-aligned) from raw samples, with the domain's null-aware maths. */
export async function rollupMinutes(db: Db, from: Date, to: Date): Promise<number> {
  const raw = await rawSamplesIn(db, from, to);
  const groups = new Map<string, { gpuId: string; bucket: Date; readings: RawRollupInput[] }>();
  for (const r of raw) {
    const bucket = bucketStart(r.sampled_at, 'minute');
    const key = `${r.gpu_id}|${bucket.getTime()}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { gpuId: r.gpu_id, bucket, readings: [] }));
    g.readings.push(r);
  }
  const rows: RollupRow[] = [...groups.values()].map((g) => ({
    gpuId: g.gpuId,
    bucketStart: g.bucket.toISOString(),
    ...strip(
      rollupReadings(
        g.readings.map((r) => ({
          utilizationGpuPct: r.utilization_gpu_pct,
          memoryUsedMib: r.memory_used_mib,
          temperatureC: r.temperature_c,
          powerDrawW: r.power_draw_w,
        })),
      ),
    ),
  }));
  await upsertGpuRollups(db, 'minute', rows);
  await upsertClusterMinuteRollups(db, from, to);
  return rows.length;
}

/** Hour rollups of the hours touching [from, to), merged from the minute rollups (weighted by sample count). */
export async function rollupHours(db: Db, from: Date, to: Date): Promise<number> {
  const h0 = bucketStart(from, 'hour');
  const h1 = new Date(bucketStart(new Date(to.getTime() - 1), 'hour').getTime() + HOUR_MS);
  const minutes = await minuteRollupsIn(db, h0, h1);
  const groups = new Map<string, { gpuId: string; bucket: Date; parts: GpuRollupValues[] }>();
  for (const m of minutes) {
    const bucket = bucketStart(m.bucket_start, 'hour');
    const key = `${m.gpu_id}|${bucket.getTime()}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { gpuId: m.gpu_id, bucket, parts: [] }));
    g.parts.push(m);
  }
  const rows: RollupRow[] = [...groups.values()].map((g) => ({
    gpuId: g.gpuId,
    bucketStart: g.bucket.toISOString(),
    ...strip(mergeRollups(g.parts)),
  }));
  await upsertGpuRollups(db, 'hour', rows);
  return rows.length;
}

export interface RollupRunResult {
  from: string;
  to: string;
  minuteBuckets: number;
  hourBuckets: number;
  /** Another run held the lock; this one did nothing. */
  skipped: boolean;
}

/**
 * The repeatable run: from the stored watermark (minus an overlap for late samples, and skipping ahead
 * to the first sample when there is a gap) up to the last complete minute, at most an hour of new
 * time per run. With `range`, a backfill of exactly that
 * range, leaving the watermark alone. Buckets are recomputed from their sources every time, so any
 * number of runs, in any order, converge on the same rows.
 */
export async function runTelemetryRollup(
  prisma: PrismaClient,
  opts: { now?: Date; range?: { from: Date; to: Date }; rawRetentionHours?: number } = {},
): Promise<RollupRunResult> {
  const now = opts.now ?? new Date();
  if (opts.range) {
    const from = bucketStart(opts.range.from, 'minute');
    const to = new Date(
      Math.min(bucketStart(new Date(opts.range.to.getTime() + MINUTE_MS - 1), 'minute').getTime(), bucketStart(now, 'minute').getTime()),
    );
    if (to <= from) return { from: from.toISOString(), to: to.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: false };
    const minuteBuckets = await rollupMinutes(prisma, from, to);
    const hourBuckets = await rollupHours(prisma, from, to);
    return { from: from.toISOString(), to: to.toISOString(), minuteBuckets, hourBuckets, skipped: false };
  }
  return prisma.$transaction(
    async (tx) => {
      const locked = await tryLockKey(tx, 'fleetplane.telemetry-rollup');
      const end = bucketStart(now, 'minute');
      if (!locked) return { from: end.toISOString(), to: end.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: true };
      const setting = await tx.setting.findUnique({ where: { key: ROLLUP_WATERMARK_KEY } });
      const watermark = typeof setting?.value === 'string' ? new Date(setting.value) : null;
      const oldest = end.getTime() - (opts.rawRetentionHours ?? 48) * HOUR_MS;
      const valid = watermark && !Number.isNaN(watermark.getTime()) ? watermark : null;
      let start = new Date(Math.max(valid ? valid.getTime() - ROLLUP_OVERLAP_MS : end.getTime() - ROLLUP_FIRST_RUN_MS, oldest));
      const saveWatermark = (at: Date) =>
        tx.setting.upsert({
          where: { key: ROLLUP_WATERMARK_KEY },
          create: { key: ROLLUP_WATERMARK_KEY, value: at.toISOString() },
          update: { value: at.toISOString() },
        });
      if (end <= start) return { from: start.toISOString(), to: end.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: false };
      // Skip time without samples (a first run, a fleet that was down): start at the first sample.
      const firstAt = await firstSampleAt(tx, start, end);
      if (!firstAt) {
        await saveWatermark(end);
        return { from: start.toISOString(), to: end.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: false };
      }
      start = new Date(Math.max(start.getTime(), bucketStart(firstAt, 'minute').getTime()));
      const stop = new Date(Math.min(end.getTime(), Math.max(start.getTime(), valid?.getTime() ?? start.getTime()) + ROLLUP_MAX_STEP_MS));
      const minuteBuckets = await rollupMinutes(tx, start, stop);
      const hourBuckets = await rollupHours(tx, start, stop);
      await saveWatermark(stop);
      return { from: start.toISOString(), to: stop.toISOString(), minuteBuckets, hourBuckets, skipped: false };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}
