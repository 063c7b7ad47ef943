// The lost-job reconciler against real Postgres (a database of its own: it looks at every run) and
// real Redis (a random queue prefix, so "no job in Redis" is the state after Redis lost its data).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startValidationRunJob } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { JobProducer } from '@fleetplane/queue';
import { createRunInTx } from '../pipelines/pipeline-runs.service';
import { reconcileLostJobs } from './lost-jobs.service';

let db: TestDatabase;
let prisma: PrismaClient;
let producer: JobProducer;
const tag = randomBytes(3).toString('hex');
let n = 0;
const longAgo = () => new Date(Date.now() - 10 * 60_000);
// Everything idle for 10 minutes counts as lost at once; heartbeats stay fresh for a minute.
const opts = { idleGraceMs: 60_000, heartbeatStaleMs: 60_000 };

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url);
  producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-reconcile-${randomBytes(4).toString('hex')}`);
});

afterAll(async () => {
  for (const q of ['pipeline', 'validation'] as const) await producer.queue(q).obliterate({ force: true });
  await producer.close();
  await prisma.$disconnect();
  await db.drop();
});

/** A pipeline run whose start message went out long ago and whose jobs Redis no longer has. */
async function lostPipelineRun(
  step: { state: 'queued' | 'running'; heartbeatAt?: Date | null } = { state: 'queued' },
  run: { lostJobRequeues?: number; cancelRequestedAt?: Date } = {},
) {
  n += 1;
  const family = await prisma.modelFamily.create({
    data: { slug: `f-${tag}-${n}`, name: `f-${tag}-${n}`, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId: `acme/r-${tag}-${n}`, filePatterns: ['*.safetensors'] },
  });
  const revision = await prisma.modelRevision.create({
    data: {
      trackedRepoId: repo.id,
      commitSha: randomBytes(20).toString('hex'),
      commitTitle: 'Upload',
      changeClass: 'initial',
      diff: {},
      bytesToFetch: 1n,
      totalBytes: 1n,
    },
  });
  const created = await prisma.$transaction((tx) =>
    createRunInTx(tx, { revisionId: revision.id, targetKey: 'default', trigger: 'manual', triggeredById: null }),
  );
  const id = created.run.id;
  await prisma.outboxMessage.updateMany({ where: { jobId: `start-${id}-0` }, data: { dispatchedAt: longAgo(), createdAt: longAgo() } });
  await prisma.pipelineRun.update({
    where: { id },
    data: {
      createdAt: longAgo(),
      state: step.state === 'running' ? 'running' : 'queued',
      lostJobRequeues: run.lostJobRequeues ?? 0,
      cancelRequestedAt: run.cancelRequestedAt ?? null,
    },
  });
  await prisma.pipelineStep.updateMany({
    where: { runId: id },
    data: {
      state: step.state,
      jobId: `step-${id}-0`,
      heartbeatAt: step.heartbeatAt ?? null,
      ...(step.state === 'running' ? { startedAt: longAgo(), attempts: 1 } : {}),
    },
  });
  return id;
}

async function lostValidationRun(lostJobRequeues = 0) {
  n += 1;
  const site = await prisma.site.create({ data: { name: `s-${tag}-${n}`, region: 'eu-west', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: { name: `c-${tag}-${n}`, siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
  });
  const suite = await prisma.validationSuite.create({
    data: {
      name: `suite-${tag}-${n}`,
      version: 1,
      checks: ['a', 'b', 'c'].map((key) => ({ key, kind: 'endpoint', required: true, params: {}, thresholds: {} })),
    },
  });
  const run = await prisma.validationRun.create({
    data: {
      suiteId: suite.id,
      clusterId: cluster.id,
      state: 'running',
      createdAt: longAgo(),
      startedAt: longAgo(),
      lostJobRequeues,
      checks: {
        create: [
          { checkKey: 'a', kind: 'endpoint', state: 'succeeded', verdict: 'pass', startedAt: longAgo(), finishedAt: longAgo() },
          { checkKey: 'b', kind: 'endpoint', state: 'running', startedAt: longAgo(), heartbeatAt: longAgo() },
          { checkKey: 'c', kind: 'endpoint', state: 'pending' },
        ],
      },
    },
  });
  await prisma.outboxMessage.create({
    data: {
      queue: 'validation',
      jobName: startValidationRunJob.name,
      jobId: `vstart-${run.id}`,
      payload: { runId: run.id },
      createdAt: longAgo(),
      dispatchedAt: longAgo(),
    },
  });
  return run.id;
}

describe('reconcileLostJobs: pipeline runs', () => {
  it('queues a lost run again through its own outbox row and the same job id, once', async () => {
    const id = await lostPipelineRun({ state: 'running', heartbeatAt: longAgo() });
    const first = await reconcileLostJobs({ prisma, producer }, opts);
    expect(first.requeued).toEqual([id]);
    const run = await prisma.pipelineRun.findUniqueOrThrow({ where: { id }, include: { steps: { include: { logs: true } } } });
    expect(run).toMatchObject({ state: 'running', lostJobRequeues: 1 });
    expect(run.steps[0]).toMatchObject({ state: 'queued' });
    expect(run.steps[0]!.logs.map((l) => l.message)).toEqual([expect.stringMatching(/queued again by the reconciler/)]);
    // The start message went out again (dispatched right away) as the same job.
    expect(await producer.queue('pipeline').getJobState(`start-${id}-0`)).toBe('waiting');
    expect(
      (await prisma.outboxMessage.findUniqueOrThrow({ where: { queue_jobId: { queue: 'pipeline', jobId: `start-${id}-0` } } }))
        .dispatchedAt,
    ).not.toBeNull();

    // The job is live now: a second pass (or another worker's) leaves the run alone.
    const second = await reconcileLostJobs({ prisma, producer }, { ...opts, idleGraceMs: 0 });
    expect(second.requeued).not.toContain(id);
    expect((await prisma.pipelineRun.findUniqueOrThrow({ where: { id } })).lostJobRequeues).toBe(1);
    await producer.queue('pipeline').remove(`start-${id}-0`);
  });

  it('two reconcilers at once (two worker replicas) queue a lost run once', async () => {
    const id = await lostPipelineRun();
    const results = await Promise.all([reconcileLostJobs({ prisma, producer }, opts), reconcileLostJobs({ prisma, producer }, opts)]);
    expect(results.flatMap((r) => r.requeued).filter((r) => r === id)).toHaveLength(1);
    expect((await prisma.pipelineRun.findUniqueOrThrow({ where: { id } })).lostJobRequeues).toBe(1);
    expect(await producer.queue('pipeline').getJobState(`start-${id}-0`)).toBe('waiting');
    await producer.queue('pipeline').remove(`start-${id}-0`);
  });

  it('leaves a step alone while its worker still beats, even though its job is gone', async () => {
    const id = await lostPipelineRun({ state: 'running', heartbeatAt: new Date() });
    // No idle grace: the heartbeat alone holds the reconciler back.
    const result = await reconcileLostJobs({ prisma, producer }, { ...opts, idleGraceMs: 0 });
    expect(result.waiting).toContain(id);
    expect(await prisma.pipelineStep.findFirstOrThrow({ where: { runId: id } })).toMatchObject({ state: 'running' });
  });

  it('fails a run whose jobs were lost too often, with a reason', async () => {
    const id = await lostPipelineRun({ state: 'queued' }, { lostJobRequeues: 3 });
    const result = await reconcileLostJobs({ prisma, producer }, opts);
    expect(result.failed).toContain(id);
    const run = await prisma.pipelineRun.findUniqueOrThrow({ where: { id }, include: { steps: true } });
    expect(run.state).toBe('failed');
    expect(run.finishedAt).not.toBeNull();
    expect(run.error).toMatch(/lost 4 times/);
    expect(run.steps[0]).toMatchObject({ state: 'failed' });
  });

  it('settles a lost run whose cancel was requested as cancelled', async () => {
    const id = await lostPipelineRun({ state: 'queued' }, { cancelRequestedAt: longAgo() });
    const result = await reconcileLostJobs({ prisma, producer }, opts);
    expect(result.settled).toContain(id);
    const run = await prisma.pipelineRun.findUniqueOrThrow({ where: { id }, include: { steps: true } });
    expect(run.state).toBe('cancelled');
    expect(run.steps[0]).toMatchObject({ state: 'cancelled' });
  });
});

describe('reconcileLostJobs: validation runs', () => {
  it('queues a lost run again: its running check back to pending, its start message sent again', async () => {
    const id = await lostValidationRun();
    const result = await reconcileLostJobs({ prisma, producer }, opts);
    expect(result.requeued).toContain(id);
    const checks = await prisma.validationCheckResult.findMany({ where: { runId: id }, orderBy: { checkKey: 'asc' } });
    expect(checks.map((c) => [c.checkKey, c.state])).toEqual([
      ['a', 'succeeded'],
      ['b', 'pending'],
      ['c', 'pending'],
    ]);
    expect((await prisma.validationRun.findUniqueOrThrow({ where: { id } })).lostJobRequeues).toBe(1);
    expect(await producer.queue('validation').getJobState(startValidationRunJob.jobId!({ runId: id }))).toBe('waiting');
  });

  it('seals a run lost too often as failed, keeping the results it has', async () => {
    const id = await lostValidationRun(3);
    const result = await reconcileLostJobs({ prisma, producer }, opts);
    expect(result.failed).toContain(id);
    const run = await prisma.validationRun.findUniqueOrThrow({ where: { id }, include: { checks: { orderBy: { checkKey: 'asc' } } } });
    expect(run.state).toBe('failed');
    expect(run.summary).toMatch(/^The runner lost this run/);
    expect(run.checks.map((c) => [c.checkKey, c.verdict])).toEqual([
      ['a', 'pass'],
      ['b', 'error'],
      ['c', 'error'],
    ]);
    expect(run.evidenceDigest).not.toBeNull();
  });
});

it('leaves alone a run whose start message is still in the outbox (the outbox sweep sends it)', async () => {
  const id = await lostPipelineRun();
  await prisma.outboxMessage.updateMany({ where: { jobId: `start-${id}-0` }, data: { dispatchedAt: null } });
  const result = await reconcileLostJobs({ prisma, producer }, { ...opts, idleGraceMs: 0 });
  expect(result.requeued).not.toContain(id);
  expect((await prisma.pipelineRun.findUniqueOrThrow({ where: { id } })).lostJobRequeues).toBe(0);
  expect(await prisma.pipelineLog.count({ where: { step: { runId: id } } })).toBe(0);
});
