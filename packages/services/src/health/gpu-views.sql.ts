// The cluster grid's and the GPU page's reads: health counts, the filtered, worst-first page of nodes,
// and the newest sample of a set of GPUs (a lateral index probe each; Prisma has no such query).
import { Prisma, type PrismaClient } from '@fleetplane/db';
import type { THealthStatus } from '@fleetplane/contracts';
import type { GpuSampleRow } from './health-inputs.sql';

export type LatestSampleRow = Pick<
  GpuSampleRow,
  | 'gpu_id'
  | 'sampled_at'
  | 'utilization_gpu_pct'
  | 'memory_used_mib'
  | 'memory_total_mib'
  | 'temperature_c'
  | 'power_draw_w'
  | 'power_limit_w'
  | 'clocks_event_reasons'
  | 'ecc_corrected_volatile'
  | 'ecc_uncorrected_volatile'
  | 'sm_clock_mhz'
>;

/** The newest sample of each of `gpuIds` dated at or before `newestAllowed`. */
export function newestSamplesOf(prisma: PrismaClient, gpuIds: string[], newestAllowed: Date): Promise<LatestSampleRow[]> {
  return prisma.$queryRaw<LatestSampleRow[]>`
    SELECT s.gpu_id, s.sampled_at, s.utilization_gpu_pct, s.memory_used_mib, s.memory_total_mib, s.temperature_c, s.power_draw_w,
           s.power_limit_w, s.clocks_event_reasons, s.ecc_corrected_volatile, s.ecc_uncorrected_volatile, s.sm_clock_mhz
      FROM unnest(${gpuIds}::text[]) AS ids(id) CROSS JOIN LATERAL (
        SELECT * FROM gpu_sample s WHERE s.gpu_id = ids.id AND s.sampled_at <= ${newestAllowed} ORDER BY s.sampled_at DESC LIMIT 1) s`;
}

export interface ClusterGridQuery {
  clusterId: string;
  /** Lower-cased substring of the hostname, or null for all. */
  search: string | null;
  /** Nodes whose own or any GPU's health is one of these, or null for all. */
  health: THealthStatus[] | null;
  limit: number;
  offset: number;
}

/** Health counts of the whole cluster, and the ids of one page of matching nodes, worst first, with the match count. */
export async function clusterGridPage(prisma: PrismaClient, q: ClusterGridQuery) {
  const matching = Prisma.sql`n.cluster_id = ${q.clusterId}
         AND (${q.search}::text IS NULL OR strpos(lower(n.hostname), ${q.search}::text) > 0)
         AND (${q.health}::text[] IS NULL OR n.health::text = ANY(${q.health}::text[])
              OR EXISTS (SELECT 1 FROM gpu g WHERE g.node_id = n.id AND g.health::text = ANY(${q.health}::text[])))`;
  const [nodeCounts, gpuCounts, [{ total } = { total: 0 }], pageRows] = await Promise.all([
    prisma.$queryRaw<{ health: THealthStatus; count: number }[]>`
      SELECT health::text AS health, COUNT(*)::int AS count FROM node WHERE cluster_id = ${q.clusterId} GROUP BY 1`,
    prisma.$queryRaw<{ health: THealthStatus; count: number }[]>`
      SELECT g.health::text AS health, COUNT(*)::int AS count FROM gpu g JOIN node n ON n.id = g.node_id
       WHERE n.cluster_id = ${q.clusterId} GROUP BY 1`,
    prisma.$queryRaw<{ total: number }[]>`SELECT COUNT(*)::int AS total FROM node n WHERE ${matching}`,
    // Worst first: what an operator opens the page for is on page one.
    prisma.$queryRaw<{ id: string }[]>`
      SELECT n.id FROM node n WHERE ${matching}
       ORDER BY CASE n.health WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'offline' THEN 2 WHEN 'unknown' THEN 3 ELSE 4 END,
                n.hostname, n.id
       LIMIT ${q.limit} OFFSET ${q.offset}`,
  ]);
  return { nodeCounts, gpuCounts, total, nodeIds: pageRows.map((r) => r.id) };
}
