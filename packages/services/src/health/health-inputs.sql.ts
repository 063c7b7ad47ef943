// The health evaluator's reads of raw telemetry: set-based queries over the partitioned sample tables
// that Prisma cannot express (a lateral "newest row" probe per GPU, change points by window function).
import type { PrismaClient } from '@fleetplane/db';

/** One gpu_sample row as stored (snake_case columns). */
export interface GpuSampleRow {
  gpu_id: string;
  sampled_at: Date;
  utilization_gpu_pct: number | null;
  utilization_memory_pct: number | null;
  memory_used_mib: number | null;
  memory_total_mib: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
  power_limit_w: number | null;
  sm_clock_mhz: number | null;
  ecc_corrected_volatile: bigint | null;
  ecc_uncorrected_volatile: bigint | null;
  clocks_event_reasons: bigint | null;
  remapped_rows_correctable: number | null;
  remapped_rows_uncorrectable: number | null;
  remapped_rows_pending: boolean | null;
  remapped_rows_failure: boolean | null;
  error_states: Array<{ field: string; marker: string }> | null;
}

/**
 * Every GPU's newest sample dated at or before `newestAllowed`. That is the sample at gpu.last_sample_at
 * (ingest moves it forward with every sample it stores): an equality probe that run-time partition pruning
 * sends to one partition. The open-ended `ORDER BY sampled_at DESC LIMIT 1` probes every partition up to
 * `newestAllowed` (a Merge Append: the DEFAULT partition rules out reading them newest first), ~50 index
 * probes per GPU with a full retention window; it is kept for GPUs whose last_sample_at is ahead of
 * `newestAllowed` or unset (a sample written past ingest).
 */
export function newestSampleOfEveryGpu(prisma: PrismaClient, newestAllowed: Date): Promise<GpuSampleRow[]> {
  return prisma.$queryRaw<GpuSampleRow[]>`
    SELECT s.* FROM gpu g CROSS JOIN LATERAL (
      SELECT * FROM gpu_sample s WHERE s.gpu_id = g.id AND s.sampled_at = g.last_sample_at LIMIT 1) s
     WHERE g.last_sample_at <= ${newestAllowed}
    UNION ALL
    SELECT s.* FROM gpu g CROSS JOIN LATERAL (
      SELECT * FROM gpu_sample s WHERE s.gpu_id = g.id AND s.sampled_at <= ${newestAllowed} ORDER BY s.sampled_at DESC LIMIT 1) s
     WHERE g.last_sample_at IS NULL OR g.last_sample_at > ${newestAllowed}`;
}

/**
 * The samples in [from, to] where a GPU's corrected-ECC counter changed (its first reading in the window
 * included): the domain's counter maths gives the same increase from these as from every sample.
 */
export function eccChangePoints(
  prisma: PrismaClient,
  from: Date,
  to: Date,
): Promise<{ gpu_id: string; sampled_at: Date; ecc_corrected_volatile: bigint }[]> {
  return prisma.$queryRaw`
    SELECT gpu_id, sampled_at, ecc_corrected_volatile FROM (
      SELECT gpu_id, sampled_at, ecc_corrected_volatile,
             lag(ecc_corrected_volatile) OVER (PARTITION BY gpu_id ORDER BY sampled_at) AS prev
        FROM gpu_sample WHERE sampled_at >= ${from} AND sampled_at <= ${to} AND ecc_corrected_volatile IS NOT NULL) t
     WHERE prev IS NULL OR prev <> ecc_corrected_volatile`;
}

/** XIDs since `from` that were matched to a GPU. */
export function gpuXidsSince(
  prisma: PrismaClient,
  from: Date,
): Promise<{ gpu_id: string; occurred_at: Date; xid: number; message: string }[]> {
  return prisma.$queryRaw`
    SELECT gpu_id, occurred_at, xid, message FROM xid_event WHERE occurred_at >= ${from} AND gpu_id IS NOT NULL`;
}
