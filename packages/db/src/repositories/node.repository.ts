import type { Db } from '../client';
import type { Prisma } from '../generated/prisma/client';

export type NodeSortField = 'hostname' | 'health' | 'lastSeenAt' | 'gpuCount' | 'createdAt';

export interface NodeListQuery {
  clusterId?: string;
  skip: number;
  take: number;
  sortBy: NodeSortField;
  sortDir: 'asc' | 'desc';
  search?: string;
}

export class NodeRepository {
  constructor(private readonly db: Db) {}

  async list(q: NodeListQuery) {
    const where: Prisma.NodeWhereInput = {
      clusterId: q.clusterId,
      hostname: q.search ? { contains: q.search, mode: 'insensitive' } : undefined,
    };
    const orderBy: Prisma.NodeOrderByWithRelationInput =
      q.sortBy === 'gpuCount' ? { gpus: { _count: q.sortDir } } : { [q.sortBy]: q.sortDir };
    const [items, total] = await Promise.all([
      this.db.node.findMany({
        where,
        orderBy: [orderBy, { hostname: 'asc' }],
        skip: q.skip,
        take: q.take,
        include: {
          cluster: { select: { id: true, name: true } },
          // A list row draws one square per GPU; the GPU's own page has the rest (at 8 GPUs a node the full
          // rows made a 50-node page 224 KiB).
          gpus: { orderBy: { index: 'asc' }, select: { id: true, index: true, model: true, health: true } },
        },
      }),
      this.db.node.count({ where }),
    ]);
    return { items, total };
  }

  get(id: string) {
    return this.db.node.findUnique({
      where: { id },
      include: { cluster: { select: { id: true, name: true } }, gpus: { orderBy: { index: 'asc' } } },
    });
  }

  findByHostname(clusterId: string, hostname: string) {
    return this.db.node.findUnique({ where: { clusterId_hostname: { clusterId, hostname } } });
  }

  create(data: Prisma.NodeUncheckedCreateInput) {
    return this.db.node.create({ data });
  }

  update(id: string, data: Prisma.NodeUncheckedUpdateInput) {
    return this.db.node.update({ where: { id }, data });
  }

  /** Deletes the node with its GPUs (telemetry cascades); callers run this inside a transaction. */
  async deleteWithGpus(id: string) {
    const gpus = await this.db.gpu.deleteMany({ where: { nodeId: id } });
    const node = await this.db.node.delete({ where: { id } });
    return { node, gpusDeleted: gpus.count };
  }
}
