// Builds real API callers over a real Postgres database (one per test run) and real Redis.
import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { hashPassword } from '@fleetplane/auth';
import { ROLES, type TRole } from '@fleetplane/contracts';
import { createPrismaClient, UserRepository, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { JobProducer } from '@fleetplane/queue';
import { appRouter } from '../root';
import { createCallerFactory } from '../trpc';
import type { SessionUser } from '../context';

const factory = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof factory>;

export interface Harness {
  prisma: PrismaClient;
  producer: JobProducer;
  users: Record<TRole, SessionUser>;
  caller(user: SessionUser | null): Caller;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const prisma = createPrismaClient(inject('databaseUrl'));
  const producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
  const passwordHash = await hashPassword('correct-horse-battery');
  const users = {} as Record<TRole, SessionUser>;
  const tag = randomBytes(3).toString('hex');
  for (const role of ROLES) {
    const id = randomUUID();
    const email = `${role}-${tag}@test.local`;
    await new UserRepository(prisma).createWithPassword({ id, email, name: role, role, passwordHash });
    users[role] = { id, email, name: role, role };
  }
  return {
    prisma,
    producer,
    users,
    caller: (user) => factory({ prisma, producer, hashPassword, user, ipAddress: '127.0.0.1' }),
    async close() {
      await producer.close();
      await prisma.$disconnect();
    },
  };
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function randomGpuUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
