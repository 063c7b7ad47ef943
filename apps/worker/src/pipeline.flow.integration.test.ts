// The upstream watcher and a pipeline run through real BullMQ (one flow per stage: finalize <- steps) in an
// in-process worker, against the fake Hub and a real database.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { checkRepoJob, DOWNLOAD_ONLY_SUMMARY, scheduleRepoChecksJob } from '@fleetplane/contracts';
import { createLogger } from '@fleetplane/config';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { fileURLToPath } from 'node:url';
import { safetensorsIndex, tokenizerJson, v4Config, v4Shards } from '@fleetplane/fake-hub/content/model-files';
import { JobProducer } from '@fleetplane/queue';
import { handleHubWebhook, runRepoCheck } from '@fleetplane/services';
import { startWorkerApp } from './worker-app';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `fptest-${randomBytes(4).toString('hex')}`;
const prisma = createPrismaClient(inject('databaseUrl'));
const producer = new JobProducer(redisUrl, prefix);
const GOOD = `acme/flow-${randomBytes(3).toString('hex')}`;
const BAD = `acme/flow-bad-${randomBytes(3).toString('hex')}`;
const AUTO = `acme/flow-auto-${randomBytes(3).toString('hex')}`;
const V4 = `acme/flow-v4-${randomBytes(3).toString('hex')}`;

function v4Seed(id: string) {
  const shards = v4Shards('flash', 2, id);
  const files: Record<string, string | Uint8Array> = {
    'config.json': `${JSON.stringify(v4Config('flash'))}\n`,
    'model.safetensors.index.json': safetensorsIndex(shards),
    'tokenizer.json': tokenizerJson(),
  };
  for (const sh of shards) files[sh.path] = new Uint8Array(sh.bytes);
  return { id, commits: [{ title: 'Upload', files }] };
}
let hub: FakeHub;
let app: Awaited<ReturnType<typeof startWorkerApp>>;

const seed = (id: string) => ({
  id,
  commits: [
    {
      title: 'Upload',
      files: { 'config.json': '{"torch_dtype":"bfloat16"}\n', 'model.safetensors': { sizeBytes: 300_000, seed: id }, 'README.md': '# x\n' },
    },
  ],
});

beforeAll(async () => {
  // The Hub, endpoints and webhook receivers of these tests listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({ repos: [seed(GOOD), seed(BAD), seed(AUTO), v4Seed(V4)], onWarning: () => undefined });
  // The worker's services read these through loadConfig.
  process.env.HF_ENDPOINT = hub.url;
  process.env.FLEETPLANE_DATA_DIR = await mkdtemp(path.join(tmpdir(), 'fp-flow-'));
  app = await startWorkerApp({
    databaseUrl: inject('databaseUrl'),
    redisUrl,
    queuePrefix: prefix,
    concurrency: 2,
    log: createLogger('worker-test', 'silent'),
    pipeline: {
      tools: { 'llama-quantize': fileURLToPath(new URL('../../../tools/fake-llama-quantize/bin/llama-quantize', import.meta.url)) },
    },
  });
});
afterAll(async () => {
  await app?.close();
  await producer.close();
  await hub.close();
  await prisma.$disconnect();
});

async function track(hubRepoId: string) {
  const slug = `fam-${randomBytes(4).toString('hex')}`;
  const family = await prisma.modelFamily.create({
    data: { slug, name: slug, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
  });
  return prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId, filePatterns: ['*.safetensors', '*.json'], autoStartPipelines: true },
  });
}

async function settledRun(trackedRepoId: string, timeoutMs = 30_000, commitSha?: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const run = await prisma.pipelineRun.findFirst({
      where: { revision: { trackedRepoId, ...(commitSha ? { commitSha } : {}) } },
      include: { steps: true, artifactsProduced: true },
    });
    if (run && ['succeeded', 'failed', 'cancelled'].includes(run.state)) return run;
    await sleep(100);
  }
  throw new Error('The run did not settle in time');
}

