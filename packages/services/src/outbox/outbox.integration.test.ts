import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { JobProducer } from '@fleetplane/queue';
import { expireCredentials } from '../maintenance/expire-credentials.service';
import { addToOutbox, dispatchOutbox } from './outbox.service';

// Its own database: dispatchOutbox takes every pending row, and other test files add rows too.
let db: TestDatabase;
let prisma: PrismaClient;
beforeAll(async () => {
  db = await createTestDatabase('fp_outbox');
  prisma = createPrismaClient(db.url);
});
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const producer = new JobProducer(redisUrl, `fptest-${randomBytes(4).toString('hex')}`);
afterAll(async () => {
  await producer.queue('maintenance').obliterate({ force: true });
  await producer.close();
  await prisma.$disconnect();
  await db.drop();
});

const probe = defineJob({ queue: 'maintenance', name: 'outbox-probe', schema: z.object({ n: z.number() }) });

describe('outbox', () => {
  it('keeps a job whose transaction committed, and dispatches it exactly once', async () => {
    await prisma.$transaction((tx) => addToOutbox(tx, probe, { n: 1 }, 'probe-1'));
    // A rolled-back transaction leaves nothing to dispatch.
    await expect(
      prisma.$transaction(async (tx) => {
        await addToOutbox(tx, probe, { n: 2 }, 'probe-2');
        throw new Error('business change failed');
      }),
    ).rejects.toThrow('business change failed');

    const first = await dispatchOutbox(prisma, producer);
    const second = await dispatchOutbox(prisma, producer);
    expect(first.dispatched).toBe(1);
    expect(second.dispatched).toBe(0);
    expect(await producer.queue('maintenance').getJob('probe-1')).toBeTruthy();
    expect(await producer.queue('maintenance').getJob('probe-2')).toBeFalsy();
  });

  it('leaves a row for the sweeper when Redis is unreachable', async () => {
    const dead = new JobProducer('redis://127.0.0.1:1', 'fptest-dead');
    await prisma.$transaction((tx) => addToOutbox(tx, probe, { n: 3 }, 'probe-3'));
    const dispatchWithTimeout = Promise.race([dispatchOutbox(prisma, dead), new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    await dispatchWithTimeout;
    const row = await prisma.outboxMessage.findFirstOrThrow({ where: { jobId: 'probe-3' } });
    expect(row.dispatchedAt).toBeNull();
    void dead.close().catch(() => undefined);
    expect((await dispatchOutbox(prisma, producer)).dispatched).toBe(1);
  });
});

describe('expireCredentials', () => {
  it('deletes expired sessions and closes expired unused join tokens only', async () => {
    const userId = randomUUID();
    await prisma.user.create({ data: { id: userId, email: `${userId}@t.local`, name: 't' } });
    await prisma.session.create({ data: { id: randomUUID(), token: randomUUID(), userId, expiresAt: new Date(Date.now() - 1000) } });
    await prisma.session.create({ data: { id: randomUUID(), token: randomUUID(), userId, expiresAt: new Date(Date.now() + 3_600_000) } });
    const site = await prisma.site.create({ data: { name: 'exp-site', region: 'r', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: 'exp-cluster', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
    });
    await prisma.joinToken.create({
      data: { clusterId: cluster.id, tokenHash: randomUUID(), tokenPrefix: 'fpj_', expiresAt: new Date(Date.now() - 1000) },
    });
    await prisma.joinToken.create({
      data: { clusterId: cluster.id, tokenHash: randomUUID(), tokenPrefix: 'fpj_', expiresAt: new Date(Date.now() + 3_600_000) },
    });
    const result = await expireCredentials({ prisma });
    expect(result).toMatchObject({ sessionsDeleted: 1, joinTokensExpired: 1 });
    expect(await prisma.session.count({ where: { userId } })).toBe(1);
    expect(await prisma.joinToken.count({ where: { clusterId: cluster.id, revokedAt: null } })).toBe(1);
  });
});
