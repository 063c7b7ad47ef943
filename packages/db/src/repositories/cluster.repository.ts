import type { Db } from '../client';
import type { Prisma } from '../generated/prisma/client';

/** The cluster CRUD the inventory services share; the cluster list's query is services/src/inventory/clusters.sql.ts. */
export class ClusterRepository {
  constructor(private readonly db: Db) {}

  get(id: string) {
    return this.db.cluster.findUnique({ where: { id }, include: { site: true } });
  }

  findByName(name: string) {
    return this.db.cluster.findUnique({ where: { name } });
  }

  create(data: Prisma.ClusterUncheckedCreateInput) {
    return this.db.cluster.create({ data });
  }

  update(id: string, data: Prisma.ClusterUncheckedUpdateInput) {
    return this.db.cluster.update({ where: { id }, data });
  }

  countNodes(id: string) {
    return this.db.node.count({ where: { clusterId: id } });
  }

  delete(id: string) {
    return this.db.cluster.delete({ where: { id } });
  }

  options() {
    return this.db.cluster.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  }
}
