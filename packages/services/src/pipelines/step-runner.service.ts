import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  defaultArtifactKey,
  downloadFiles,
  DownloadHttpError,
  DownloadVerificationError,
  InsufficientDiskError,
  LocalDirectoryStore,
  type RetryPolicy,
  type StatfsResult,
} from '@fleetplane/hub';
import { isNetworkPolicyError, type NetworkPolicy } from '@fleetplane/net';
import { loadNetworkPolicy } from '../network/network-policy.service';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import type { Prisma, PrismaClient } from '@fleetplane/db';
import { resolveRepoAccess, upstreamSettingsFromEnv, type UpstreamSettings } from '../shared/upstream-settings';
import { detectFormat, detectQuantisation } from './artifact-format';
import type { DownloadLimits } from './cluster-download-limits';
import { UNIT_HEARTBEAT_MS } from '@fleetplane/domain/runs/lost-run-decision';
import { settleRunAfterStep } from './run-flow';
import { executeQuantiseStep, isPermanentQuantiseError, type ExternalTools } from './quantise-step.service';
import { executeValidateStep, isPermanentValidateError, type ValidateStepDeps } from './validate-step.service';
import { countOf } from '@fleetplane/domain';

/** A failure retrying cannot fix (bad bytes, full disk, refused by the Hub): the worker must not retry. */
export class PermanentStepError extends Error {
  override readonly name = 'PermanentStepError';
}

export interface StepRunnerDeps {
  prisma: PrismaClient;
  settings?: UpstreamSettings;
  /** How often a running step looks for a cancel request (and writes its heartbeat). */
  cancelPollMs?: number;
  /** Files downloaded at once per step. */
  concurrency?: number;
  /**
   * Download limits of the run's target (a cluster id or name): file slots and a bandwidth limiter
   * shared by every step for that cluster, so parallel runs to one site share one budget.
   * The worker passes ClusterDownloadLimits.forTarget; absent or undefined = not limited.
   */
  limitsFor?: (targetKey: string) => Promise<DownloadLimits | undefined>;
  /** Injected in tests (full disk). */
  statfs?: (dir: string) => Promise<StatfsResult>;
  diskMarginBytes?: number;
  retry?: Partial<RetryPolicy>;
  stallTimeoutMs?: number;
  /** The outgoing-request policy; read from the admin setting and the configuration when absent. */
  network?: NetworkPolicy;
  /** Executables external recipes name (e.g. llama-quantize -> a path); absent = looked up on the PATH. */
  tools?: ExternalTools;
  /** Injected in tests (a full disk for the quantise stage). */
  quantiseStatfs?: (dir: string) => Promise<{ bavail: number; bsize: number }>;
  /** Validate-stage timings (lease TTL and renewal, command wait slices); tests shorten them. */
  validate?: Omit<ValidateStepDeps, 'prisma'>;
}

export type StepOutcome = 'succeeded' | 'cancelled' | 'already_done' | 'retrying' | 'skipped';

class CancelRequested extends Error {
  override readonly name = 'CancelRequested';
}

/** Writes log lines and progress in order, without making the work wait for the database. */
export class StepWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private pendingProgress: object | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly stepId: string,
  ) {}

  private enqueue(fn: () => Promise<unknown>) {
    this.chain = this.chain.then(fn).catch(() => undefined);
  }

  log(level: 'info' | 'warn' | 'error', message: string) {
    this.enqueue(() => this.prisma.pipelineLog.create({ data: { stepId: this.stepId, level, message: message.slice(0, 4000) } }));
  }

  progress(p: object) {
    // Coalesce: if a write is still queued, only the newest snapshot is written.
    const queued = this.pendingProgress !== null;
    this.pendingProgress = p;
    if (queued) return;
    this.enqueue(async () => {
      const snapshot = this.pendingProgress;
      this.pendingProgress = null;
      if (snapshot)
        await this.prisma.pipelineStep.update({ where: { id: this.stepId }, data: { progress: { ...snapshot }, heartbeatAt: new Date() } });
    });
  }

  flush() {
    return this.chain;
  }
}

function describe(obj: object, msg?: string) {
  const details = Object.entries(obj)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [msg, details].filter(Boolean).join(' ');
}

