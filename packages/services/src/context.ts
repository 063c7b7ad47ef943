import { AuditRepository, type AuditActor, type AuditEntry, type Db, type PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';

// The audit actor type is the data layer's; callers (the API, the worker) take it from here so they
// depend on services only.
export type { AuditActor };

/** Password hashing is injected (Better Auth's scrypt in production) so services never hash by hand. */
export type PasswordHasher = (password: string) => Promise<string>;

/**
 * The long-lived clients a caller hands to services: built once per process by the web app (or a test
 * harness, see ./testing) and merged with the request's actor into a `ServiceContext`.
 */
export interface ServiceDeps {
  prisma: PrismaClient;
  producer: JobProducer;
  hashPassword: PasswordHasher;
}

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
