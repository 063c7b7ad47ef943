// The rollup job's reads and upserts: whole windows of raw samples or minute rollups in, one set-based
// upsert per resolution out (JSON in, no per-row parameters).
import type { Db } from '@fleetplane/db';
import type { GpuRollupValues, RollupResolution } from '@fleetplane/domain';

export interface RawRollupInput {
  gpu_id: string;
  sampled_at: Date;
  utilization_gpu_pct: number | null;
  memory_used_mib: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
}

export interface StoredRollup extends GpuRollupValues {
  gpu_id: string;
  bucket_start: Date;
}

export interface RollupRow extends GpuRollupValues {
  gpuId: string;
  /** ISO timestamp of the bucket's start. */
  bucketStart: string;
}

/** The readings the rollups use of every raw sample in [from, to). */
export function rawSamplesIn(db: Db, from: Date, to: Date): Promise<RawRollupInput[]> {
  return db.$queryRaw<RawRollupInput[]>`
    SELECT gpu_id, sampled_at, utilization_gpu_pct, memory_used_mib, temperature_c, power_draw_w
      FROM gpu_sample WHERE sampled_at >= ${from} AND sampled_at < ${to}`;
}

/** The stored minute rollups in [from, to). */
export function minuteRollupsIn(db: Db, from: Date, to: Date): Promise<StoredRollup[]> {
  return db.$queryRaw<StoredRollup[]>`
    SELECT gpu_id, bucket_start, sample_count AS "sampleCount", utilization_gpu_avg AS "utilizationGpuAvg", utilization_gpu_max AS "utilizationGpuMax",
           memory_used_mib_avg AS "memoryUsedMibAvg", memory_used_mib_max AS "memoryUsedMibMax", temperature_c_avg AS "temperatureCAvg",
           temperature_c_max AS "temperatureCMax", power_draw_w_avg AS "powerDrawWAvg", power_draw_w_max AS "powerDrawWMax"
      FROM gpu_rollup WHERE resolution = 'minute' AND bucket_start >= ${from} AND bucket_start < ${to}`;
}

/** The time of the first raw sample in [from, to), or null when there is none. */
export async function firstSampleAt(db: Db, from: Date, to: Date): Promise<Date | null> {
  const [first] = await db.$queryRaw<
    { at: Date | null }[]
  >`SELECT MIN(sampled_at) AS at FROM gpu_sample WHERE sampled_at >= ${from} AND sampled_at < ${to}`;
  return first?.at ?? null;
}

/** Writes GPU rollups; a recomputed bucket replaces the stored one, so the job is idempotent and late samples are folded in. */
export async function upsertGpuRollups(db: Db, resolution: RollupResolution, rows: RollupRow[]): Promise<number> {
  if (rows.length === 0) return 0;
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

/**
 * Per-cluster minute aggregates of [from, to) from the GPU minute rollups just written (sample-weighted
 * utilisation, summed mean power), recomputed whole like every bucket.
 */
export async function upsertClusterMinuteRollups(db: Db, from: Date, to: Date): Promise<void> {
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
