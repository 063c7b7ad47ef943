import type { Db } from '../client';
import type { Prisma } from '../generated/prisma/client';

export class GpuRepository {
  constructor(private readonly db: Db) {}

  get(id: string) {
    return this.db.gpu.findUnique({
      where: { id },
      include: { node: { select: { id: true, hostname: true, clusterId: true, cluster: { select: { name: true } } } } },
    });
  }
  findByUuid(uuid: string) {
    return this.db.gpu.findUnique({ where: { uuid } });
  }
  findByNodeIndex(nodeId: string, index: number) {
    return this.db.gpu.findFirst({ where: { nodeId, index } });
  }
  listByNode(nodeId: string) {
    return this.db.gpu.findMany({ where: { nodeId }, orderBy: { index: 'asc' } });
  }
  create(data: Prisma.GpuUncheckedCreateInput) {
    return this.db.gpu.create({ data });
  }
  update(id: string, data: Prisma.GpuUncheckedUpdateInput) {
    return this.db.gpu.update({ where: { id }, data });
  }
  delete(id: string) {
    return this.db.gpu.delete({ where: { id } });
  }
}