function isPermanent(err: unknown) {
  // A refused address stays refused until an admin changes the setting: no point retrying it.
  return (
    err instanceof DownloadVerificationError ||
    err instanceof InsufficientDiskError ||
    err instanceof DownloadHttpError ||
    err instanceof PermanentStepError ||
    isNetworkPolicyError(err) ||
    isPermanentQuantiseError(err) ||
    isPermanentValidateError(err)
  );
}

type StepRow = Prisma.PipelineStepGetPayload<{ include: { run: true } }>;

/** What a stage's executor gets: the step, its log/progress writer and the cancel signal. */
export interface StepWork {
  step: StepRow;
  attempt: number;
  writer: StepWriter;
  signal: AbortSignal;
}

/** How a step's work ended: the artifact it produced / reused, the final progress and one log line. */
export interface StepResult {
  artifactId?: string | null;
  progress?: object;
  message: string;
  /** A step that had nothing to do (e.g. the cluster has no staging node to validate on): it ends skipped with this reason. */
  skipped?: string;
}

const STAGE_START_SUMMARY: Record<string, string> = {
  download: 'Downloading the revision from the Hub.',
  quantise: 'Quantising.',
  validate: 'Validating.',
};

/**
 * Runs one pipeline step. State transitions are idempotent so a re-delivered job (a worker killed
 * mid-step and picked up again as stalled) continues where it was: "running" with a new attempt,
 * resuming what it can, and "succeeded" only after its output was verified. When the step ended, the run
 * is settled at once if nothing is left to start (the stage's flow parent starts the next stage).
 */
export async function executePipelineStep(
  deps: StepRunnerDeps,
  stepId: string,
  attempt: { isFinalAttempt: boolean },
): Promise<StepOutcome> {
  const { prisma } = deps;
  const step = await prisma.pipelineStep.findUnique({ where: { id: stepId }, include: { run: true } });
  if (!step) throw new PermanentStepError(`Pipeline step ${stepId} does not exist`);
  if (step.state === 'succeeded' || step.state === 'cancelled' || step.state === 'skipped' || step.state === 'failed')
    return 'already_done';
  const writer = new StepWriter(prisma, stepId);
  const now = new Date();

  if (step.run.cancelRequestedAt) {
    await markStep(prisma, stepId, { state: 'cancelled', finishedAt: now });
    await settleRunAfterStep(prisma, step.runId);
    return 'cancelled';
  }
  const started = await prisma.pipelineStep.update({
    where: { id: stepId },
    data: {
      state: 'running',
      attempts: { increment: 1 },
      startedAt: step.startedAt ?? now,
      heartbeatAt: now,
      error: null,
      finishedAt: null,
    },
  });
  await prisma.pipelineRun.update({
    where: { id: step.runId },
    data: { state: 'running', startedAt: step.run.startedAt ?? now, summary: STAGE_START_SUMMARY[step.kind] ?? step.run.summary },
  });
  writer.log(
    'info',
    `Attempt ${started.attempts} started${started.attempts > 1 && step.kind === 'download' ? ' (partial files from earlier attempts are resumed)' : ''}`,
  );

  const controller = new AbortController();
  let lastHeartbeat = Date.now();
  const poll = setInterval(() => {
    // Progress writes carry a heartbeat too, but a step waiting for a download slot writes none: the
    // reconciler must still see that a worker is on it.
    if (Date.now() - lastHeartbeat >= UNIT_HEARTBEAT_MS) {
      lastHeartbeat = Date.now();
      prisma.pipelineStep.updateMany({ where: { id: stepId, state: 'running' }, data: { heartbeatAt: new Date() } }).catch(() => undefined);
    }
    prisma.pipelineRun
      .findUnique({ where: { id: step.runId }, select: { cancelRequestedAt: true } })
      .then((r) => {
        if (r?.cancelRequestedAt && !controller.signal.aborted) controller.abort(new CancelRequested('Cancel requested'));
      })
      .catch(() => undefined);
  }, deps.cancelPollMs ?? 1000);

  const work: StepWork = { step, attempt: started.attempts, writer, signal: controller.signal };
  try {
    const result = await runStageWork(deps, work);
    clearInterval(poll);
    writer.log('info', result.skipped ? `Skipped: ${result.skipped}` : result.message);
    await writer.flush();
    const finishedAt = new Date();
    await markStep(prisma, stepId, {
      state: result.skipped ? 'skipped' : 'succeeded',
      finishedAt,
      heartbeatAt: finishedAt,
      error: result.skipped ?? null,
      ...(result.progress ? { progress: result.progress } : {}),
      ...(result.artifactId !== undefined ? { artifactId: result.artifactId } : {}),
    });
    await settleRunAfterStep(prisma, step.runId);
    return result.skipped ? 'skipped' : 'succeeded';
  } catch (err) {
    clearInterval(poll);
    await writer.flush();
    if (controller.signal.aborted && controller.signal.reason instanceof CancelRequested) {
      writer.log(
        'warn',
        step.kind === 'download'
          ? 'Cancelled; partial files are kept so a retry resumes them'
          : step.kind === 'validate'
            ? 'Cancelled; the staging node was put back'
            : 'Cancelled; nothing was registered',
      );
      await writer.flush();
      await markStep(prisma, stepId, { state: 'cancelled', finishedAt: new Date() });
      await settleRunAfterStep(prisma, step.runId);
      return 'cancelled';
    }
    const message = err instanceof Error ? err.message : String(err);
    const permanent = isPermanent(err);
    if (!permanent && !attempt.isFinalAttempt) {
      writer.log('warn', `Attempt ${started.attempts} failed: ${message}; retrying`);
      await writer.flush();
      await prisma.pipelineStep.update({ where: { id: stepId }, data: { state: 'queued', error: message } });
      throw err;
    }
    writer.log('error', message);
    await writer.flush();
    await markStep(prisma, stepId, { state: 'failed', finishedAt: new Date(), error: message });
    await settleRunAfterStep(prisma, step.runId);
    throw permanent ? new PermanentStepError(message) : err;
  }
}

