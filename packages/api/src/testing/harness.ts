// Builds real API callers over a real Postgres database (one per test run) and real Redis. The
// dependencies come from the service layer's testing entry point, the same shape the web app builds.
import { randomBytes } from 'node:crypto';
import { hashPassword } from '@fleetplane/auth';
import { ROLES, type TRole } from '@fleetplane/contracts';
import type { ServiceDeps } from '@fleetplane/services';
import { createTestServiceDeps, createTestUser } from '@fleetplane/services/testing';
import { appRouter } from '../root';
import { createCallerFactory } from '../trpc';
import type { SessionUser } from '../context';

const factory = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof factory>;

export interface Harness {
  prisma: ServiceDeps['prisma'];
  producer: ServiceDeps['producer'];
  users: Record<TRole, SessionUser>;
  caller(user: SessionUser | null): Caller;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const deps = createTestServiceDeps(hashPassword);
  const users = {} as Record<TRole, SessionUser>;
  const tag = randomBytes(3).toString('hex');
  for (const role of ROLES) {
    const email = `${role}-${tag}@test.local`;
    const { id } = await createTestUser(deps, { email, name: role, role, password: 'correct-horse-battery' });
    users[role] = { id, email, name: role, role };
  }
  return {
    prisma: deps.prisma,
    producer: deps.producer,
    users,
    caller: (user) =>
      factory({ prisma: deps.prisma, producer: deps.producer, hashPassword: deps.hashPassword, user, ipAddress: '127.0.0.1' }),
    close: () => deps.close(),
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
