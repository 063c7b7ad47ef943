// A worker process killed with SIGKILL while a validation check is running: another worker process
// must pick the run up and finish it (or fail it cleanly), never leave it "running". Real Postgres,
// real Redis, real worker processes (startWorkerApp, as main.ts runs it) and the reference endpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { slowValidationSuite } from './testing/slow-suite';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { JobProducer } from '@fleetplane/queue';
import {
  SYSTEM_ACTOR,
  getValidationEvidence,
  getValidationRun,
  startValidationRun,
  syncSuites,
  type ServiceContext,
} from '@fleetplane/services';
import { spawnReferenceEndpoint, type TRefProcess } from '@fleetplane/validation/testing/reference-endpoint-process';
import { waitFor } from '@fleetplane/services/testing';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODEL = 'deepseek-ai/DeepSeek-V4-Flash';
const CHILD = fileURLToPath(new URL('./testing/worker-child.ts', import.meta.url));
const tag = randomBytes(3).toString('hex');

// The performance check takes ~4 s (8 requests of 200 tokens at 10 ms, two at a time): long enough
// to be killed in the middle of, short enough to run again.
const suite = slowValidationSuite(`t-crash-${tag}`);

let prisma: PrismaClient;
let producer: JobProducer;
let ctx: ServiceContext;
let ep: TRefProcess;
const children: ChildProcess[] = [];
let n = 0;

beforeAll(async () => {
  prisma = createPrismaClient(inject('databaseUrl'));
  // The Hub, endpoints and webhook receivers of these tests listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  await syncSuites(prisma, [suite as never]);
  ep = await spawnReferenceEndpoint({ model: MODEL, maxModelLen: 16384, ttftMs: 5, prefillMsPer1k: 0, itlMs: 10 });
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  await producer?.close();
  await ep?.close();
  await prisma?.$disconnect();
});

