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

  it('counts nodes without GPUs, lists each GPU model once in order, and gives an empty cluster zeros', async () => {
    const prefix = unique('c-models');
    const site = await prisma.site.create({ data: { name: unique('s-models'), region: 'eu-west', dataResidency: 'eu' } });
    const mixed = await prisma.cluster.create({
      data: { name: `${prefix}-mixed`, siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
    });
    await prisma.cluster.create({ data: { name: `${prefix}-empty`, siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' } });
    const models = ['NVIDIA H200', 'NVIDIA B200', 'NVIDIA H200'];
    for (const [i, model] of models.entries()) {
      const n = await prisma.node.create({ data: { clusterId: mixed.id, hostname: `m${i}` } });
      await prisma.gpu.createMany({
        data: [0, 1].map((k) => ({
          nodeId: n.id,
          uuid: `GPU-${prefix}-${i}-${k}`,
          index: k,
          model,
          memoryMib: model === 'NVIDIA B200' ? 183359 : 143771,
          interconnect: 'nvlink' as const,
        })),
      });
    }
    await prisma.node.create({ data: { clusterId: mixed.id, hostname: 'no-gpus' } });
    const { items } = await listClusterOverview(prisma, { skip: 0, take: 10, sortBy: 'name', sortDir: 'asc', search: prefix });
    expect(
      items.map(({ name, nodeCount, gpuCount, gpuModels, totalGpuMemoryMib }) => ({
        name,
        nodeCount,
        gpuCount,
        gpuModels,
        totalGpuMemoryMib,
      })),
    ).toEqual([
      { name: `${prefix}-empty`, nodeCount: 0, gpuCount: 0, gpuModels: [], totalGpuMemoryMib: 0 },
      {
        name: `${prefix}-mixed`,
        nodeCount: 4,
        gpuCount: 6,
        gpuModels: ['NVIDIA B200', 'NVIDIA H200'],
        totalGpuMemoryMib: 2 * 183359 + 4 * 143771,
      },
    ]);
  });
});
