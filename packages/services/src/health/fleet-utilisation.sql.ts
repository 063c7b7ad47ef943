// The fleet overview's reads of live telemetry and rollups, grouped per cluster in SQL.
import type { PrismaClient } from '@fleetplane/db';
import type { THealthStatus } from '@fleetplane/contracts';

export interface LiveClusterRow {
  cluster_id: string;
  reporting: number;
  util_avg: number | null;
  mem_used: number | null;
  mem_total: number | null;
  power: number | null;
  power_limit: number | null;
  temp_max: number | null;
}

export interface EngineScrapeRow {
  node_id: string;
  cluster_id: string;
  sampled_at: Date;
  rn: bigint;
  generation_tokens_total: number | null;
  prompt_tokens_total: number | null;
  kv_cache_usage_fraction: number | null;
  running_requests: number | null;
  waiting_requests: number | null;
}

/**
 * Per cluster: GPU utilisation, memory, power and temperature from each GPU's newest sample in [from, to].
 * The newest sample's gauges are on the GPU row (gpu.last_*, written by ingest with the sample at
 * last_sample_at): one scan of the GPU table instead of one index probe per GPU into the sample partitions
 * (8,000 probes at fleet size). A GPU whose newest sample is dated after `to` (its node's clock runs ahead,
 * within the tolerated skew), or whose last_sample_at is unset (a sample written past ingest), still gets
 * its newest sample in the window by probe.
 */
export function liveGpuTotalsByCluster(prisma: PrismaClient, from: Date, to: Date): Promise<LiveClusterRow[]> {
  return prisma.$queryRaw<LiveClusterRow[]>`
    SELECT n.cluster_id, COUNT(*)::int AS reporting, AVG(l.utilization_gpu_pct)::float8 AS util_avg,
           SUM(l.memory_used_mib)::float8 AS mem_used, SUM(l.memory_total_mib)::float8 AS mem_total,
           SUM(l.power_draw_w)::float8 AS power, SUM(l.power_limit_w)::float8 AS power_limit, MAX(l.temperature_c)::float8 AS temp_max
      FROM (
        SELECT g.node_id, g.last_utilization_gpu_pct AS utilization_gpu_pct, g.last_memory_used_mib AS memory_used_mib,
               g.last_memory_total_mib AS memory_total_mib, g.last_power_draw_w AS power_draw_w, g.last_power_limit_w AS power_limit_w,
               g.last_temperature_c AS temperature_c
          FROM gpu g WHERE g.last_sample_at >= ${from} AND g.last_sample_at <= ${to}
        UNION ALL
        SELECT g.node_id, s.utilization_gpu_pct, s.memory_used_mib, s.memory_total_mib, s.power_draw_w, s.power_limit_w, s.temperature_c
          FROM gpu g CROSS JOIN LATERAL (
            SELECT * FROM gpu_sample s WHERE s.gpu_id = g.id AND s.sampled_at >= ${from} AND s.sampled_at <= ${to}
             ORDER BY s.sampled_at DESC LIMIT 1) s
         WHERE g.last_sample_at IS NULL OR g.last_sample_at > ${to}) l
      JOIN node n ON n.id = l.node_id
     GROUP BY n.cluster_id`;
}

/** GPU counts per cluster and health verdict. */
export function gpuHealthByCluster(prisma: PrismaClient): Promise<{ cluster_id: string; health: THealthStatus; count: number }[]> {
  return prisma.$queryRaw`
    SELECT n.cluster_id, g.health::text AS health, COUNT(*)::int AS count FROM gpu g JOIN node n ON n.id = g.node_id GROUP BY 1, 2`;
}

/**
 * Each node's last two engine scrapes in [from, to] (rn 1 is the newest): two points make a counter rate.
 * Read per cluster through the (cluster_id, sampled_at) index, so only the window's rows are read: filtering
 * on sampled_at alone has no index to use and scanned the whole current hour's partition.
 */
export function lastTwoEngineScrapes(prisma: PrismaClient, from: Date, to: Date): Promise<EngineScrapeRow[]> {
  return prisma.$queryRaw<EngineScrapeRow[]>`
    SELECT * FROM (
      SELECT e.node_id, e.cluster_id, e.sampled_at, e.generation_tokens_total, e.prompt_tokens_total, e.kv_cache_usage_fraction,
             e.running_requests, e.waiting_requests, ROW_NUMBER() OVER (PARTITION BY e.node_id ORDER BY e.sampled_at DESC) AS rn
        FROM cluster c CROSS JOIN LATERAL (
          SELECT * FROM engine_sample s WHERE s.cluster_id = c.id AND s.sampled_at >= ${from} AND s.sampled_at <= ${to}) e) t
     WHERE rn <= 2`;
}

/** The per-cluster minute rollups (written by the rollup run) since `from`, oldest first. */
export function clusterMinuteHistory(
  prisma: PrismaClient,
  from: Date,
): Promise<{ cluster_id: string; bucket_start: Date; util: number | null; power: number | null }[]> {
  return prisma.$queryRaw`
    SELECT cluster_id, bucket_start, utilization_gpu_avg AS util, power_draw_w AS power
      FROM cluster_rollup WHERE resolution = 'minute' AND bucket_start >= ${from}
     ORDER BY bucket_start`;
}
