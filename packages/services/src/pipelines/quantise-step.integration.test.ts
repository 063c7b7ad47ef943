// The quantise stage through the pipeline services: a real V4-shaped checkpoint served by the fake Hub, real
// Postgres, real Redis for the stage flows, the built-in converters and the llama-quantize stand-in as a real child
// process. Fan-out, lineage, reuse, determinism, quality breach, disk full, cancel, tool failure / hang, kill -9.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import {
  generationConfig,
  safetensorsIndex,
  tokenizerConfig,
  tokenizerJson,
  v4Config,
  v4Shards,
} from '@fleetplane/fake-hub/content/model-files';
import { JobFlows, JobProducer } from '@fleetplane/queue';
import type { TPipelineStage } from '@fleetplane/contracts';
import { allowLoopbackForTests } from '../network/testing';
import { SYSTEM_ACTOR } from '../context';
import { runRepoCheck } from '../upstream/repo-check.service';
import { fastRetry, makeTrackedRepo, testPrisma, testSettings, uniqueRepoId } from '../upstream/upstream-test-support';
import type { UpstreamSettings } from '../shared/upstream-settings';
import { saveRecipe, setBuildTargets } from '../recipes/recipes.service';
import { cancelRun, startPipeline } from './pipeline-runs.service';
import { advancePipelineRun, pipelineFinalizeJobId, pipelineStepJobId } from './run-flow';
import { executePipelineStep, type StepRunnerDeps } from './step-runner.service';
import { waitFor } from '../testing';

const prisma = testPrisma();
const producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
const flows = new JobFlows(producer);
const LLAMA_QUANTIZE = fileURLToPath(new URL('../../../../tools/fake-llama-quantize/bin/llama-quantize', import.meta.url));
const REPO = uniqueRepoId('v4');
let hub: FakeHub;
let settings: UpstreamSettings;
const ctx = { prisma, actor: SYSTEM_ACTOR };

function v4Seed(id: string) {
  const shards = v4Shards('flash', 2, id);
  return {
    id,
    commits: [
      {
        title: 'Upload',
        date: '2026-05-01T00:00:00.000Z',
        files: {
          'config.json': `${JSON.stringify(v4Config('flash'), null, 2)}\n`,
          'model.safetensors.index.json': safetensorsIndex(shards),
          ...Object.fromEntries(shards.map((s) => [s.path, new Uint8Array(s.bytes)])),
          'tokenizer.json': tokenizerJson(),
          'tokenizer_config.json': tokenizerConfig(1),
          'generation_config.json': generationConfig(),
          'README.md': '# v4\n',
        },
      },
    ],
  };
}

beforeAll(async () => {
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({ repos: [v4Seed(REPO)], onWarning: () => undefined });
  settings = await testSettings(hub.url);
});
afterAll(async () => {
  await producer.queue('pipeline').obliterate({ force: true });
  await flows.close();
  await producer.close();
  await hub.close();
  await prisma.$disconnect();
});

const deps = (extra: Partial<StepRunnerDeps> = {}): StepRunnerDeps => ({
  prisma,
  settings,
  diskMarginBytes: 0,
  retry: fastRetry,
  cancelPollMs: 100,
  tools: { 'llama-quantize': LLAMA_QUANTIZE },
  ...extra,
});

const rand = () => randomBytes(3).toString('hex');