describe('upstream watcher and pipeline flow in the worker', () => {
  it('a check records the revision and its auto-started run downloads it to a verified artifact', async () => {
    const repo = await track(GOOD);
    await producer.enqueue(checkRepoJob, { trackedRepoId: repo.id, reason: 'manual' }, { removeOnComplete: true });
    const run = await settledRun(repo.id);
    expect(run).toMatchObject({ state: 'succeeded', summary: DOWNLOAD_ONLY_SUMMARY, trigger: 'auto' });
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ kind: 'download', state: 'succeeded', attempts: 1 });
    expect(run.steps[0]!.jobId).toMatch(/^step-/);
    expect(run.artifactsProduced).toHaveLength(1);
    expect(run.artifactsProduced[0]).toMatchObject({ format: 'safetensors', quantisation: 'BF16' });
    expect((await prisma.trackedRepo.findUniqueOrThrow({ where: { id: repo.id } })).status).toBe('ok');
  });

  it('a publish seen by a webhook, the scheduler and a direct check at once: one revision, one auto run, verified', async () => {
    const repo = await track(AUTO);
    await producer.enqueue(checkRepoJob, { trackedRepoId: repo.id, reason: 'manual' }, { removeOnComplete: true });
    await settledRun(repo.id);
    const { sha } = await hub.publish(AUTO, {
      title: 'Upload new weights',
      files: { 'model.safetensors': { sizeBytes: 300_000, seed: `${AUTO}-v2` } },
    });
    const secret = 'flow-webhook-secret';
    const body = {
      event: { action: 'update', scope: 'repo.content' },
      repo: { type: 'model', name: AUTO, headSha: sha },
      updatedRefs: [{ ref: 'refs/heads/main', oldSha: null, newSha: sha }],
    };
    // Every trigger at the same moment: exactly-once comes from the per-repo lock and unique keys.
    const [hook] = await Promise.all([
      handleHubWebhook({ prisma, producer }, { secretHeader: secret, configuredSecret: secret, body }),
      producer.enqueue(scheduleRepoChecksJob, {}),
      runRepoCheck({ prisma, producer }, repo.id, { force: true }),
    ]);
    expect(hook.status).toBe(202);
    const run = await settledRun(repo.id, 30_000, sha);
    expect(run).toMatchObject({ state: 'succeeded', trigger: 'auto', targetKey: 'default' });
    expect(run.artifactsProduced).toHaveLength(1);
    await sleep(1_000); // let any duplicate check finish: it must find nothing new
    expect(await prisma.modelRevision.count({ where: { trackedRepoId: repo.id, commitSha: sha } })).toBe(1);
    expect(await prisma.pipelineRun.count({ where: { revision: { trackedRepoId: repo.id, commitSha: sha } } })).toBe(1);
    expect(await prisma.modelRevision.findFirstOrThrow({ where: { trackedRepoId: repo.id, commitSha: sha } })).toMatchObject({
      changeClass: 'weights',
    });
  });

  it('a step that fails for good lets the flow settle the run as failed, without retries', async () => {
    hub.setFaults({ corruptByteAt: { offset: 10, path: 'model.safetensors' } });
    const repo = await track(BAD);
    await producer.enqueue(checkRepoJob, { trackedRepoId: repo.id, reason: 'manual' }, { removeOnComplete: true });
    const run = await settledRun(repo.id);
    hub.clearFaults();
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/Verification failed for model\.safetensors/);
    expect(run.steps[0]).toMatchObject({ state: 'failed', attempts: 1 });
    expect(run.artifactsProduced).toHaveLength(0);
  });

  it('a run for a llama.cpp cluster goes download -> quantise (one child per recipe) -> validate through the stage flows', async () => {
    const repo = await track(V4);
    const site = await prisma.site.create({ data: { name: `site-${randomBytes(3).toString('hex')}`, region: 'lab', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { siteId: site.id, name: `lab-${randomBytes(3).toString('hex')}`, servingEngine: 'llamacpp', engineVersion: '99.0.0' },
    });
    const node = await prisma.node.create({ data: { clusterId: cluster.id, hostname: 'n1' } });
    await prisma.gpu.create({
      data: {
        nodeId: node.id,
        uuid: `GPU-${randomBytes(8).toString('hex')}`,
        index: 0,
        model: 'NVIDIA GeForce RTX 5090',
        memoryMib: 32607,
        interconnect: 'pcie',
      },
    });
    await prisma.trackedRepoAutoStartTarget.create({ data: { trackedRepoId: repo.id, clusterId: cluster.id } });
    await producer.enqueue(checkRepoJob, { trackedRepoId: repo.id, reason: 'manual' }, { removeOnComplete: true });
    const run = await settledRun(repo.id, 90_000);
    expect(run.state).toBe('succeeded');
    expect(run.targetKey).toBe(cluster.id);
    const steps = [...run.steps].sort((a, b) => a.position - b.position);
    expect(steps.map((s) => `${s.kind}:${s.targetKey}:${s.state}`)).toEqual([
      'download:default:succeeded',
      'quantise:gguf-q8_0:succeeded',
      'quantise:gguf-q4_k_m:succeeded',
      'validate:gguf-q8_0:skipped',
      'validate:gguf-q4_k_m:skipped',
    ]);
    // Each stage's steps ran as children of that stage's own finalize job.
    for (const s of steps) expect(s.jobId).toMatch(/^step-/);
    expect(run.summary).toMatch(/validate skipped: No staging node configured for cluster/);
    const built = run.artifactsProduced.filter((a) => a.recipeId !== null);
    expect(built.map((a) => a.quantisation).sort()).toEqual(['Q4_0', 'Q8_0']);
  });
});
