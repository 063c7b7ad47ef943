import type { Db, PrismaClient } from '@fleetplane/db';
import { bucketStart, mergeRollups, rollupReadings, type GpuRollupValues, type RollupResolution } from '@fleetplane/domain';
import { LATE_SAMPLE_SECONDS } from './ingest.service';

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

interface RawRow {
  gpu_id: string;
  sampled_at: Date;
  utilization_gpu_pct: number | null;
  memory_used_mib: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
}

interface RollupRow extends GpuRollupValues {
  gpuId: string;
  bucketStart: string;
}

async function upsertRollups(db: Db, resolution: RollupResolution, rows: RollupRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  // A recomputed bucket replaces the stored one: the job is idempotent and late samples are folded in.
  return db.$executeRawUnsafe(
    `INSERT INTO gpu_rollup (gpu_id, resolution, bucket_start, sample_count, utilization_gpu_avg, utilization_gpu_max,
       memory_used_mib_avg, memory_used_mib_max, temperature_c_avg, temperature_c_max, power_draw_w_avg, power_draw_w_max)
     SELECT r."gpuId", $2::"RollupResolution", r."bucketStart", r."sampleCount", r."utilizationGpuAvg", r."utilizationGpuMax",
       r."memoryUsedMibAvg", ROUND(r."memoryUsedMibMax")::int, r."temperatureCAvg", r."temperatureCMax", r."powerDrawWAvg", r."powerDrawWMax"
     FROM json_to_recordset($1::json) AS r("gpuId" text, "bucketStart" timestamptz, "sampleCount" int, "utilizationGpuAvg" float8,
       "utilizationGpuMax" float8, "memoryUsedMibAvg" float8, "memoryUsedMibMax" float8, "temperatureCAvg" float8, "temperatureCMax" float8,
       "powerDrawWAvg" float8, "powerDrawWMax" float8)
     JOIN gpu g ON g.id = r."gpuId"
     ON CONFLICT (gpu_id, resolution, bucket_start) DO UPDATE SET
       sample_count = EXCLUDED.sample_count, utilization_gpu_avg = EXCLUDED.utilization_gpu_avg, utilization_gpu_max = EXCLUDED.utilization_gpu_max,
       memory_used_mib_avg = EXCLUDED.memory_used_mib_avg, memory_used_mib_max = EXCLUDED.memory_used_mib_max,
       temperature_c_avg = EXCLUDED.temperature_c_avg, temperature_c_max = EXCLUDED.temperature_c_max,
       power_draw_w_avg = EXCLUDED.power_draw_w_avg, power_draw_w_max = EXCLUDED.power_draw_w_max`,
    JSON.stringify(rows),
    resolution,
  );
}

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
  const raw = await db.$queryRaw<RawRow[]>`
    SELECT gpu_id, sampled_at, utilization_gpu_pct, memory_used_mib, temperature_c, power_draw_w
      FROM gpu_sample WHERE sampled_at >= ${from} AND sampled_at < ${to}`;
  const groups = new Map<string, { gpuId: string; bucket: Date; readings: RawRow[] }>();
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
  await upsertRollups(db, 'minute', rows);
  await rollupClusterMinutes(db, from, to);
  return rows.length;
}

/**
 * Per-cluster minute aggregates of [from, to) from the GPU minute rollups just written (sample-weighted
 * utilisation, summed mean power), recomputed whole like every bucket here.
 */
async function rollupClusterMinutes(db: Db, from: Date, to: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO cluster_rollup (cluster_id, resolution, bucket_start, gpu_count, utilization_gpu_avg, power_draw_w)
    SELECT n.cluster_id, 'minute', r.bucket_start, COUNT(*)::int,
           SUM(r.utilization_gpu_avg * r.sample_count) / NULLIF(SUM(r.sample_count) FILTER (WHERE r.utilization_gpu_avg IS NOT NULL), 0),
           SUM(r.power_draw_w_avg)
      FROM gpu_rollup r JOIN gpu g ON g.id = r.gpu_id JOIN node n ON n.id = g.node_id
     WHERE r.resolution = 'minute' AND r.bucket_start >= ${from} AND r.bucket_start < ${to}
     GROUP BY 1, 3
    ON CONFLICT (cluster_id, resolution, bucket_start) DO UPDATE SET
      gpu_count = EXCLUDED.gpu_count, utilization_gpu_avg = EXCLUDED.utilization_gpu_avg, power_draw_w = EXCLUDED.power_draw_w`;
}

interface StoredRollup extends GpuRollupValues {
  gpu_id: string;
  bucket_start: Date;
}

/** Hour rollups of the hours touching [from, to), merged from the minute rollups (weighted by sample count). */
export async function rollupHours(db: Db, from: Date, to: Date): Promise<number> {
  const h0 = bucketStart(from, 'hour');
  const h1 = new Date(bucketStart(new Date(to.getTime() - 1), 'hour').getTime() + HOUR_MS);
  const minutes = await db.$queryRaw<StoredRollup[]>`
    SELECT gpu_id, bucket_start, sample_count AS "sampleCount", utilization_gpu_avg AS "utilizationGpuAvg", utilization_gpu_max AS "utilizationGpuMax",
           memory_used_mib_avg AS "memoryUsedMibAvg", memory_used_mib_max AS "memoryUsedMibMax", temperature_c_avg AS "temperatureCAvg",
           temperature_c_max AS "temperatureCMax", power_draw_w_avg AS "powerDrawWAvg", power_draw_w_max AS "powerDrawWMax"
      FROM gpu_rollup WHERE resolution = 'minute' AND bucket_start >= ${h0} AND bucket_start < ${h1}`;
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
  await upsertRollups(db, 'hour', rows);
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
      const [lock] = await tx.$queryRaw<
        { locked: boolean }[]
      >`SELECT pg_try_advisory_xact_lock(hashtext('fleetplane.telemetry-rollup')) AS locked`;
      const end = bucketStart(now, 'minute');
      if (!lock?.locked) return { from: end.toISOString(), to: end.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: true };
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
      const [first] = await tx.$queryRaw<
        { at: Date | null }[]
      >`SELECT MIN(sampled_at) AS at FROM gpu_sample WHERE sampled_at >= ${start} AND sampled_at < ${end}`;
      if (!first?.at) {
        await saveWatermark(end);
        return { from: start.toISOString(), to: end.toISOString(), minuteBuckets: 0, hourBuckets: 0, skipped: false };
      }
      start = new Date(Math.max(start.getTime(), bucketStart(first.at, 'minute').getTime()));
      const stop = new Date(Math.min(end.getTime(), Math.max(start.getTime(), valid?.getTime() ?? start.getTime()) + ROLLUP_MAX_STEP_MS));
      const minuteBuckets = await rollupMinutes(tx, start, stop);
      const hourBuckets = await rollupHours(tx, start, stop);
      await saveWatermark(stop);
      return { from: start.toISOString(), to: stop.toISOString(), minuteBuckets, hourBuckets, skipped: false };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}
