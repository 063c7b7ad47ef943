// The Prometheus scrape's per-cluster gauges, from each GPU's newest sample in the live window.
import type { PrismaClient } from '@fleetplane/db';

export interface ClusterGaugeRow {
  name: string;
  health: string;
  util: number | null;
  mem_used: number | null;
  power: number | null;
  reporting: number;
}

/** Per cluster: average utilisation, memory and power summed over its GPUs' newest samples in [from, to]. */
export function liveClusterGauges(prisma: PrismaClient, from: Date, to: Date): Promise<ClusterGaugeRow[]> {
  return prisma.$queryRaw<ClusterGaugeRow[]>`
    WITH latest AS (
      SELECT DISTINCT ON (s.gpu_id) s.gpu_id, s.node_id, s.utilization_gpu_pct, s.memory_used_mib, s.power_draw_w
        FROM gpu_sample s WHERE s.sampled_at >= ${from} AND s.sampled_at <= ${to} ORDER BY s.gpu_id, s.sampled_at DESC)
    SELECT c.name, c.health::text AS health, AVG(l.utilization_gpu_pct)::float8 AS util, SUM(l.memory_used_mib)::float8 AS mem_used,
           SUM(l.power_draw_w)::float8 AS power, COUNT(l.gpu_id)::int AS reporting
      FROM cluster c LEFT JOIN node n ON n.cluster_id = c.id LEFT JOIN latest l ON l.node_id = n.id
     GROUP BY c.id, c.name, c.health`;
}
