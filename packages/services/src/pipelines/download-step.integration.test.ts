// The download stage through the pipeline services against the fake Hub and a real database:
// resume, verification, disk checks, reuse, cancellation and a worker killed mid-download.
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { allowLoopbackForTests } from '../network/testing';
import { startFakeHub, tinyRepoSeed, type FakeHub } from '@fleetplane/fake-hub';
import { DOWNLOAD_ONLY_SUMMARY } from '@fleetplane/contracts';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { SYSTEM_ACTOR } from '../context';
import { runRepoCheck } from '../upstream/repo-check.service';
import { fastRetry, makeTrackedRepo, testPrisma, testSettings, uniqueRepoId } from '../upstream/upstream-test-support';
import type { UpstreamSettings } from '../shared/upstream-settings';
import { cancelRun, getRun, retryRun, startPipeline } from './pipeline-runs.service';
import { finalisePipelineRun } from './run-flow';
import { executePipelineStep, PermanentStepError, type StepRunnerDeps } from './step-runner.service';
import { waitFor } from '../testing';

const prisma = testPrisma();
const SHARD = 1024 * 1024;
// Larger than the downloader's 4 MiB write batch, so a killed worker leaves bytes on disk.
const BIG_SHARD = 6 * 1024 * 1024;
const REPOS = Array.from({ length: 9 }, () => uniqueRepoId('dl'));
let hub: FakeHub;
let settings: UpstreamSettings;
const ctx = { prisma, actor: SYSTEM_ACTOR };

beforeAll(async () => {
  // The fake Hub / webhook receiver listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  hub = await startFakeHub({ repos: REPOS.map((id, i) => tinyRepoSeed(id, i === 6 ? BIG_SHARD : SHARD)), onWarning: () => undefined });
  settings = await testSettings(hub.url);
});
afterAll(async () => {
  await hub.close();
  await prisma.$disconnect();
});
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequestLog();
});

const deps = (extra: Partial<StepRunnerDeps> = {}): StepRunnerDeps => ({
  prisma,
  settings,
  diskMarginBytes: 0,
  retry: fastRetry,
  cancelPollMs: 100,
  ...extra,
});

/** Tracks the repo, records its head and starts a run for it; returns the run and its download step. */
async function runFor(hubRepoId: string, targetKey = 'default') {
  const repo = (await prisma.trackedRepo.findFirst({ where: { hubRepoId } })) ?? (await makeTrackedRepo(prisma, hubRepoId));
  await runRepoCheck({ prisma, settings, retry: fastRetry }, repo.id, { force: true });
  const revision = await prisma.modelRevision.findFirstOrThrow({
    where: { trackedRepoId: repo.id },
    orderBy: { detectedAt: 'desc' },
    include: { files: true },
  });
  const { id } = await startPipeline(ctx, { revisionId: revision.id, targetKey });
  const step = await prisma.pipelineStep.findFirstOrThrow({ where: { runId: id } });
  return { runId: id, stepId: step.id, revision };
}

const pathOf = (r: { path: string }) => r.path.split('?')[0]!;
const fileRequests = () => hub.requestLog.filter((r) => r.method === 'GET' && !r.path.startsWith('/api/'));
const sha256 = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  } catch {
    return [];
  }
}

