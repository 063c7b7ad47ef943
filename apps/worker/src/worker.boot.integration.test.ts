// Boot smoke test: the real worker process connects to real Postgres and Redis, processes a job,
// and stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expireCredentialsJob, startPipelineRunJob } from '@fleetplane/contracts';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { JobProducer, redisConnectionOptions } from '@fleetplane/queue';

const here = path.dirname(fileURLToPath(import.meta.url));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `fptest-${randomBytes(4).toString('hex')}`;
let worker: ChildProcess;
let output = '';

function waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (pattern.test(output)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`worker did not print ${pattern} within ${timeoutMs} ms; output:\n${output}`));
      }
    }, 100);
  });
}

beforeAll(async () => {
  worker = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'main.ts')], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), REDIS_URL: redisUrl, FLEETPLANE_QUEUE_PREFIX: prefix, LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(/worker ready/);
});

afterAll(() => {
  if (worker.exitCode === null) worker.kill('SIGKILL');
});

describe('worker process', () => {
  it('processes a maintenance job against the real database', async () => {
    const prisma = createPrismaClient(inject('databaseUrl'));
    const producer = new JobProducer(redisUrl, prefix);
    const events = new QueueEvents('maintenance', { connection: redisConnectionOptions(redisUrl), prefix });
    try {
      const userId = randomUUID();
      await prisma.user.create({ data: { id: userId, email: `${userId}@t.local`, name: 't' } });
      await prisma.session.create({ data: { id: randomUUID(), token: randomUUID(), userId, expiresAt: new Date(Date.now() - 60_000) } });
      await prisma.session.create({ data: { id: randomUUID(), token: randomUUID(), userId, expiresAt: new Date(Date.now() + 3_600_000) } });
      await events.waitUntilReady();
      const job = await producer.enqueue(expireCredentialsJob, {});
      const result = (await job.waitUntilFinished(events, 20_000)) as { sessionsDeleted: number };
      expect(result.sessionsDeleted).toBeGreaterThanOrEqual(1);
      expect(await prisma.session.count({ where: { userId } })).toBe(1);
    } finally {
      await events.close();
      await producer.close();
      await prisma.$disconnect();
    }
  });

  it('starts a pipeline flow (which opens its FlowProducer)', async () => {
    const prisma = createPrismaClient(inject('databaseUrl'));
    const producer = new JobProducer(redisUrl, prefix);
    try {
      const slug = `boot-${randomBytes(4).toString('hex')}`;
      const family = await prisma.modelFamily.create({
        data: { slug, name: slug, totalParamsB: 1, activeParamsB: 1, contextLength: 4096 },
      });
      const repo = await prisma.trackedRepo.create({ data: { familyId: family.id, hubRepoId: `acme/${slug}`, filePatterns: ['*'] } });
      const revision = await prisma.modelRevision.create({
        data: { trackedRepoId: repo.id, commitSha: randomBytes(20).toString('hex'), changeClass: 'initial' },
      });
      // A quantise step that names no recipe fails for good at once: the flow runs and settles quickly.
      const run = await prisma.pipelineRun.create({
        data: {
          revisionId: revision.id,
          targetKey: 'default',
          trigger: 'manual',
          steps: { create: [{ kind: 'quantise', position: 0, state: 'queued' }] },
        },
      });
      await producer.enqueue(startPipelineRunJob, { runId: run.id, generation: 0 });
      const deadline = Date.now() + 20_000;
      let state = '';
      while (Date.now() < deadline) {
        state = (await prisma.pipelineRun.findUniqueOrThrow({ where: { id: run.id } })).state;
        if (state === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(state).toBe('failed');
    } finally {
      await producer.close();
      await prisma.$disconnect();
    }
  });

  // main.ts no longer calls process.exit(0): the process exits by itself only when every queue,
  // worker, FlowProducer and connection was closed, and exits 1 naming the open handles otherwise.
  it('stops cleanly on SIGTERM, closing everything it opened', async () => {
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/worker stopped/);
  });
});