/** One executor per stage: the step's kind decides which. */
async function runStageWork(deps: StepRunnerDeps, work: StepWork): Promise<StepResult> {
  switch (work.step.kind) {
    case 'download':
      return downloadStepWork(deps, work);
    case 'quantise':
      return executeQuantiseStep({ prisma: deps.prisma, settings: deps.settings, tools: deps.tools, statfs: deps.quantiseStatfs }, work);
    case 'validate':
      return executeValidateStep({ prisma: deps.prisma, ...deps.validate }, work);
  }
}

async function markStep(prisma: PrismaClient, stepId: string, data: Prisma.PipelineStepUncheckedUpdateInput) {
  await prisma.pipelineStep.update({ where: { id: stepId }, data });
}

async function downloadStepWork(deps: StepRunnerDeps, work: StepWork): Promise<StepResult> {
  const { prisma } = deps;
  const result = await runDownload(deps, work.step.runId, work.step.id, work.writer, work.signal);
  const totalBytes = result.files.reduce((n, f) => n + f.sizeBytes, 0);
  const { artifactId, existed } = await recordDownloadedArtifact(prisma, work.step.runId, result, totalBytes);
  return {
    artifactId,
    progress: {
      bytesDone: totalBytes,
      bytesTotal: totalBytes,
      bytesPerSecond: 0,
      etaSeconds: 0,
      filesDone: result.files.length,
      filesTotal: result.files.length,
      currentFiles: [],
      fetchedBytes: result.stats.fetchedBytes,
      durationMs: result.stats.durationMs,
      artifactId,
    },
    message: `Artifact ${result.digest.slice(0, 16)}… ${existed ? 'already existed; reused' : 'recorded'} (${result.format}, ${result.quantisation})`,
  };
}

