import { HEALTH_STATUSES, type THealthStatus } from '@fleetplane/contracts';
import type { ServiceContext } from '../context';

function emptyHealthCounts(): Record<THealthStatus, number> {
  return Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<THealthStatus, number>;
}

/** Headline numbers for the fleet overview, computed with grouped counts (no per-row work). */
export async function fleetSummary(ctx: Pick<ServiceContext, 'prisma'>) {
  const { prisma } = ctx;
  const [clusters, nodesByHealth, gpusByHealth, gpuModels, engines, memory] = await Promise.all([
    prisma.cluster.count(),
    prisma.node.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.gpu.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.gpu.groupBy({ by: ['model'], _count: { _all: true }, orderBy: { _count: { model: 'desc' } } }),
    prisma.cluster.groupBy({ by: ['servingEngine'], _count: { _all: true } }),
    prisma.gpu.aggregate({ _sum: { memoryMib: true } }),
  ]);
  const nodes = emptyHealthCounts();
  for (const row of nodesByHealth) nodes[row.health] = row._count._all;
  const gpus = emptyHealthCounts();
  for (const row of gpusByHealth) gpus[row.health] = row._count._all;
  return {
    clusters,
    nodeCount: Object.values(nodes).reduce((a, b) => a + b, 0),
    gpuCount: Object.values(gpus).reduce((a, b) => a + b, 0),
    gpuMemoryMib: memory._sum.memoryMib ?? 0,
    nodesByHealth: nodes,
    gpusByHealth: gpus,
    gpuModels: gpuModels.map((r) => ({ model: r.model, count: r._count._all })),
    engines: engines.map((r) => ({ engine: r.servingEngine, count: r._count._all })),
  };
}
