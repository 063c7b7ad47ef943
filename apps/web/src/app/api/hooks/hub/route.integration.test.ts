// POST /api/hooks/hub at the HTTP level: the route handler called with real Requests, over the real
// runtime (config from the environment, Postgres, Redis/BullMQ). Only a good secret with a valid
// payload enqueues a check; everything else is refused and records nothing.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { checkRepoJob } from '@fleetplane/contracts';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { redisConnectionOptions } from '@fleetplane/queue';

const SECRET = `hook-${randomBytes(16).toString('hex')}`;
const prefix = `fptest-${randomBytes(4).toString('hex')}`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The route's runtime() reads these through loadConfig on first use.
Object.assign(process.env, {
  DATABASE_URL: inject('databaseUrl'),
  REDIS_URL: redisUrl,
  FLEETPLANE_QUEUE_PREFIX: prefix,
  HUB_WEBHOOK_SECRET: SECRET,
  BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
});
const { POST } = await import('./route');

const prisma = createPrismaClient(inject('databaseUrl'));
const queue = new Queue(checkRepoJob.queue, { connection: redisConnectionOptions(redisUrl), prefix });
let trackedRepoId = '';
let hubRepoId = '';

const payload = (name: string) => ({
  event: { action: 'update', scope: 'repo.content' },
  repo: { type: 'model', name, headSha: 'b'.repeat(40) },
  updatedRefs: [{ ref: 'refs/heads/main', oldSha: 'a'.repeat(40), newSha: 'b'.repeat(40) }],
});

function post(body: string, headers: Record<string, string> = {}) {
  return POST(
    new Request('http://localhost:3000/api/hooks/hub', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    }),
  );
}

const queued = async () =>
  (await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).map((j) => ({ name: j.name, id: j.id, data: j.data as unknown }));

beforeAll(async () => {
  const slug = `hook-${randomBytes(4).toString('hex')}`;
  hubRepoId = `acme/${slug}`;
  const family = await prisma.modelFamily.create({ data: { slug, name: slug, totalParamsB: 1, activeParamsB: 1, contextLength: 4096 } });
  trackedRepoId = (await prisma.trackedRepo.create({ data: { familyId: family.id, hubRepoId, filePatterns: ['*'] } })).id;
});
beforeEach(async () => {
  await queue.obliterate({ force: true });
});
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  const { runtime } = await import('~/server/runtime');
  await runtime().producer.close();
  await runtime().prisma.$disconnect();
  await prisma.$disconnect();
});

describe('POST /api/hooks/hub', () => {
  it('with the right secret and a push to a tracked repo: 202 and one check-repo job for it', async () => {
    const res = await post(JSON.stringify(payload(hubRepoId)), { 'x-webhook-secret': SECRET });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ checks: 1 });
    expect(await queued()).toEqual([
      {
        name: checkRepoJob.name,
        id: checkRepoJob.jobId!({ trackedRepoId, reason: 'webhook' }),
        data: { trackedRepoId, reason: 'webhook' },
      },
    ]);
  });

  it('a push to a repo nobody tracks is accepted and checks nothing', async () => {
    const res = await post(JSON.stringify(payload('acme/not-tracked')), { 'x-webhook-secret': SECRET });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ checks: 0 });
    expect(await queued()).toEqual([]);
  });

  it('refuses a wrong or missing secret with 401 and enqueues nothing', async () => {
    const attempts: Array<Record<string, string>> = [{ 'x-webhook-secret': 'wrong' }, { 'x-webhook-secret': `${SECRET}x` }, {}];
    for (const headers of attempts) {
      const res = await post(JSON.stringify(payload(hubRepoId)), headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: expect.stringMatching(/X-Webhook-Secret/) });
    }
    // Even a malformed body is refused for the secret first (nothing about the payload leaks).
    expect((await post('{not json', { 'x-webhook-secret': 'wrong' })).status).toBe(401);
    expect(await queued()).toEqual([]);
    expect(await prisma.auditEvent.count({ where: { targetId: trackedRepoId } })).toBe(0);
  });

  it('answers 400 to a malformed body with the right secret, and enqueues nothing', async () => {
    for (const body of [
      '{not json',
      '',
      JSON.stringify({ nope: true }),
      JSON.stringify({ ...payload(hubRepoId), repo: { type: 'model' } }),
    ]) {
      const res = await post(body, { 'x-webhook-secret': SECRET });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'Not a Hub webhook payload' });
    }
    expect(await queued()).toEqual([]);
  });
});