async function runDownload(deps: StepRunnerDeps, runId: string, _stepId: string, writer: StepWriter, signal: AbortSignal) {
  const { prisma } = deps;
  const settings = deps.settings ?? upstreamSettingsFromEnv();
  const run = await prisma.pipelineRun.findUniqueOrThrow({
    where: { id: runId },
    include: { revision: { include: { files: true, trackedRepo: true } } },
  });
  const { revision } = run;
  const repo = revision.trackedRepo;
  const access = resolveRepoAccess(repo, settings);
  if (access.problem) throw new PermanentStepError(access.problem);
  const files: TManifestFile[] = revision.files.map((f) => ({
    path: f.path,
    sizeBytes: Number(f.sizeBytes),
    sha256: f.sha256,
    gitOid: f.gitOid ?? '0'.repeat(40),
    lfs: f.sha256 !== null,
  }));
  if (files.length === 0)
    throw new PermanentStepError(`Revision ${revision.commitSha.slice(0, 12)} has no files matching the repo's patterns`);

  const store = new LocalDirectoryStore(
    path.join(settings.dataDir, 'artifacts', run.targetKey),
    deps.statfs ? { statfs: deps.statfs } : {},
  );
  const artifactKey = defaultArtifactKey(repo.hubRepoId, revision.commitSha);
  writer.log(
    'info',
    `Downloading ${countOf(files.length, 'file')} of ${repo.hubRepoId}@${revision.commitSha.slice(0, 12)} into ${path.join(store.root, artifactKey)}`,
  );
  const limits = await deps.limitsFor?.(run.targetKey);
  if (limits) writer.log('info', limits.description);

  const result = await downloadFiles({
    hubUrl: access.hubUrl,
    repoId: repo.hubRepoId,
    revision: revision.commitSha,
    files,
    artifactKey,
    accessToken: access.accessToken,
    store,
    concurrency: deps.concurrency ?? 4,
    limiter: limits?.limiter,
    slots: limits?.slots,
    diskMarginBytes: deps.diskMarginBytes,
    stallTimeoutMs: deps.stallTimeoutMs,
    retry: deps.retry,
    network: deps.network ?? (await loadNetworkPolicy(prisma)),
    progressIntervalMs: 500,
    signal,
    onProgress: (p) => writer.progress(p),
    reuse: (sha256) => findReusableFile(prisma, sha256),
    log: { info: (o, m) => writer.log('info', describe(o, m)), warn: (o, m) => writer.log('warn', describe(o, m)) },
  });
  const s = result.stats;
  writer.log(
    'info',
    `Verified ${countOf(result.files.length, 'file')}: ${s.downloadedFiles} downloaded (${s.resumedFiles} resumed), ${s.reusedFiles} reused from earlier artifacts, ${s.presentFiles} already present; ${s.fetchedBytes} bytes fetched in ${s.durationMs} ms`,
  );
  const configPath = result.files.find((f) => f.path === 'config.json') ? store.pathFor(artifactKey, 'config.json') : null;
  const configJson = configPath ? await readFile(configPath, 'utf8').catch(() => null) : null;
  return {
    ...result,
    storageUri: pathToFileURL(path.join(store.root, ...artifactKey.split('/'))).href,
    format: detectFormat(result.files.map((f) => f.path)),
    quantisation: detectQuantisation(
      result.files.map((f) => f.path),
      configJson,
    ),
  };
}

/** A verified file with this content from an earlier artifact, if it is still on disk. */
async function findReusableFile(prisma: PrismaClient, sha256: string): Promise<string | null> {
  // downloadFiles checks the candidate's size and downloads instead when it is gone.
  const row = await prisma.artifactFile.findFirst({
    where: { sha256, artifact: { status: 'ready', storageUri: { startsWith: 'file:' } } },
    include: { artifact: { select: { storageUri: true } } },
    orderBy: { id: 'asc' },
  });
  return row ? path.join(fileURLToPath(row.artifact.storageUri), ...row.path.split('/')) : null;
}

type DownloadOutcome = Awaited<ReturnType<typeof runDownload>>;

/** Identical bytes have one identity: a second target or a re-run reuses the artifact row. */
async function recordDownloadedArtifact(prisma: PrismaClient, runId: string, result: DownloadOutcome, totalBytes: number) {
  return prisma.$transaction(async (tx) => {
    const run = await tx.pipelineRun.findUniqueOrThrow({ where: { id: runId } });
    const existing = await tx.artifact.findUnique({ where: { digest: result.digest } });
    if (existing) return { artifactId: existing.id, existed: true };
    const artifact = await tx.artifact.create({
      data: {
        revisionId: run.revisionId,
        format: result.format,
        quantisation: result.quantisation,
        sizeBytes: BigInt(totalBytes),
        digest: result.digest,
        storageUri: result.storageUri,
        status: 'ready',
        producedByRunId: runId,
        files: { createMany: { data: result.files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.sizeBytes), sha256: f.sha256 })) } },
      },
    });
    return { artifactId: artifact.id, existed: false };
  });
}
