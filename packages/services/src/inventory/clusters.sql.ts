// The cluster list's one query: counts, GPU models and the active artifact per cluster, filtered,
// sorted and paged in SQL (decision 8), which Prisma's query API cannot express as one statement.
import { Prisma, type Db, type HealthStatus, type ServingEngine } from '@fleetplane/db';

export type ClusterSortField = 'name' | 'servingEngine' | 'nodeCount' | 'gpuCount' | 'health' | 'createdAt';

const SORT_SQL: Record<ClusterSortField, string> = {
  name: 'c.name',
  servingEngine: 'c.serving_engine',
  nodeCount: 'node_count',
  gpuCount: 'gpu_count',
  // Worst first when descending: the enum order is unknown < healthy < warning < critical < offline.
  health: 'c.health',
  createdAt: 'c.created_at',
};

export interface ClusterListRow {
  id: string;
  name: string;
  siteId: string;
  siteName: string;
  region: string;
  dataResidency: string;
  servingEngine: ServingEngine;
  engineVersion: string;
  endpointUrl: string | null;
  health: HealthStatus;
  gpuHourlyCostUsd: number;
  createdAt: Date;
  nodeCount: number;
  gpuCount: number;
  gpuModels: string[];
  totalGpuMemoryMib: number;
  activeArtifact: { id: string; quantisation: string; format: string; hubRepoId: string; commitSha: string } | null;
}

interface RawRow {
  id: string;
  name: string;
  site_id: string;
  site_name: string;
  region: string;
  data_residency: string;
  serving_engine: ServingEngine;
  engine_version: string;
  endpoint_url: string | null;
  health: HealthStatus;
  gpu_hourly_cost_usd: number;
  created_at: Date;
  node_count: number;
  gpu_count: number;
  gpu_models: string[];
  total_gpu_memory_mib: number;
  artifact_id: string | null;
  artifact_quantisation: string | null;
  artifact_format: string | null;
  artifact_repo: string | null;
  artifact_sha: string | null;
  total_rows: number;
}

export interface ClusterListQuery {
  skip: number;
  take: number;
  sortBy: ClusterSortField;
  sortDir: 'asc' | 'desc';
  search?: string;
  servingEngine?: ServingEngine;
  ids?: string[];
}

/** One query for the fleet overview: counts, GPU models and the active artifact per cluster, sorted and paged in SQL. */
export async function listClusterOverview(db: Db, q: ClusterListQuery): Promise<{ items: ClusterListRow[]; total: number }> {
  const conditions: Prisma.Sql[] = [Prisma.sql`TRUE`];
  if (q.search) {
    const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(Prisma.sql`(c.name ILIKE ${like} OR s.name ILIKE ${like} OR s.region ILIKE ${like})`);
  }
  if (q.servingEngine) conditions.push(Prisma.sql`c.serving_engine = ${q.servingEngine}::"ServingEngine"`);
  if (q.ids) conditions.push(Prisma.sql`c.id = ANY(${q.ids})`);
  const order = Prisma.raw(`${SORT_SQL[q.sortBy]} ${q.sortDir === 'desc' ? 'DESC' : 'ASC'}, c.name ASC`);
  const rows = await db.$queryRaw<RawRow[]>`
    SELECT c.id, c.name, c.site_id, s.name AS site_name, s.region, s.data_residency,
           c.serving_engine, c.engine_version, c.endpoint_url, c.health,
           c.gpu_hourly_cost_usd::float8 AS gpu_hourly_cost_usd, c.created_at,
           COALESCE(stats.node_count, 0)::int AS node_count,
           COALESCE(stats.gpu_count, 0)::int AS gpu_count,
           COALESCE(stats.gpu_models, '{}') AS gpu_models,
           COALESCE(stats.total_gpu_memory_mib, 0)::float8 AS total_gpu_memory_mib,
           art.id AS artifact_id, art.quantisation AS artifact_quantisation, art.format::text AS artifact_format,
           art.hub_repo_id AS artifact_repo, art.commit_sha AS artifact_sha,
           COUNT(*) OVER ()::int AS total_rows
    FROM cluster c
    JOIN site s ON s.id = c.site_id
    LEFT JOIN LATERAL (
      -- GPUs grouped by model first (one hash aggregate), not COUNT(DISTINCT) and ARRAY_AGG(DISTINCT) over
      -- every node x GPU row: those sorted all 8,000 rows of a 1,000-node cluster per list call.
      SELECT (SELECT COUNT(*) FROM node n WHERE n.cluster_id = c.id) AS node_count,
             SUM(m.gpus) AS gpu_count,
             ARRAY_AGG(m.model ORDER BY m.model) AS gpu_models,
             SUM(m.memory) AS total_gpu_memory_mib
      FROM (SELECT g.model, COUNT(*) AS gpus, SUM(g.memory_mib) AS memory
              FROM node n JOIN gpu g ON g.node_id = n.id
             WHERE n.cluster_id = c.id
             GROUP BY g.model) m
    ) stats ON TRUE
    LEFT JOIN LATERAL (
      SELECT a.id, a.quantisation, a.format, tr.hub_repo_id, r.commit_sha
      FROM deployment d
      JOIN artifact a ON a.id = d.artifact_id
      JOIN model_revision r ON r.id = a.revision_id
      JOIN tracked_repo tr ON tr.id = r.tracked_repo_id
      WHERE d.cluster_id = c.id AND d.state = 'active'
      ORDER BY d.started_at DESC
      LIMIT 1
    ) art ON TRUE
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY ${order}
    OFFSET ${q.skip} LIMIT ${q.take}`;
  let total = rows[0]?.total_rows ?? 0;
  if (rows.length === 0 && q.skip > 0) {
    total = await db.cluster.count();
  }
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      name: r.name,
      siteId: r.site_id,
      siteName: r.site_name,
      region: r.region,
      dataResidency: r.data_residency,
      servingEngine: r.serving_engine,
      engineVersion: r.engine_version,
      endpointUrl: r.endpoint_url,
      health: r.health,
      gpuHourlyCostUsd: Number(r.gpu_hourly_cost_usd),
      createdAt: r.created_at,
      nodeCount: r.node_count,
      gpuCount: r.gpu_count,
      gpuModels: r.gpu_models,
      totalGpuMemoryMib: Number(r.total_gpu_memory_mib),
      activeArtifact: r.artifact_id
        ? {
            id: r.artifact_id,
            quantisation: r.artifact_quantisation!,
            format: r.artifact_format!,
            hubRepoId: r.artifact_repo!,
            commitSha: r.artifact_sha!,
          }
        : null,
    })),
  };
}
