import type { Db } from '../client';

export class SiteRepository {
  constructor(private readonly db: Db) {}

  list() {
    return this.db.site.findMany({ orderBy: { name: 'asc' }, include: { _count: { select: { clusters: true } } } });
  }
  get(id: string) {
    return this.db.site.findUnique({ where: { id } });
  }
  findByName(name: string) {
    return this.db.site.findUnique({ where: { name } });
  }
  create(data: { name: string; region: string; dataResidency: string }) {
    return this.db.site.create({ data });
  }
  update(id: string, data: { name: string; region: string; dataResidency: string }) {
    return this.db.site.update({ where: { id }, data });
  }
  countClusters(id: string) {
    return this.db.cluster.count({ where: { siteId: id } });
  }
  delete(id: string) {
    return this.db.site.delete({ where: { id } });
  }
}
