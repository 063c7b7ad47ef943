// The whole Redis comes back empty (restarted without persistence) in the middle of a pipeline
// download and of a validation run: both must end by themselves, and the repeatable jobs must run
// again, without an operator and without restarting the worker. A private redis-server on a free
// loopback port (not the shared one: this test restarts it), real Postgres, real worker processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slowValidationSuite } from './testing/slow-suite';
import { evaluateHealthJob } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { JobProducer } from '@fleetplane/queue';
import { SYSTEM_ACTOR, getValidationEvidence, getValidationRun, runRepoCheck, startValidationRun, syncSuites } from '@fleetplane/services';
import { spawnReferenceEndpoint, type TRefProcess } from '@fleetplane/validation/testing/reference-endpoint-process';
import { waitFor } from '@fleetplane/services/testing';

const CHILD = fileURLToPath(new URL('./testing/worker-child.ts', import.meta.url));
const MODEL = 'deepseek-ai/DeepSeek-V4-Flash';
const tag = randomBytes(3).toString('hex');
const REPO = `acme/redis-lost-${tag}`;
const REPO_KEPT = `acme/redis-lost-kept-${tag}`;
const FILE_BYTES = 3_000_000;

const suite = slowValidationSuite(`t-redis-lost-${tag}`);

let db: TestDatabase;
let prisma: PrismaClient;
let producer: JobProducer;
let hub: FakeHub;
let ep: TRefProcess;
let redis: ChildProcess | undefined;
let redisPort: number;
let redisDir: string;
let dataDir: string;
const workers: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().includes('PONG')));
  });
}

/** A Redis that keeps nothing on disk: killing and starting it again is "Redis came back empty". */
async function startRedis() {
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
    { stdio: 'ignore' },
  );
  await waitFor(
    () => ping(redisPort),
    10_000,
    () => 'redis-server did not answer',
  );
}

async function restartRedisEmpty(alsoKill: ChildProcess[] = []) {
  const old = redis!;
  await Promise.all(
    [old, ...alsoKill].map(
      (p) =>
        new Promise<void>((resolve) =>
          p.exitCode !== null || p.signalCode !== null ? resolve() : (p.once('exit', () => resolve()), p.kill('SIGKILL')),
        ),
    ),
  );
  await startRedis();
}

/**
 * A worker process as main.ts runs it; maintenance every second, a heartbeat stale after 6 s, runs
 * idle for 2 s reconciled. Its database is this file's own, so its reconciler sees only these runs.
 */
async function startWorker(prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      FLEETPLANE_QUEUE_PREFIX: prefix,
      HF_ENDPOINT: hub.url,
      FLEETPLANE_DATA_DIR: dataDir,
      TEST_MAINTENANCE_INTERVAL_MS: '1000',
      TEST_HEARTBEAT_STALE_MS: '6000',
      TEST_RECONCILE_IDLE_GRACE_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
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

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url);
  // The fake Hub and the reference endpoint listen on loopback, which the network policy refuses unless allowed.
  await allowLoopbackForTests(prisma);
  await syncSuites(prisma, [suite as never]);
  redisPort = await freePort();
  redisDir = await mkdtemp(path.join(tmpdir(), 'fp-redis-lost-'));
  dataDir = await mkdtemp(path.join(tmpdir(), 'fp-redis-lost-data-'));
  await startRedis();
  hub = await startFakeHub({
    repos: [REPO, REPO_KEPT].map((id) => ({
      id,
      commits: [
        {
          title: 'Upload',
          files: { 'config.json': '{"torch_dtype":"bfloat16"}\n', 'model.safetensors': { sizeBytes: FILE_BYTES, seed: id } },
        },
      ],
    })),
    onWarning: () => undefined,
  });
  // runRepoCheck in this process reads the Hub address from the environment, as the worker does.
  process.env.HF_ENDPOINT = hub.url;
  process.env.FLEETPLANE_DATA_DIR = dataDir;
  ep = await spawnReferenceEndpoint({ model: MODEL, maxModelLen: 16384, ttftMs: 5, prefillMsPer1k: 0, itlMs: 10 });
});

