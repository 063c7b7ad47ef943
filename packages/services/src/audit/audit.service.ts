import { ZAuditListInput } from '@fleetplane/contracts';
import { AuditRepository } from '@fleetplane/db';
import type { z } from 'zod';
import type { ServiceContext } from '../context';

export async function listAuditEvents(ctx: Pick<ServiceContext, 'prisma'>, input: z.input<typeof ZAuditListInput>) {
  const q = ZAuditListInput.parse(input);
  const repo = new AuditRepository(ctx.prisma);
  const { items, total } = await repo.list(
    {
      search: q.search || undefined,
      action: q.action || undefined,
      targetType: q.targetType || undefined,
      actorId: q.actorId,
      from: q.from,
      to: q.to,
    },
    { skip: (q.page - 1) * q.pageSize, take: q.pageSize, sortBy: q.sortBy, sortDir: q.sortDir },
  );
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function auditFacets(ctx: Pick<ServiceContext, 'prisma'>) {
  const repo = new AuditRepository(ctx.prisma);
  const actions = await repo.distinctActions();
  return { actions, targetTypes: [...new Set(actions.map((a) => a.split('.')[0]!))] };
}
