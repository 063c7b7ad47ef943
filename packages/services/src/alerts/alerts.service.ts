import { ZAlertListInput, type TAlertListInput } from '@fleetplane/contracts';
import type { Prisma } from '@fleetplane/db';
import { withAudit, type ServiceContext } from '../context';
import { notFound, precondition } from '../errors';

export async function listAlerts(ctx: Pick<ServiceContext, 'prisma'>, input: TAlertListInput) {
  const q = ZAlertListInput.parse(input);
  const where: Prisma.AlertWhereInput = {
    state: q.states && q.states.length > 0 ? { in: q.states } : undefined,
    severity: q.severity,
    clusterId: q.clusterId,
    gpuId: q.gpuId,
    OR: q.search
      ? [
          { title: { contains: q.search, mode: 'insensitive' } },
          { fingerprint: { contains: q.search, mode: 'insensitive' } },
          { rule: { contains: q.search, mode: 'insensitive' } },
        ]
      : undefined,
  };
  const [items, total] = await Promise.all([
    ctx.prisma.alert.findMany({
      where,
      // Ties broken by id so paging is stable while new alerts arrive.
      orderBy: [{ [q.sortBy]: q.sortDir }, { id: q.sortDir }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: {
        cluster: { select: { id: true, name: true } },
        node: { select: { id: true, hostname: true } },
        gpu: { select: { id: true, index: true, uuid: true } },
        acknowledgedBy: { select: { email: true } },
      },
    }),
    ctx.prisma.alert.count({ where }),
  ]);
  return {
    items: items.map(({ acknowledgedBy, ...a }) => ({ ...a, acknowledgedBy: acknowledgedBy?.email ?? null })),
    total,
    page: q.page,
    pageSize: q.pageSize,
  };
}

/** Live alerts by state and severity, for the nav badge and the overview. */
export async function alertCounts(ctx: Pick<ServiceContext, 'prisma'>) {
  const rows = await ctx.prisma.alert.groupBy({
    by: ['state', 'severity'],
    where: { state: { in: ['open', 'acknowledged'] } },
    _count: { _all: true },
  });
  const counts = { open: { warning: 0, critical: 0 }, acknowledged: { warning: 0, critical: 0 } };
  for (const r of rows) if (r.state !== 'resolved') counts[r.state][r.severity] = r._count._all;
  return { ...counts, live: rows.reduce((a, r) => a + r._count._all, 0) };
}

/** An operator takes ownership: the alert stays live (and resolves on its own) but stops asking for attention. */
export function acknowledgeAlert(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.alert.findUnique({ where: { id }, include: { acknowledgedBy: { select: { email: true } } } });
    if (!before) throw notFound('Alert', id);
    if (before.state === 'resolved') throw precondition('This alert is already resolved; there is nothing to acknowledge.');
    if (before.state === 'acknowledged')
      throw precondition(`This alert was already acknowledged${before.acknowledgedBy ? ` by ${before.acknowledgedBy.email}` : ''}.`);
    const now = new Date();
    // Guarded by state so two operators clicking at once produce one acknowledgement.
    const updated = await tx.alert.updateMany({
      where: { id, state: 'open' },
      data: { state: 'acknowledged', acknowledgedAt: now, acknowledgedById: ctx.actor.type === 'user' ? ctx.actor.id : null },
    });
    if (updated.count === 0) throw precondition('This alert changed while you were looking at it; reload and try again.');
    await audit({
      action: 'alert.acknowledge',
      targetType: 'alert',
      targetId: id,
      before: { state: before.state },
      after: { state: 'acknowledged', title: before.title, acknowledgedAt: now },
    });
    return { id, state: 'acknowledged' as const, acknowledgedAt: now };
  });
}