afterEach(() => {
  for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

afterAll(async () => {
  await producer?.close();
  await hub?.close();
  await ep?.close();
  redis?.kill('SIGKILL');
  await prisma?.$disconnect();
  await db?.drop();
  await rm(redisDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

function newProducer() {
  const prefix = `fptest-lost-${randomBytes(4).toString('hex')}`;
  producer = new JobProducer(`redis://127.0.0.1:${redisPort}`, prefix);
  return prefix;
}

describe('Redis comes back empty', () => {
  it('a validation run mid-check finishes by itself, and the repeatable jobs run again within one interval', async () => {
    const prefix = newProducer();
    const worker = await startWorker(prefix);
    const site = await prisma.site.create({ data: { name: `rl-${tag}`, region: 'eu-west', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: {
        name: `rl-${tag}`,
        siteId: site.id,
        servingEngine: 'vllm',
        engineVersion: '0.11.2',
        endpointUrl: ep.url,
        servedModelName: MODEL,
        maxContextTokens: 16384,
        validationConcurrencyCap: 2,
      },
    });
    await ep.resetStats();
    const { id } = await startValidationRun({ prisma, producer, actor: SYSTEM_ACTOR }, { clusterId: cluster.id, suiteName: suite.name });
    const perfRow = () =>
      prisma.validationCheckResult.findUniqueOrThrow({ where: { runId_checkKey: { runId: id, checkKey: 'performance' } } });
    await waitFor(async () => (await perfRow()).state === 'running' && (await ep.stats()).succeeded >= 2, 60_000, worker.output);

    await restartRedisEmpty();
    const restartedAt = Date.now();
    // Nothing of the run (nor any scheduler) is left in Redis.
    expect(await producer.queue('validation').getJobCounts()).toMatchObject({ waiting: 0, active: 0, delayed: 0, 'waiting-children': 0 });

    // Repeatable jobs: health evaluation runs every 10 s; its scheduler is back and it ran within one interval.
    const health = producer.queue(evaluateHealthJob.queue);
    await waitFor(
      async () => (await health.getJobCounts('completed')).completed! > 0,
      12_000,
      () => `no health evaluation after the restart: ${worker.output().slice(-3000)}`,
    );
    expect(Date.now() - restartedAt).toBeLessThan(12_000);
    expect(await health.getJobScheduler(evaluateHealthJob.name)).toBeTruthy();

    await waitFor(
      async () => (await getValidationRun({ prisma }, id)).finishedAt !== null,
      60_000,
      () => `run not sealed: ${worker.output().slice(-3000)}`,
    );
    const run = await getValidationRun({ prisma }, id);
    expect(run.state).toBe('succeeded');
    expect(run.checks.map((c) => [c.key, c.state, c.verdict])).toEqual([
      ['endpoint', 'succeeded', 'pass'],
      ['performance', 'succeeded', 'pass'],
      ['exact-answers', 'succeeded', 'pass'],
    ]);
    // The check that was running when Redis went away was not started a second time alongside itself.
    expect(run.checks.find((c) => c.key === 'performance')!.samples).toHaveLength(8);
    expect((await ep.stats()).aborted).toBe(0);
    expect(await prisma.validationCheckResult.count({ where: { runId: id } })).toBe(3);
    expect((await prisma.validationRun.findUniqueOrThrow({ where: { id } })).lostJobRequeues).toBe(1);
    expect((await getValidationEvidence({ prisma }, id)).matches).toBe(true);
  }, 150_000);

  /** Tracks the repo, records its revision and auto-starts a download; returns once a quarter has arrived. */
  async function downloadUnderWay(hubRepoId: string, output: () => string) {
    // ~6 s for the file: long enough to be cut in the middle.
    hub.setFaults({ bandwidthBytesPerSec: { bytesPerSec: 500_000 } });
    const slug = `fam-${randomBytes(4).toString('hex')}`;
    const family = await prisma.modelFamily.create({
      data: { slug, name: slug, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
    });
    const repo = await prisma.trackedRepo.create({
      data: { familyId: family.id, hubRepoId, filePatterns: ['*.safetensors', '*.json'], autoStartPipelines: true },
    });
    const checked = await runRepoCheck({ prisma, producer }, repo.id, { force: true });
    expect(checked.status).toBe('changed');
    const runId = (await prisma.pipelineRun.findFirstOrThrow({ where: { revision: { trackedRepoId: repo.id } } })).id;
    const step = () => prisma.pipelineStep.findFirstOrThrow({ where: { runId } });
    await waitFor(async () => ((await step()).progress as { bytesDone?: number }).bytesDone! >= FILE_BYTES / 4, 60_000, output);
    return { runId, step };
  }

  const settled = (runId: string, output: () => string) =>
    waitFor(
      async () =>
        ['succeeded', 'failed', 'cancelled'].includes((await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).state),
      60_000,
      () => output().slice(-3000),
    );

  it('a pipeline download under way when Redis comes back empty finishes on the same worker, downloaded once', async () => {
    const prefix = newProducer();
    const worker = await startWorker(prefix);
    const { runId } = await downloadUnderWay(REPO_KEPT, worker.output);
    await restartRedisEmpty();
    hub.clearFaults();
    await settled(runId, worker.output);
    const run = await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId }, include: { steps: true, artifactsProduced: true } });
    expect(run.state).toBe('succeeded');
    expect(run.artifactsProduced).toHaveLength(1);
    // Its worker kept beating: the reconciler did not start it a second time next to itself.
    expect(run.lostJobRequeues).toBe(0);
    expect(run.steps[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
    const progress = run.steps[0]!.progress as { fetchedBytes: number; bytesTotal: number };
    expect(progress.fetchedBytes).toBe(progress.bytesTotal);
    // And nothing queues it again afterwards.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).lostJobRequeues).toBe(0);
  }, 150_000);

  it('a pipeline download whose Redis and worker went down together resumes on a new worker and verifies', async () => {
    const prefix = newProducer();
    const first = await startWorker(prefix);
    const { runId, step } = await downloadUnderWay(REPO, first.output);

    // A host reboot: Redis (without its data) and the worker both go away mid-download.
    await restartRedisEmpty([first.child]);
    expect((await step()).state).toBe('running');
    hub.clearFaults();
    const second = await startWorker(prefix);

    await settled(runId, second.output);
    const run = await prisma.pipelineRun.findUniqueOrThrow({
      where: { id: runId },
      include: { steps: { include: { logs: true } }, artifactsProduced: true },
    });
    expect(run.state).toBe('succeeded');
    expect(run.lostJobRequeues).toBe(1);
    expect(run.artifactsProduced).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(run.steps[0]!.logs.map((l) => l.message).join('\n')).toMatch(/queued again by the reconciler/);
    // The second attempt resumed the partial file instead of fetching it all again.
    expect((run.steps[0]!.progress as { fetchedBytes: number }).fetchedBytes).toBeLessThan(FILE_BYTES);
  }, 150_000);
});
