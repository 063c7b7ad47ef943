import type { Db } from '../client';
import type { ActorType, Prisma } from '../generated/prisma/client';

export interface AuditActor {
  type: ActorType;
  id: string | null;
  label: string;
  ipAddress?: string | null;
}

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditListFilter {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  search?: string;
}

/** JSON snapshots must be plain JSON: BigInt -> string, Decimal -> number, Date -> ISO string. */
export function toAuditJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return plain(value) as Prisma.InputJsonValue;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    // Prisma's Decimal: convert before JSON.stringify would turn it into a string via toJSON.
    if ('toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, plain(x)]),
    );
  }
  return v;
}

export class AuditRepository {
  constructor(private readonly db: Db) {}

  record(actor: AuditActor, entry: AuditEntry) {
    return this.db.auditEvent.create({
      data: {
        actorType: actor.type,
        actorId: actor.type === 'user' ? actor.id : null,
        actorLabel: actor.label,
        ipAddress: actor.ipAddress ?? null,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        before: toAuditJson(entry.before),
        after: toAuditJson(entry.after),
      },
    });
  }

  private where(filter: AuditListFilter): Prisma.AuditEventWhereInput {
    return {
      actorId: filter.actorId,
      action: filter.action ? { startsWith: filter.action } : undefined,
      targetType: filter.targetType,
      targetId: filter.targetId,
      occurredAt: filter.from || filter.to ? { gte: filter.from, lte: filter.to } : undefined,
      OR: filter.search
        ? [
            { actorLabel: { contains: filter.search, mode: 'insensitive' } },
            { action: { contains: filter.search, mode: 'insensitive' } },
            { targetId: { contains: filter.search } },
          ]
        : undefined,
    };
  }

  async list(
    filter: AuditListFilter,
    page: { skip: number; take: number; sortDir: 'asc' | 'desc'; sortBy: 'occurredAt' | 'action' | 'actorLabel' | 'targetType' },
  ) {
    const where = this.where(filter);
    const [items, total] = await Promise.all([
      this.db.auditEvent.findMany({
        where,
        orderBy: [{ [page.sortBy]: page.sortDir }, { id: page.sortDir }],
        skip: page.skip,
        take: page.take,
      }),
      this.db.auditEvent.count({ where }),
    ]);
    return { items, total };
  }

  async distinctActions(): Promise<string[]> {
    const rows = await this.db.auditEvent.findMany({ distinct: ['action'], select: { action: true }, orderBy: { action: 'asc' } });
    return rows.map((r) => r.action);
  }
}
