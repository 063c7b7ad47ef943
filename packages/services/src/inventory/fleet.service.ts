import { HEALTH_STATUSES, type THealthStatus } from '@fleetplane/contracts';
import type { ServiceContext } from '../context';

function emptyHealthCounts(): Record<THealthStatus, number> {
  return Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<THealthStatus, number>;
}

/** Headline numbers for the fleet overview, computed with grouped counts (no per-row work). */
export async function fleetSummary(ctx: Pick<ServiceContext, 'prisma'>) {
  const { prisma } = ctx;
  // One pass over the GPU table for health, models and memory (three group-bys cost three scans of
  // 8,000 rows at fleet size).
  const [clusters, nodesByHealth, gpuGroups, engines] = await Promise.all([
    prisma.cluster.count(),
    prisma.node.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.gpu.groupBy({ by: ['health', 'model'], _count: { _all: true }, _sum: { memoryMib: true } }),
    prisma.cluster.groupBy({ by: ['servingEngine'], _count: { _all: true } }),
  ]);
  const nodes = emptyHealthCounts();
  for (const row of nodesByHealth) nodes[row.health] = row._count._all;
  const gpus = emptyHealthCounts();
  const byModel = new Map<string, number>();
  let gpuMemoryMib = 0;
  for (const row of gpuGroups) {
    gpus[row.health] += row._count._all;
    byModel.set(row.model, (byModel.get(row.model) ?? 0) + row._count._all);
    gpuMemoryMib += row._sum.memoryMib ?? 0;
  }
  const gpuModels = [...byModel]
    .map(([model, count]) => ({ model, count }))
    .sort((a, b) => b.count - a.count || a.model.localeCompare(b.model));
  return {
    clusters,
    nodeCount: Object.values(nodes).reduce((a, b) => a + b, 0),
    gpuCount: Object.values(gpus).reduce((a, b) => a + b, 0),
    gpuMemoryMib,
    nodesByHealth: nodes,
    gpusByHealth: gpus,
    gpuModels,
    engines: engines.map((r) => ({ engine: r.servingEngine, count: r._count._all })),
  };
}
