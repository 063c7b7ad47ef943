// Testing entry point of the service layer (`@fleetplane/services/testing`): builds the same
// `ServiceDeps` the web app builds, over the test run's database (the vitest globalSetup of
// @fleetplane/db/testing) and real Redis under a fresh BullMQ prefix, so callers above services (the
// API's test harness) never construct clients or repositories themselves.
import { randomBytes } from 'node:crypto';
import { inject, vi } from 'vitest';
import type { TRole } from '@fleetplane/contracts';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { JobProducer } from '@fleetplane/queue';
import { SYSTEM_ACTOR, type PasswordHasher, type ServiceDeps } from '../context';
import { createUser } from '../users/users.service';

export interface TestServiceDeps extends ServiceDeps {
  close(): Promise<void>;
}

export function createTestServiceDeps(hashPassword: PasswordHasher): TestServiceDeps {
  const prisma = createPrismaClient(inject('databaseUrl'));
  const producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
  return {
    prisma,
    producer,
    hashPassword,
    async close() {
      await producer.close();
      await prisma.$disconnect();
    },
  };
}

/** A user made the way an admin makes one (the audited `createUser` service, here by the system actor). */
export function createTestUser(deps: ServiceDeps, user: { email: string; name: string; role: TRole; password: string }) {
  return createUser({ prisma: deps.prisma, producer: deps.producer, actor: SYSTEM_ACTOR }, user, deps.hashPassword);
}

/**
 * Waits until `condition` holds, polling every 100 ms (vitest's vi.waitFor; a throw counts as "not yet").
 * On timeout the error says `detail()`, what the test was waiting on.
 */
export function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, detail?: () => string): Promise<void> {
  return vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`Timed out waiting for the condition${detail ? `: ${detail()}` : ''}`);
    },
    { timeout: timeoutMs, interval: 100 },
  );
}
