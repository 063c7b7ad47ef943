// The cost report's reads of engine samples and GPU rollups for one cluster and window.
import type { PrismaClient } from '@fleetplane/db';

/** The cluster's engine token counters in (from, to], plus each node's last sample at or before `from` so the first increase inside is counted. */
export function engineTokenCounters(
  prisma: PrismaClient,
  clusterId: string,
  from: Date,
  to: Date,
): Promise<{ node_id: string; sampled_at: Date; prompt: number | null; generation: number | null }[]> {
  return prisma.$queryRaw`
    SELECT node_id, sampled_at, prompt_tokens_total AS prompt, generation_tokens_total AS generation
      FROM engine_sample WHERE cluster_id = ${clusterId} AND sampled_at > ${from} AND sampled_at <= ${to}
    UNION ALL
    SELECT DISTINCT ON (node_id) node_id, sampled_at, prompt_tokens_total, generation_tokens_total
      FROM engine_sample WHERE cluster_id = ${clusterId} AND sampled_at <= ${from}
     ORDER BY 1, 2`;
}

/** Sample-weighted mean utilisation and power of the cluster's GPUs over [from, to) from rollups of `resolution` (they outlive raw samples). */
export function clusterRollupAverages(
  prisma: PrismaClient,
  clusterId: string,
  resolution: 'minute' | 'hour',
  from: Date,
  to: Date,
): Promise<{ util: number | null; power: number | null; gpus: number }[]> {
  return prisma.$queryRaw`
    SELECT (SUM(r.utilization_gpu_avg * r.sample_count) / NULLIF(SUM(r.sample_count) FILTER (WHERE r.utilization_gpu_avg IS NOT NULL), 0))::float8 AS util,
           (SUM(r.power_draw_w_avg * r.sample_count) / NULLIF(SUM(r.sample_count) FILTER (WHERE r.power_draw_w_avg IS NOT NULL), 0))::float8 AS power,
           COUNT(DISTINCT r.gpu_id)::int AS gpus
      FROM gpu_rollup r JOIN gpu g ON g.id = r.gpu_id JOIN node n ON n.id = g.node_id
     WHERE n.cluster_id = ${clusterId} AND r.resolution::text = ${resolution} AND r.bucket_start >= ${from} AND r.bucket_start < ${to}`;
}

/** When the cluster's GPUs or engines first reported (rollups outlive raw samples; LEAST skips nulls). */
export function clusterFirstSeen(prisma: PrismaClient, clusterId: string): Promise<{ first_seen: Date | null }[]> {
  return prisma.$queryRaw`
    SELECT LEAST(
             (SELECT MIN(sampled_at) FROM engine_sample WHERE cluster_id = ${clusterId}),
             (SELECT MIN(r.bucket_start) FROM gpu_rollup r JOIN gpu g ON g.id = r.gpu_id JOIN node n ON n.id = g.node_id WHERE n.cluster_id = ${clusterId})
           ) AS first_seen`;
}
