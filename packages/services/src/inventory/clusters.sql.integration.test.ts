// The cluster list's query module on real Postgres (the API's inventory tests exercise it through clusters.list too).
import { afterAll, describe, expect, it } from 'vitest';
import { testDeps, unique } from '../telemetry/test-support';
import { listClusterOverview } from './clusters.sql';

const { prisma } = testDeps();
afterAll(() => prisma.$disconnect());

describe('clusters.sql', () => {
  it('lists clusters with counts computed in SQL, searchable and paged', async () => {
    const cName = unique('c-list');
    const site = await prisma.site.create({ data: { name: unique('s-list'), region: 'eu-west', dataResidency: 'eu' } });
    const c = await prisma.cluster.create({ data: { name: cName, siteId: site.id, servingEngine: 'sglang', engineVersion: '0.5.4' } });
    const n = await prisma.node.create({ data: { clusterId: c.id, hostname: 'n1' } });
    await prisma.gpu.createMany({
      data: [0, 1].map((i) => ({
        nodeId: n.id,
        uuid: `GPU-0000000${i}-0000-0000-0000-00000000000${i}`,
        index: i,
        model: 'NVIDIA H200',
        memoryMib: 143771,
        interconnect: 'nvlink' as const,
      })),
    });
    const { items, total } = await listClusterOverview(prisma, {
      skip: 0,
      take: 10,
      sortBy: 'gpuCount',
      sortDir: 'desc',
      search: cName,
    });
    expect(total).toBe(1);
    expect(items[0]).toMatchObject({
      name: cName,
      nodeCount: 1,
      gpuCount: 2,
      gpuModels: ['NVIDIA H200'],
      totalGpuMemoryMib: 287542,
      activeArtifact: null,
    });
  });
});
