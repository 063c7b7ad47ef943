// Validation runs end to end: real Postgres, real Redis, the worker started in-process, and the
// reference endpoint (vLLM's protocol) with switchable degradations as the system under test.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { ZEvidenceBundle, type TValidationSuiteInput } from '@fleetplane/contracts';
import { createLogger } from '@fleetplane/config';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { verifyEvidence } from '@fleetplane/domain';
import { JobProducer } from '@fleetplane/queue';
import {
  SYSTEM_ACTOR,
  cancelValidationRun,
  getValidationEvidence,
  getValidationRun,
  startValidationRun,
  sweepLostRuns,
  syncSuites,
  type ServiceContext,
} from '@fleetplane/services';
import {
  spawnReferenceEndpoint,
  type TRefProcess,
  type TRefProcessOptions,
} from '@fleetplane/validation/testing/reference-endpoint-process';
import { runCheckJob, runJobsAlive } from './processors/validation.processor';
import { startWorkerApp } from './worker-app';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `fptest-${randomBytes(4).toString('hex')}`;
const MODEL = 'deepseek-ai/DeepSeek-V4-Flash';
const FAST = { ttftMs: 1, prefillMsPer1k: 0, itlMs: 0 };
const API_KEY_VAR = `FP_TEST_ENDPOINT_KEY_${randomBytes(3).toString('hex')}`;

let prisma: PrismaClient;
let producer: JobProducer;
let worker: Awaited<ReturnType<typeof startWorkerApp>>;
let ctx: ServiceContext;
const endpoints: TRefProcess[] = [];
const tag = randomBytes(3).toString('hex');
let n = 0;

// Small suites keep the suite fast; smoke itself runs once below.
const quick: TValidationSuiteInput = {
  name: `t-quick-${tag}`,
  version: 1,
  checks: [
    { key: 'endpoint', kind: 'endpoint' },
    {
      key: 'exact-answers',
      kind: 'exact_answer',
      params: { taskIds: ['arith-mul', 'arith-percent', 'unit-f-c', 'code-fib'] },
      thresholds: { minAccuracy: 1 },
    },
    {
      key: 'performance',
      kind: 'performance',
      params: { concurrencyLevels: [2], inputTokens: 64, outputTokens: 16, requestsPerLevel: 6 },
      thresholds: { maxErrorRate: 0 },
    },
  ],
};
const load: TValidationSuiteInput = {
  name: `t-load-${tag}`,
  version: 1,
  checks: [
    {
      key: 'exact-answers',
      kind: 'exact_answer',
      params: { taskIds: ['arith-mul', 'arith-percent', 'unit-f-c', 'code-fib', 'arith-decimal', 'unit-miles-km'], parallelism: 8 },
    },
    {
      key: 'performance',
      kind: 'performance',
      params: { concurrencyLevels: [8], inputTokens: 64, outputTokens: 24, requestsPerLevel: 16 },
      thresholds: { maxErrorRate: 0 },
    },
  ],
};
const slow: TValidationSuiteInput = {
  name: `t-slow-${tag}`,
  version: 1,
  checks: [
    {
      key: 'performance',
      kind: 'performance',
      params: { concurrencyLevels: [2], inputTokens: 64, outputTokens: 400, requestsPerLevel: 8 },
    },
    { key: 'exact-answers', kind: 'exact_answer', params: { taskIds: ['arith-mul'] } },
  ],
};

beforeAll(async () => {
  prisma = createPrismaClient(inject('databaseUrl'));
  // The Hub, endpoints and webhook receivers of these tests listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  producer = new JobProducer(redisUrl, prefix);
  ctx = { prisma, producer, actor: SYSTEM_ACTOR };
  worker = await startWorkerApp({
    databaseUrl: inject('databaseUrl'),
    redisUrl,
    queuePrefix: prefix,
    concurrency: 4,
    log: createLogger('worker-test', 'silent'),
  });
  await syncSuites(
    prisma,
    [quick, load, slow].map((s) => s as never),
  );
});

afterAll(async () => {
  await worker?.close();
  await producer?.close();
  await Promise.all(endpoints.map((e) => e.close()));
  await prisma?.$disconnect();
});

async function endpoint(opts: TRefProcessOptions = {}) {
  const ep = await spawnReferenceEndpoint({ model: MODEL, maxModelLen: 16384, ...FAST, ...opts });
  endpoints.push(ep);
  return ep;
}

