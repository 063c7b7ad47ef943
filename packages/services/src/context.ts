import { AuditRepository, type AuditActor, type AuditEntry, type Db, type PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';

export interface ServiceContext {
  prisma: PrismaClient;
  actor: AuditActor;
  producer?: JobProducer;
}

export type Audit = (entry: AuditEntry) => Promise<unknown>;

/**
 * Runs a change and its audit record in one transaction: either both are stored or neither.
 */
export function withAudit<T>(ctx: ServiceContext, fn: (tx: Db, audit: Audit) => Promise<T>): Promise<T> {
  return ctx.prisma.$transaction(async (tx) => {
    const repo = new AuditRepository(tx);
    return fn(tx, (entry) => repo.record(ctx.actor, entry));
  });
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null, label: 'system' };