describe('download stage', () => {
  it('downloads only the matching files, verifies them and records the artifact with the run', async () => {
    const { runId, stepId, revision } = await runFor(REPOS[0]!);
    expect(await executePipelineStep(deps(), stepId, { isFinalAttempt: false })).toBe('succeeded');
    const run = await getRun(ctx, runId);
    expect(run).toMatchObject({ state: 'succeeded', summary: DOWNLOAD_ONLY_SUMMARY, error: null });
    expect(run.steps[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
    const progress = run.steps[0]!.progress as { bytesDone: number; bytesTotal: number };
    expect(progress.bytesDone).toBe(Number(revision.totalBytes));
    expect(progress.bytesTotal).toBe(Number(revision.totalBytes));
    expect(run.artifacts).toHaveLength(1);
    const artifact = await prisma.artifact.findUniqueOrThrow({ where: { id: run.artifacts[0]!.id }, include: { files: true } });
    expect(artifact).toMatchObject({
      format: 'safetensors',
      quantisation: 'FP8',
      producedByRunId: runId,
      status: 'ready',
      revisionId: revision.id,
    });
    expect(artifact.digest).toBe(
      manifestDigest(artifact.files.map((f) => ({ path: f.path, sizeBytes: Number(f.sizeBytes), sha256: f.sha256 }))),
    );
    const dir = fileURLToPath(artifact.storageUri);
    expect(dir).toBe(path.join(settings.dataDir, 'artifacts', 'default', REPOS[0]!.replace('/', '--'), revision.commitSha));
    expect((await filesUnder(dir)).sort()).toEqual(revision.files.map((f) => f.path).sort());
    for (const f of artifact.files) expect(await sha256(path.join(dir, f.path))).toBe(f.sha256);
    expect(run.steps[0]!.logs.some((l) => l.message.includes('Verified 5 files'))).toBe(true);
  });

  it('fails for good, with nothing fetched, when the network policy refuses the Hub', async () => {
    const { runId, stepId } = await runFor(REPOS[8]!);
    hub.clearRequestLog();
    await allowLoopbackForTests(prisma, false);
    try {
      await expect(executePipelineStep(deps(), stepId, { isFinalAttempt: false })).rejects.toBeInstanceOf(PermanentStepError);
    } finally {
      await allowLoopbackForTests(prisma);
    }
    const run = await getRun(ctx, runId);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/^refused by network policy: 127\.0\.0\.1 is a loopback address/);
    expect(run.steps[0]).toMatchObject({ state: 'failed', attempts: 1 });
    expect(hub.requestLog).toHaveLength(0);
  });

  it('resumes an interrupted transfer from the bytes already on disk', async () => {
    const { runId, stepId } = await runFor(REPOS[1]!);
    hub.setFaults({ dropAfterBytes: { bytes: 300_000, times: 1, path: 'model-00001-of-00002.safetensors' } });
    expect(await executePipelineStep(deps(), stepId, { isFinalAttempt: false })).toBe('succeeded');
    const shard = hub.requestLog.filter(
      (r) => pathOf(r).endsWith('model-00001-of-00002.safetensors') && r.method === 'GET' && r.bytesSent > 0,
    );
    expect(shard.length).toBeGreaterThanOrEqual(2);
    expect(shard[0]!.aborted).toBe(true);
    const resumedAt = Number(/bytes=(\d+)-/.exec(shard.at(-1)!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(300_000);
    expect((await getRun(ctx, runId)).state).toBe('succeeded');
  });

  it('fails clearly on corrupted bytes and keeps nothing of the bad file', async () => {
    const { runId, stepId, revision } = await runFor(REPOS[2]!);
    hub.setFaults({ corruptByteAt: { offset: 1000, path: 'model-00002-of-00002.safetensors' } });
    await expect(executePipelineStep(deps(), stepId, { isFinalAttempt: false })).rejects.toBeInstanceOf(PermanentStepError);
    const run = await getRun(ctx, runId);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/Verification failed for model-00002-of-00002\.safetensors/);
    expect(run.steps[0]).toMatchObject({ state: 'failed' });
    expect(run.artifacts).toHaveLength(0);
    const dir = path.join(settings.dataDir, 'artifacts', 'default', REPOS[2]!.replace('/', '--'), revision.commitSha);
    expect((await filesUnder(dir)).filter((f) => f.startsWith('model-00002'))).toEqual([]);
  });

  it('refuses to start when the disk is too small, before requesting any file', async () => {
    const { runId, stepId } = await runFor(REPOS[3]!);
    const statfs = async () => ({ bavail: 10, bsize: 4096, blocks: 1000 });
    await expect(executePipelineStep(deps({ statfs }), stepId, { isFinalAttempt: false })).rejects.toThrow(/Not enough disk space/);
    expect(fileRequests()).toHaveLength(0);
    expect((await getRun(ctx, runId)).state).toBe('failed');
  });

  it('reuses unchanged files of an earlier artifact instead of downloading them again', async () => {
    const first = await runFor(REPOS[4]!);
    await executePipelineStep(deps(), first.stepId, { isFinalAttempt: false });
    await hub.publish(REPOS[4]!, { title: 'Tokenizer fix', files: { 'tokenizer.json': '{"version":"2.0"}\n' } });
    hub.clearRequestLog();
    const second = await runFor(REPOS[4]!);
    expect(second.revision.changeClass).toBe('tokenizer_template');
    expect(await executePipelineStep(deps(), second.stepId, { isFinalAttempt: false })).toBe('succeeded');
    const shards = fileRequests().filter((r) => pathOf(r).endsWith('.safetensors'));
    expect(shards).toHaveLength(0);
    const run = await getRun(ctx, second.runId);
    expect(run.steps[0]!.logs.some((l) => /2 reused from earlier artifacts/.test(l.message))).toBe(true);
    // Starting the same (revision, target) again returns the existing run.
    expect(await startPipeline(ctx, { revisionId: second.revision.id })).toEqual({ id: second.runId, created: false });
  });

  it('stops a running download when the run is cancelled, keeping partial files for a retry', async () => {
    const { runId, stepId, revision } = await runFor(REPOS[5]!);
    hub.setFaults({ bandwidthBytesPerSec: { bytesPerSec: 256 * 1024, path: '*.safetensors' } });
    const pending = executePipelineStep(deps(), stepId, { isFinalAttempt: false });
    await waitFor(
      async () =>
        ((await prisma.pipelineStep.findUniqueOrThrow({ where: { id: stepId } })).progress as { bytesDone?: number }).bytesDone! > 0,
    );
    await cancelRun(ctx, runId);
    expect(await pending).toBe('cancelled');
    const run = await getRun(ctx, runId);
    expect(run).toMatchObject({ state: 'cancelled' });
    expect(run.steps[0]!.state).toBe('cancelled');
    const dir = path.join(settings.dataDir, 'artifacts', 'default', REPOS[5]!.replace('/', '--'), revision.commitSha);
    expect((await filesUnder(dir)).some((f) => f.endsWith('.partial'))).toBe(true);

    hub.clearFaults();
    await retryRun(ctx, runId);
    expect(await executePipelineStep(deps(), stepId, { isFinalAttempt: false })).toBe('succeeded');
    expect((await getRun(ctx, runId)).state).toBe('succeeded');
  });

  it('completes after the worker process is killed mid-download (resuming, consistent state)', async () => {
    const { runId, stepId, revision } = await runFor(REPOS[6]!);
    hub.setFaults({ bandwidthBytesPerSec: { bytesPerSec: 2 * 1024 * 1024, path: '*.safetensors' } });
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./testing/run-step-child.ts', import.meta.url))], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), STEP_ID: stepId, HUB_URL: hub.url, DATA_DIR: settings.dataDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitCode: number | null | undefined;
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
    const dir = path.join(settings.dataDir, 'artifacts', 'default', REPOS[6]!.replace('/', '--'), revision.commitSha);
    const partialSizes = async () =>
      Promise.all(
        (await filesUnder(dir))
          .filter((f) => f.endsWith('.safetensors.partial'))
          .map(async (f) => (await stat(path.join(dir, f)).catch(() => null))?.size ?? 0),
      );
    await waitFor(
      async () => (await partialSizes()).some((n) => n > 0),
      60_000,
      () => `child exit ${exitCode}; ${stderr}`,
    );
    child.kill('SIGKILL');
    await exited;
    expect((await partialSizes()).some((n) => n > 0 && n < BIG_SHARD)).toBe(true);
    expect((await prisma.pipelineStep.findUniqueOrThrow({ where: { id: stepId } })).state).toBe('running');

    // BullMQ re-delivers the stalled job: the same step runs again in another worker.
    hub.clearFaults();
    hub.clearRequestLog();
    expect(await executePipelineStep(deps(), stepId, { isFinalAttempt: false })).toBe('succeeded');
    const resumed = fileRequests().filter((r) => r.status === 206 && r.range?.startsWith('bytes=') && !r.range.startsWith('bytes=0-'));
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    const run = await getRun(ctx, runId);
    expect(run.state).toBe('succeeded');
    expect(run.steps[0]!.attempts).toBe(2);
    expect(run.artifacts).toHaveLength(1);
    expect(await finalisePipelineRun(prisma, runId)).toEqual({ state: 'succeeded' });
  });
});
