import { ZCreateSiteInput, ZUpdateSiteInput, type TCreateSiteInput } from '@fleetplane/contracts';
import { SiteRepository } from '@fleetplane/db';
import type { z } from 'zod';
import { withAudit, type ServiceContext } from '../context';
import { conflict, isUniqueViolation, notFound, precondition } from '../errors';
import { countOf } from '@fleetplane/domain';

export function listSites(ctx: Pick<ServiceContext, 'prisma'>) {
  return new SiteRepository(ctx.prisma).list();
}

export async function createSite(ctx: ServiceContext, input: TCreateSiteInput) {
  const data = ZCreateSiteInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const site = await new SiteRepository(tx).create(data);
      await audit({ action: 'site.create', targetType: 'site', targetId: site.id, after: site });
      return site;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A site named "${data.name}" already exists`, 'name');
    throw e;
  }
}

export async function updateSite(ctx: ServiceContext, input: z.input<typeof ZUpdateSiteInput>) {
  const { id, data } = ZUpdateSiteInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const repo = new SiteRepository(tx);
      const before = await repo.get(id);
      if (!before) throw notFound('Site', id);
      const after = await repo.update(id, data);
      await audit({ action: 'site.update', targetType: 'site', targetId: id, before, after });
      return after;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A site named "${data.name}" already exists`, 'name');
    throw e;
  }
}

export function deleteSite(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const repo = new SiteRepository(tx);
    const before = await repo.get(id);
    if (!before) throw notFound('Site', id);
    const clusters = await repo.countClusters(id);
    if (clusters > 0) throw precondition(`Site "${before.name}" still has ${countOf(clusters, 'cluster')}; move or delete them first.`);
    await repo.delete(id);
    await audit({ action: 'site.delete', targetType: 'site', targetId: id, before });
    return { id };
  });
}