async function makeCluster(engine: 'llamacpp' | 'vllm', gpuModel: string) {
  const site = await prisma.site.create({ data: { name: `site-${rand()}`, region: 'lab', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: { siteId: site.id, name: `c-${engine}-${rand()}`, servingEngine: engine, engineVersion: '99.0.0' },
  });
  const node = await prisma.node.create({ data: { clusterId: cluster.id, hostname: 'n1' } });
  await prisma.gpu.create({
    data: {
      nodeId: node.id,
      uuid: `GPU-${randomBytes(8).toString('hex')}`,
      index: 0,
      model: gpuModel,
      memoryMib: 81559,
      interconnect: 'pcie',
    },
  });
  return cluster;
}

let repoId: string | undefined;
let revisionId: string | undefined;
async function revision() {
  if (!revisionId) {
    const repo = await makeTrackedRepo(prisma, REPO);
    repoId = repo.id;
    await runRepoCheck({ prisma, settings, retry: fastRetry }, repo.id, { force: true });
    revisionId = (await prisma.modelRevision.findFirstOrThrow({ where: { trackedRepoId: repo.id } })).id;
  }
  return { revisionId, repoId: repoId! };
}

async function startFor(clusterId: string) {
  const { revisionId: id } = await revision();
  return (await startPipeline(ctx, { revisionId: id, targetKey: clusterId })).id;
}

async function runStage(runId: string, kind: TPipelineStage, d = deps()) {
  const steps = await prisma.pipelineStep.findMany({ where: { runId, kind, state: 'queued' }, orderBy: { position: 'asc' } });
  return Promise.all(steps.map((s) => executePipelineStep(d, s.id, { isFinalAttempt: true }).catch((e: unknown) => e)));
}

/** Runs every stage as the worker would: the stage's steps, then its flow parent's advancePipelineRun. */
async function drive(runId: string, d = deps()) {
  for (const stage of ['download', 'quantise', 'validate'] as const) {
    await runStage(runId, stage, d);
    await advancePipelineRun({ prisma, flows }, { runId, generation: 0, endedStage: stage });
  }
  return prisma.pipelineRun.findUniqueOrThrow({
    where: { id: runId },
    include: { steps: { orderBy: { position: 'asc' }, include: { logs: true } } },
  });
}

async function builtDirs() {
  return readdir(path.join(settings.dataDir, 'artifacts', 'built')).catch(() => [] as string[]);
}

describe('quantise stage', () => {
  it('fans out one child job per recipe for a llama.cpp cluster, builds GGUF Q8_0 and Q4_K_M with lineage and quality', async () => {
    const cluster = await makeCluster('llamacpp', 'NVIDIA GeForce RTX 5090');
    const runId = await startFor(cluster.id);
    const planned = await prisma.pipelineStep.findMany({ where: { runId }, orderBy: { position: 'asc' } });
    expect(planned.map((s) => `${s.kind}:${s.targetKey}:${s.state}`)).toEqual([
      'download:default:queued',
      'quantise:gguf-q8_0:pending',
      'quantise:gguf-q4_k_m:pending',
      'validate:gguf-q8_0:pending',
      'validate:gguf-q4_k_m:pending',
    ]);
    await runStage(runId, 'download');
    expect(await advancePipelineRun({ prisma, flows }, { runId, generation: 0, endedStage: 'download' })).toMatchObject({
      action: 'started',
      stage: 'quantise',
      steps: 2,
    });
    // The stage is one BullMQ flow: a finalize parent with a child per recipe.
    const parent = await producer.queue('pipeline').getJob(pipelineFinalizeJobId(runId, 0, 'quantise'));
    expect(parent?.data).toEqual({ runId, generation: 0, stage: 'quantise' });
    const quantiseSteps = planned.filter((s) => s.kind === 'quantise');
    for (const s of quantiseSteps) expect(await producer.queue('pipeline').getJobState(pipelineStepJobId(s.id, 0))).toBe('waiting');
    // Running the start message again adds nothing twice.
    expect(await advancePipelineRun({ prisma, flows }, { runId, generation: 0 })).toMatchObject({ action: 'started', added: false });

    const run = await drive(runId);
    expect(run.state).toBe('succeeded');
    // The cluster names no staging node: the candidates are built but not validated, and the run says why.
    expect(run.summary).toMatch(/built gguf-q8_0, gguf-q4_k_m; validate skipped: No staging node configured for cluster/);
    const byKey = Object.fromEntries(run.steps.map((s) => [`${s.kind}:${s.targetKey}`, s]));
    expect(byKey['validate:gguf-q8_0']).toMatchObject({
      state: 'skipped',
      error: expect.stringMatching(/^No staging node configured for cluster/),
    });
    const download = await prisma.artifact.findUniqueOrThrow({ where: { id: byKey['download:default']!.artifactId! } });
    const q8 = await prisma.artifact.findUniqueOrThrow({
      where: { id: byKey['quantise:gguf-q8_0']!.artifactId! },
      include: { quantRecipe: true },
    });
    const k4 = await prisma.artifact.findUniqueOrThrow({ where: { id: byKey['quantise:gguf-q4_k_m']!.artifactId! } });
    expect(q8).toMatchObject({
      format: 'gguf',
      quantisation: 'Q8_0',
      status: 'ready',
      sourceArtifactId: download.id,
      recipeDigest: q8.quantRecipe!.digest,
    });
    expect((q8.quality as { quantisedTensors: number; tensors: unknown[] }).quantisedTensors).toBeGreaterThan(0);
    // The stand-in writes Q4_0 data for a Q4_K_M request and says so in the file: the ingest reads the files.
    expect(k4).toMatchObject({ format: 'gguf', quantisation: 'Q4_0', sourceArtifactId: download.id });
    expect(k4.buildInfo).toMatchObject({ tool: 'llama-quantize', toolVersion: 'b4242 (f1ee7a5)' });
    const k4Logs = byKey['quantise:gguf-q4_k_m']!.logs.map((l) => l.message);
    expect(k4Logs.some((m) => m.startsWith('tool: '))).toBe(true);
    expect(byKey['quantise:gguf-q4_k_m']!.progress).toMatchObject({ artifactId: k4.id });
    // Temporary folders are gone; only the two artifacts remain.
    expect((await builtDirs()).filter((d) => d.startsWith('.'))).toEqual([]);
  });

  it('reuses the artifact of the same source and recipe digest, and rebuilding gives the same bytes (deterministic)', async () => {
    const cluster = await makeCluster('llamacpp', 'NVIDIA GeForce RTX 5090');
    const { repoId: trackedRepoId } = await revision();
    await setBuildTargets(ctx, { trackedRepoId, clusterId: cluster.id, recipeNames: ['gguf-q8_0'] });
    const run = await drive(await startFor(cluster.id));
    const q = run.steps.find((s) => s.kind === 'quantise')!;
    expect(run.state).toBe('succeeded');
    expect(q.progress).toMatchObject({ reused: true });
    expect(q.logs.some((l) => /Reused artifact .* same source digest with the same recipe digest/.test(l.message))).toBe(true);
    expect(run.summary).toMatch(/gguf-q8_0 \(reused: same source and recipe\)/);

    // Take the artifact out of reuse and build again: same bytes, same digest, one row.
    const before = await prisma.artifact.findUniqueOrThrow({ where: { id: q.artifactId! } });
    await prisma.artifact.update({ where: { id: before.id }, data: { status: 'deleted' } });
    const other = await makeCluster('llamacpp', 'NVIDIA GeForce RTX 5090');
    await setBuildTargets(ctx, { trackedRepoId, clusterId: other.id, recipeNames: ['gguf-q8_0'] });
    const again = await drive(await startFor(other.id));
    const q2 = again.steps.find((s) => s.kind === 'quantise')!;
    expect(q2.artifactId).toBe(before.id);
    expect(q2.logs.some((l) => /already existed \(same bytes\)/.test(l.message))).toBe(true);
    await prisma.artifact.update({ where: { id: before.id }, data: { status: 'ready' } });
  });

  it('a quality breach fails the step naming the worst tensors, and registers nothing', async () => {
    const name = `q4-strict-${rand()}`;
    await saveRecipe(ctx, {
      name,
      outputFormat: 'gguf',
      toolVersion: '1',
      params: { target: { format: 'gguf', type: 'Q4_0' }, thresholds: { maxRelRmse: 0.001 } },
    });
    const cluster = await makeCluster('llamacpp', 'NVIDIA GeForce RTX 5090');
    await setBuildTargets(ctx, { trackedRepoId: (await revision()).repoId, clusterId: cluster.id, recipeNames: [name] });
    const run = await drive(await startFor(cluster.id));
    expect(run.state).toBe('failed');
    const q = run.steps.find((s) => s.kind === 'quantise')!;
    expect(q.state).toBe('failed');
    expect(q.error).toMatch(/GGUF Q4_0: \d+ of \d+ quantised tensors break the quality limits .*worst: \S+\.weight \(relative RMSE/);
    expect(run.error).toBe(q.error);
    expect(run.steps.filter((s) => s.kind === 'validate').map((s) => s.state)).toEqual(['cancelled']);
    expect(await prisma.artifact.count({ where: { recipe: { path: ['name'], equals: name } } })).toBe(0);
    expect((await builtDirs()).filter((d) => d.endsWith(q.id))).toEqual([]);
  });

  it('refuses to start when the disk is too small, writing nothing', async () => {
    const cluster = await makeCluster('vllm', 'NVIDIA H100 80GB HBM3');
    const runId = await startFor(cluster.id);
    const run = await drive(runId, deps({ quantiseStatfs: async () => ({ bavail: 10, bsize: 4096 }) }));
    const q = run.steps.find((s) => s.kind === 'quantise')!;
    expect(q.targetKey).toBe('fp8-block128');
    expect(q).toMatchObject({ state: 'failed' });
    expect(q.error).toMatch(/not enough free disk space/);
    expect((await builtDirs()).filter((d) => d.endsWith(q.id) || d.includes(q.id))).toEqual([]);
  });

  it('builds FP8 block-128 for a Hopper + vLLM cluster by default', async () => {
    const cluster = await makeCluster('vllm', 'NVIDIA H100 80GB HBM3');
    const run = await drive(await startFor(cluster.id));
    expect(run.state).toBe('succeeded');
    const q = run.steps.find((s) => s.kind === 'quantise')!;
    const artifact = await prisma.artifact.findUniqueOrThrow({ where: { id: q.artifactId! }, include: { files: true } });
    expect(artifact).toMatchObject({ format: 'fp8', quantisation: 'FP8' });
    const dir = fileURLToPath(artifact.storageUri);
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
    expect(config.quantization_config).toMatchObject({ quant_method: 'fp8', weight_block_size: [128, 128], expert_dtype: 'fp8' });
    expect(artifact.files.some((f) => f.path === 'tokenizer.json')).toBe(true);
  });
});

describe('quantise stage: the external tool', () => {
  async function externalRun(env: Record<string, string>, recipeExtra: { timeoutSeconds?: number } = {}) {
    const name = `k4-${rand()}`;
    await saveRecipe(ctx, {
      name,
      outputFormat: 'gguf',
      tool: 'llama-quantize',
      toolVersion: '4242',
      params: { inputTarget: { format: 'gguf', type: 'F16' }, scheme: 'Q4_K_M', outputFileName: 'model-Q4_K_M.gguf', ...recipeExtra },
      commandTemplate: ['llama-quantize', '{input_file}', '{output_file}', 'Q4_K_M', '2'],
    });
    const cluster = await makeCluster('llamacpp', 'NVIDIA GeForce RTX 5090');
    await setBuildTargets(ctx, { trackedRepoId: (await revision()).repoId, clusterId: cluster.id, recipeNames: [name] });
    const runId = await startFor(cluster.id);
    await runStage(runId, 'download');
    await advancePipelineRun({ prisma, flows }, { runId, generation: 0, endedStage: 'download' });
    const step = await prisma.pipelineStep.findFirstOrThrow({ where: { runId, kind: 'quantise' } });
    Object.assign(process.env, env);
    return { runId, step };
  }
  const clearEnv = () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_LLAMA_QUANTIZE_')) delete process.env[k];
  };

  it('a tool that fails fails the step with its exit code and last lines; nothing is registered', async () => {
    const { runId, step } = await externalRun({ FAKE_LLAMA_QUANTIZE_FAIL_AT: '3' });
    try {
      await runStage(runId, 'quantise');
    } finally {
      clearEnv();
    }
    const s = await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id }, include: { logs: true } });
    expect(s.state).toBe('failed');
    expect(s.error).toMatch(/exit|exited|code 1/i);
    expect(s.artifactId).toBeNull();
    expect((await builtDirs()).filter((d) => d.includes(step.id))).toEqual([]);
  });

  it('a tool that hangs is killed at the recipe timeout', async () => {
    const { runId, step } = await externalRun({ FAKE_LLAMA_QUANTIZE_HANG_AT: '2' }, { timeoutSeconds: 3 });
    try {
      await runStage(runId, 'quantise');
    } finally {
      clearEnv();
    }
    const s = await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(s.state).toBe('failed');
    expect(s.error).toMatch(/did not finish within 3 s/);
    expect((await builtDirs()).filter((d) => d.includes(step.id))).toEqual([]);
  });

  it('cancel kills the tool’s process tree and leaves no artifact', async () => {
    const pidfile = path.join(settings.dataDir, `child-${rand()}.pid`);
    const { runId, step } = await externalRun({ FAKE_LLAMA_QUANTIZE_DELAY_MS: '400', FAKE_LLAMA_QUANTIZE_CHILD_PIDFILE: pidfile });
    const pending = runStage(runId, 'quantise');
    try {
      await waitFor(
        async () =>
          ((await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } })).progress as { phase?: string }).phase === 'tool',
        60_000,
      );
    } finally {
      clearEnv();
    }
    await cancelRun(ctx, runId);
    expect(await pending).toEqual(['cancelled']);
    const grandchild = Number(await readFile(pidfile, 'utf8'));
    await waitFor(async () => !alive(grandchild), 10_000);
    const s = await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(s).toMatchObject({ state: 'cancelled', artifactId: null });
    expect((await builtDirs()).filter((d) => d.includes(step.id))).toEqual([]);
    expect((await prisma.pipelineRun.findUniqueOrThrow({ where: { id: runId } })).state).toBe('cancelled');
  });

  it('kill -9 of the worker mid-step leaves no ready artifact; the re-delivered step starts clean and succeeds', async () => {
    const { runId, step } = await externalRun({});
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./testing/run-step-child.ts', import.meta.url))], {
      env: {
        ...process.env,
        DATABASE_URL: inject('databaseUrl'),
        STEP_ID: step.id,
        HUB_URL: hub.url,
        DATA_DIR: settings.dataDir,
        TOOLS: JSON.stringify({ 'llama-quantize': LLAMA_QUANTIZE }),
        FAKE_LLAMA_QUANTIZE_DELAY_MS: '300',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(
      async () =>
        ((await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } })).progress as { phase?: string }).phase === 'tool',
      60_000,
      () => stderr,
    );
    child.kill('SIGKILL');
    await exited;
    expect((await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id } })).state).toBe('running');
    expect(await prisma.artifact.count({ where: { producedByRunId: runId, recipeId: { not: null } } })).toBe(0);
    const leftovers = (await builtDirs()).filter((d) => d.includes(step.id));
    expect(leftovers.length).toBeGreaterThan(0);
    expect(leftovers.every((d) => d.startsWith('.'))).toBe(true);

    // BullMQ re-delivers the stalled job: the next attempt removes the leftovers and builds from scratch.
    expect(await executePipelineStep(deps(), step.id, { isFinalAttempt: true })).toBe('succeeded');
    const s = await prisma.pipelineStep.findUniqueOrThrow({ where: { id: step.id }, include: { logs: true } });
    expect(s.attempts).toBe(2);
    expect(s.logs.some((l) => /left by an interrupted attempt; starting clean/.test(l.message))).toBe(true);
    // No temporary folder is left; the registered artifact is ready (its bytes equal the earlier Q4_K_M build's).
    expect((await builtDirs()).filter((d) => d.includes(step.id) && d.startsWith('.'))).toEqual([]);
    expect(await prisma.artifact.findUniqueOrThrow({ where: { id: s.artifactId! } })).toMatchObject({
      status: 'ready',
      quantisation: 'Q4_0',
    });
  });
});

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