async function cluster(ep: TRefProcess, cap = 4, apiKeyRef: string | null = null) {
  n += 1;
  const site = await prisma.site.create({ data: { name: `vs-${tag}-${n}`, region: 'eu-west', dataResidency: 'eu' } });
  const c = await prisma.cluster.create({
    data: {
      name: `vc-${tag}-${n}`,
      siteId: site.id,
      servingEngine: 'vllm',
      engineVersion: '0.11.2',
      endpointUrl: ep.url,
      endpointApiKeyRef: apiKeyRef,
      servedModelName: MODEL,
      maxContextTokens: 16384,
      validationConcurrencyCap: cap,
    },
  });
  const node = await prisma.node.create({ data: { clusterId: c.id, hostname: `h-${tag}-${n}` } });
  const uuid = `GPU-${randomBytes(4).toString('hex')}-aaaa-bbbb-cccc-${randomBytes(6).toString('hex')}`;
  await prisma.gpu.create({ data: { nodeId: node.id, uuid, index: 0, model: 'NVIDIA H200', memoryMib: 143771, interconnect: 'nvlink' } });
  return { ...c, gpuUuid: uuid };
}

async function waitFinished(runId: string, timeoutMs = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const run = await getValidationRun(ctx, runId);
    if (run.finishedAt) return run;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`run ${runId} still ${run.state} after ${timeoutMs} ms: ${JSON.stringify(run.checks.map((c) => [c.key, c.state]))}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('validation runner', () => {
  it('runs the smoke suite against a healthy endpoint: pass, context, sealed evidence', async () => {
    // The endpoint wants a bearer key; the worker reads it from the variable the cluster names.
    process.env[API_KEY_VAR] = 'sk-test-validation';
    const ep = await endpoint({ apiKey: 'sk-test-validation' });
    const c = await cluster(ep, 4, API_KEY_VAR);
    const { id } = await startValidationRun(ctx, { clusterId: c.id, suiteName: 'smoke' });
    const run = await waitFinished(id, 90_000);
    expect(run.checks.map((x) => [x.key, x.verdict])).toEqual([
      ['endpoint', 'pass'],
      ['exact-answers', 'pass'],
      ['long-context', 'pass'],
      ['tool-calling', 'pass'],
      ['reasoning-modes', 'pass'],
      ['performance', 'pass'],
    ]);
    expect(run.state).toBe('succeeded');
    expect(run.verdict).toBe('pass');
    expect(run.summary).toMatch(/^Pass: all 6 required checks passed\./);
    expect(run.summary).toContain('No baseline');
    expect(run.context).toMatchObject({
      engine: 'vllm',
      engineVersion: '0.11.2',
      servedModelName: MODEL,
      gpuUuids: [c.gpuUuid],
      suite: { name: 'smoke', version: 1 },
    });
    const perf = run.checks.find((x) => x.key === 'performance')!;
    expect(perf.samples.length).toBeGreaterThan(0);
    expect(perf.metrics).toHaveProperty('levels');
    // One row per check, never duplicated.
    expect(await prisma.validationCheckResult.count({ where: { runId: id } })).toBe(6);

    const ev = await getValidationEvidence(ctx, id);
    expect(ev.matches).toBe(true);
    expect(ev.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ZEvidenceBundle.parse(ev.bundle).checks).toHaveLength(6);
    expect(verifyEvidence(ev.bundle, ev.digest)).toBe(true);
    expect(JSON.stringify(ev.bundle)).not.toContain('sk-test-validation');
  }, 120_000);

  it('fails the right check with the right explanation when answers go wrong', async () => {
    const ep = await endpoint({ degradations: { wrongAnswerRate: 1 } });
    const c = await cluster(ep);
    const { id, baselineRunId } = await startValidationRun(ctx, { clusterId: c.id, suiteName: quick.name });
    expect(baselineRunId).toBeNull();
    const run = await waitFinished(id);
    const byKey = Object.fromEntries(run.checks.map((x) => [x.key, x]));
    expect(byKey.endpoint!.verdict).toBe('pass');
    expect(byKey.performance!.verdict).toBe('pass');
    expect(byKey['exact-answers']!.verdict).toBe('fail');
    expect(byKey['exact-answers']!.score).toBe(0);
    expect(byKey['exact-answers']!.explanation).toMatch(/accuracy/i);
    expect(run.state).toBe('failed');
    expect(run.verdict).toBe('fail');
    expect(run.summary).toContain('exact-answers (fail)');
    expect(run.summary).toContain('Passed: endpoint, performance.');
  });

  it('gates on the baseline: slower than the last passing run fails even within absolute limits', async () => {
    const ep = await endpoint();
    const c = await cluster(ep);
    const first = await startValidationRun(ctx, { clusterId: c.id, suiteName: quick.name });
    const base = await waitFinished(first.id);
    expect(base.verdict).toBe('pass');

    await ep.setDegradations({ addedLatencyMs: 80 });
    const second = await startValidationRun(ctx, { clusterId: c.id, suiteName: quick.name });
    expect(second.baselineRunId).toBe(first.id);
    const run = await waitFinished(second.id);
    expect(run.checks.every((x) => x.verdict === 'pass')).toBe(true);
    expect(run.verdict).toBe('fail');
    expect(run.summary).toContain(`Baseline run ${first.id}: Worse than the baseline`);
    expect(run.summary).toMatch(/^Fail: all 3 required checks passed on their own, but the run is worse than its baseline\./);
    // 6 requests per level: gated on p50 (p99 of 6 is one request). The limit is 10% with a 2 ms floor
    // for timer noise; 80 ms of added queueing is far beyond it.
    expect(run.summary).toMatch(
      /TTFT p50 at concurrency 2 \(p99 needs 20\+ requests\) [\d.,]+ ms vs baseline [\d.,]+ ms \(\+[\d.,]+ ms, \+[\d.,]+%, limit \+10% or \+2\.00 ms\): fail/,
    );
    const ev = await getValidationEvidence(ctx, second.id);
    expect(ev.bundle.baseline?.verdict).toBe('fail');
    expect(ev.matches).toBe(true);
  });

  it('holds the cluster concurrency cap across the run, measured at the server', async () => {
    const ep = await endpoint({ itlMs: 2 });
    const c = await cluster(ep, 3);
    const { id } = await startValidationRun(ctx, { clusterId: c.id, suiteName: load.name });
    const run = await waitFinished(id);
    expect(run.verdict).toBe('pass');
    const stats = await ep.stats();
    expect(stats.completionRequests).toBeGreaterThanOrEqual(22);
    expect(stats.maxConcurrentRequests).toBe(3);
    expect(run.checks.find((x) => x.key === 'performance')!.explanation).toContain("limited to the cluster's validation cap of 3");
  });

  it('refuses a second run on a busy cluster and cancels promptly', async () => {
    const ep = await endpoint({ itlMs: 20 });
    const c = await cluster(ep, 2);
    const { id } = await startValidationRun(ctx, { clusterId: c.id, suiteName: slow.name });
    await expect(startValidationRun(ctx, { clusterId: c.id, suiteName: slow.name })).rejects.toThrow(/already in progress/);
    for (let i = 0; (await ep.stats()).inFlight === 0; i++) {
      if (i > 200) throw new Error('the run never reached the endpoint');
      await new Promise((r) => setTimeout(r, 50));
    }
    const t0 = Date.now();
    await cancelValidationRun(ctx, { id });
    const run = await waitFinished(id, 15_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(run.state).toBe('cancelled');
    expect(run.checks.map((x) => x.verdict)).toEqual(['skipped', 'skipped']);
    expect(run.summary).toMatch(/^Cancelled on request/);
    await new Promise((r) => setTimeout(r, 200));
    const stats = await ep.stats();
    expect(stats.inFlight).toBe(0);
    expect(stats.aborted).toBeGreaterThan(0);
    expect(stats.completionRequests).toBeLessThan(8);
    expect((await getValidationEvidence(ctx, id)).matches).toBe(true);
  });

  it('re-running a check overwrites its row, and a lost run is failed by the sweeper with a clear summary', async () => {
    const ep = await endpoint();
    const c = await cluster(ep);
    const suite = await prisma.validationSuite.findFirstOrThrow({ where: { name: quick.name } });
    // A run whose jobs never reached Redis (as after a Redis data loss): created directly, no outbox row.
    const run = await prisma.validationRun.create({
      data: {
        suiteId: suite.id,
        clusterId: c.id,
        state: 'running',
        createdAt: new Date(Date.now() - 10 * 60_000),
        checks: {
          create: [
            { checkKey: 'endpoint', kind: 'endpoint' },
            { checkKey: 'exact-answers', kind: 'exact_answer' },
            { checkKey: 'performance', kind: 'performance' },
          ],
        },
      },
    });
    // A crashed-and-retried check job runs twice; the row is overwritten, not duplicated.
    await runCheckJob(prisma, run.id, 'endpoint');
    await runCheckJob(prisma, run.id, 'endpoint');
    expect(await prisma.validationCheckResult.count({ where: { runId: run.id, checkKey: 'endpoint' } })).toBe(1);
    expect((await prisma.validationCheckResult.findFirstOrThrow({ where: { runId: run.id, checkKey: 'endpoint' } })).verdict).toBe('pass');

    expect(await runJobsAlive(producer, run.id)).toBe(false);
    const swept = await sweepLostRuns(prisma, (rid) => runJobsAlive(producer, rid));
    expect(swept.failed).toContain(run.id);
    const after = await getValidationRun(ctx, run.id);
    expect(after.state).toBe('failed');
    expect(after.verdict).toBe('error');
    expect(after.summary).toMatch(/^The runner lost this run/);
    expect(after.checks.map((x) => [x.key, x.verdict])).toEqual([
      ['endpoint', 'pass'],
      ['exact-answers', 'error'],
      ['performance', 'error'],
    ]);
    // Sealed runs are never changed by late check jobs.
    await runCheckJob(prisma, run.id, 'exact-answers');
    expect((await getValidationRun(ctx, run.id)).checks[1]!.verdict).toBe('error');
    expect((await getValidationEvidence(ctx, run.id)).matches).toBe(true);
  });
});