/** A worker process with crash recovery shortened: a dead worker's job is handed on within ~3 s. */
async function startWorker(prefix: string, extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: redisUrl,
      FLEETPLANE_QUEUE_PREFIX: prefix,
      TEST_LOCK_DURATION_MS: '2000',
      TEST_STALLED_INTERVAL_MS: '1000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    async () => out.includes('worker ready'),
    60_000,
    () => `worker did not start: ${out}`,
  );
  return { child, output: () => out };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function setup() {
  n += 1;
  const prefix = `fptest-crash-${randomBytes(4).toString('hex')}`;
  await producer?.close();
  producer = new JobProducer(redisUrl, prefix);
  ctx = { prisma, producer, actor: SYSTEM_ACTOR };
  const site = await prisma.site.create({ data: { name: `cs-${tag}-${n}`, region: 'eu-west', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: {
      name: `cc-${tag}-${n}`,
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      endpointUrl: ep.url,
      servedModelName: MODEL,
      maxContextTokens: 16384,
      validationConcurrencyCap: 2,
    },
  });
  return { prefix, cluster };
}

/** Starts a run on a worker and kills that worker with SIGKILL while the performance check is mid-way. */
async function runAndKillDuringPerformance(prefix: string, clusterId: string, extraEnv: Record<string, string> = {}) {
  const first = await startWorker(prefix, extraEnv);
  await ep.resetStats();
  const { id } = await startValidationRun(ctx, { clusterId, suiteName: suite.name });
  const perfRow = () =>
    prisma.validationCheckResult.findUniqueOrThrow({ where: { runId_checkKey: { runId: id, checkKey: 'performance' } } });
  // Mid-check: the row says running and the endpoint has finished some of its requests, not all.
  await waitFor(
    async () => (await perfRow()).state === 'running' && (await ep.stats()).succeeded >= 3,
    60_000,
    () => first.output(),
  );
  const killedStartedAt = (await perfRow()).startedAt!;
  const killedAt = new Date();
  await kill9(first.child);
  const during = await getValidationRun(ctx, id);
  expect(during.state).toBe('running');
  expect(during.finishedAt).toBeNull();
  expect(during.checks.map((c) => [c.key, c.state])).toEqual([
    ['endpoint', 'succeeded'],
    ['performance', 'running'],
    ['exact-answers', 'pending'],
  ]);
  // The endpoint saw the killed worker's open streams end: the kernel closed its sockets.
  await waitFor(async () => (await ep.stats()).inFlight === 0, 10_000);
  expect((await ep.stats()).aborted).toBeGreaterThanOrEqual(1);
  return { id, killedAt, killedStartedAt };
}

async function waitSealed(id: string, timeoutMs = 60_000) {
  await waitFor(
    async () => (await getValidationRun(ctx, id)).finishedAt !== null,
    timeoutMs,
    () => `run ${id} was not sealed`,
  );
  return getValidationRun(ctx, id);
}

function expectConsistent(run: Awaited<ReturnType<typeof getValidationRun>>) {
  expect(run.startedAt).not.toBeNull();
  expect(run.finishedAt).not.toBeNull();
  const started = new Date(run.startedAt!).getTime();
  const finished = new Date(run.finishedAt!).getTime();
  expect(finished).toBeGreaterThanOrEqual(started);
  for (const c of run.checks) {
    expect(['succeeded', 'failed', 'skipped']).toContain(c.state);
    expect(c.verdict).not.toBeNull();
    expect(c.finishedAt).not.toBeNull();
    const cf = new Date(c.finishedAt!).getTime();
    expect(cf).toBeLessThanOrEqual(finished);
    if (c.startedAt) {
      expect(new Date(c.startedAt).getTime()).toBeGreaterThanOrEqual(started - 1000);
      expect(cf).toBeGreaterThanOrEqual(new Date(c.startedAt).getTime());
    }
  }
}

describe('a worker killed mid-check', () => {
  it('another worker resumes the run: the interrupted check runs again from the start and the run passes', async () => {
    const { prefix, cluster } = await setup();
    const { id, killedAt, killedStartedAt } = await runAndKillDuringPerformance(prefix, cluster.id);

    await startWorker(prefix);
    const run = await waitSealed(id);
    expect(run.state).toBe('succeeded');
    expect(run.verdict).toBe('pass');
    expect(run.checks.map((c) => [c.key, c.state, c.verdict])).toEqual([
      ['endpoint', 'succeeded', 'pass'],
      ['performance', 'succeeded', 'pass'],
      ['exact-answers', 'succeeded', 'pass'],
    ]);
    expectConsistent(run);
    const perf = run.checks.find((c) => c.key === 'performance')!;
    // Ran again after the crash, all 8 requests in the new attempt (none of the killed attempt's).
    expect(new Date(perf.startedAt!).getTime()).toBeGreaterThanOrEqual(killedAt.getTime());
    expect(new Date(perf.startedAt!).getTime()).toBeGreaterThan(new Date(killedStartedAt).getTime());
    expect(perf.samples).toHaveLength(8);
    expect(perf.samples.every((s) => s.ok)).toBe(true);
    expect(await prisma.validationCheckResult.count({ where: { runId: id } })).toBe(3);
    expect((await getValidationEvidence(ctx, id)).matches).toBe(true);
  }, 150_000);

  it('when the check keeps dying past the stall limit, the run fails cleanly with the check as an error', async () => {
    const { prefix, cluster } = await setup();
    // maxStalledCount 0: the first lost lock already counts as one stall too many.
    const noRetry = { TEST_MAX_STALLED_COUNT: '0' };
    const { id } = await runAndKillDuringPerformance(prefix, cluster.id, noRetry);

    await startWorker(prefix, noRetry);
    const run = await waitSealed(id);
    expect(run.state).toBe('failed');
    expect(run.verdict).toBe('error');
    const byKey = Object.fromEntries(run.checks.map((c) => [c.key, c]));
    expect(byKey.endpoint).toMatchObject({ state: 'succeeded', verdict: 'pass' });
    expect(byKey.performance).toMatchObject({ state: 'failed', verdict: 'error' });
    expect(byKey.performance!.explanation).toMatch(/worker crashed/);
    // The chain goes on past the failed check (ignoreDependencyOnFailure).
    expect(byKey['exact-answers']).toMatchObject({ state: 'succeeded', verdict: 'pass' });
    expect(run.summary).toContain('performance (error)');
    expectConsistent(run);
    expect((await getValidationEvidence(ctx, id)).matches).toBe(true);
  }, 150_000);
});
