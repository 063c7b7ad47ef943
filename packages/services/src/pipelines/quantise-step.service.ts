import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rm, statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TQuantiseProgress, TRecipeFields } from '@fleetplane/contracts';
import type { ArtifactFormat, PrismaClient } from '@fleetplane/db';
import { recipeQuantisationLabel, type ArtifactQuality, countOf } from '@fleetplane/domain';
import {
  convertCheckpoint,
  DEFAULT_IGNORED_MODULES,
  describeTarget,
  InsufficientDiskSpaceError,
  manifestOfDirectory,
  partialPrefix,
  QualityThresholdError,
  runExternalConversion,
  runTool,
  ToolFailedError,
  ToolTimeoutError,
  writeAtomically,
  type ArtifactManifest,
  type ConversionTarget,
} from '@fleetplane/quantise';
import { recipeFieldsOf } from '../recipes/recipes.service';
import { upstreamSettingsFromEnv, type UpstreamSettings } from '../shared/upstream-settings';
import { parseStepSpec } from './run-flow';
import type { StepResult, StepWork } from './step-runner.service';

/** Executables external recipes name: the template's first word (e.g. "llama-quantize") -> the program to run. */
export type ExternalTools = Readonly<Record<string, string>>;

export interface QuantiseDeps {
  prisma: PrismaClient;
  settings?: UpstreamSettings;
  tools?: ExternalTools;
  /** Free space of the artifact store (tests inject a full disk). */
  statfs?: (dir: string) => Promise<{ bavail: number; bsize: number }>;
}

/** A failure a retry cannot fix: bad quality, a full disk, a tool that exits with an error or hangs. */
export function isPermanentQuantiseError(err: unknown): boolean {
  return (
    err instanceof QualityThresholdError ||
    err instanceof InsufficientDiskSpaceError ||
    err instanceof ToolFailedError ||
    err instanceof ToolTimeoutError ||
    err instanceof PermanentQuantiseError
  );
}

/** Files a tokenizer-only revision replaces (the tokenizer rule, docs/pipelines.md). */
const TOKENIZER_FILE =
  /^(tokenizer[^/]*|special_tokens_map\.json|added_tokens\.json|chat_template[^/]*|[^/]*\.jinja|vocab\.[^/]+|merges\.txt)$/;

const OUTPUT_FORMAT: Record<TRecipeFields['outputFormat'], ArtifactFormat> = {
  fp8: 'fp8',
  gguf: 'gguf',
  mlx: 'mlx',
  safetensors: 'safetensors',
  awq: 'awq',
};

class ProgressMeter {
  private readonly startedAt = Date.now();
  constructor(private readonly writer: StepWork['writer']) {}

  update(p: { tensorsDone: number; tensorsTotal: number; bytesDone: number; bytesTotal: number }, extra: object = {}) {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? p.bytesDone / seconds : 0;
    const left = p.bytesTotal - p.bytesDone;
    const progress: TQuantiseProgress & object = {
      ...p,
      bytesPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.round(left / rate) : null,
      ...extra,
    };
    this.writer.progress(progress);
  }
}

async function storeFree(deps: QuantiseDeps, dir: string): Promise<number> {
  const s = deps.statfs ? await deps.statfs(dir) : await fsStatfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Removes what an interrupted attempt left: `.name.partial-*` folders and a final folder no artifact row claims. */
async function startClean(prisma: PrismaClient, finalDir: string, writer: StepWork['writer']) {
  const parent = path.dirname(finalDir);
  await mkdir(parent, { recursive: true });
  const prefix = partialPrefix(finalDir);
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix) && !name.startsWith(`.${path.basename(finalDir)}.input-`)) continue;
    await rm(path.join(parent, name), { recursive: true, force: true });
    writer.log('warn', `Removed ${name} left by an interrupted attempt; starting clean`);
  }
  const claimed = await prisma.artifact.findFirst({ where: { storageUri: pathToFileURL(finalDir).href }, select: { id: true } });
  if (!claimed) {
    const had = await readdir(finalDir).then(
      () => true,
      () => false,
    );
    if (had) {
      // Renamed into place but never registered (the worker died in between): not trusted, rebuilt.
      await rm(finalDir, { recursive: true, force: true });
      writer.log('warn', `Removed ${path.basename(finalDir)}: it was never registered as an artifact; starting clean`);
    }
  }
}

/** Hard-links (or copies across filesystems) a file: a tokenizer-only build shares the unchanged weights. */
async function linkOrCopy(from: string, to: string) {
  await mkdir(path.dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, p)));
    else out.push(p);
  }
  return out;
}

/** Parses an external quality command's output: "perplexity: 5.21", "KLD = 0.012", "ppl 6.1" or one JSON object. */
export function parseQualityOutput(lines: readonly string[]): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed.startsWith('{')) {
      try {
        for (const [k, v] of Object.entries(JSON.parse(trimmed) as Record<string, unknown>))
          if (typeof v === 'number' && Number.isFinite(v)) figures[k] = v;
        continue;
      } catch {
        // Not JSON after all: read it as text.
      }
    }
    const m = /\b(perplexity|ppl|kld|kl[ -]?divergence|mean kld|top[- ]?1|same top p)\b[^0-9+-]*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)/i.exec(
      trimmed,
    );
    if (m) figures[m[1]!.toLowerCase().replace(/\s+/g, '_')] = Number(m[2]);
  }
  return figures;
}

/**
 * One quantise step: builds one recipe's artifact from the run's downloaded checkpoint (or, for a tokenizer-only
 * revision, copies the new tokenizer files over the last artifact of the recipe). Free disk is checked first; the
 * output is written in a temporary folder and registered as ready only when complete and within its quality limits,
 * so a failure, cancel or kill -9 leaves no ready artifact and the next attempt starts clean. The same source +
 * recipe digest is never built twice: the existing artifact is reused and the step says so.
 */
export async function executeQuantiseStep(deps: QuantiseDeps, work: StepWork): Promise<StepResult> {
  const { prisma } = deps;
  const { step, writer, signal } = work;
  const spec = parseStepSpec(step.spec);
  if (!spec.recipeId) throw new PermanentQuantiseError('The step names no recipe');
  const recipe = await prisma.quantRecipe.findUnique({ where: { id: spec.recipeId } });
  if (!recipe) throw new PermanentQuantiseError(`Recipe ${spec.recipeId} no longer exists`);
  const fields = recipeFieldsOf(recipe);
  const download = await prisma.pipelineStep.findFirst({
    where: { runId: step.runId, kind: 'download' },
    include: { artifact: true },
  });
  const source = download?.artifact;
  if (!source || source.status !== 'ready') throw new PermanentQuantiseError('The run has no verified download to build from');
  writer.log(
    'info',
    `Recipe ${recipe.name} v${recipe.version} (${recipe.digest.slice(0, 19)}…) from source ${source.digest.slice(0, 16)}…`,
  );

  // Reuse: same source bytes + same recipe content = same artifact.
  const existing = await prisma.artifact.findFirst({
    where: { sourceArtifactId: source.id, recipeDigest: recipe.digest, status: 'ready' },
    orderBy: { createdAt: 'asc' },
  });
  if (existing)
    return {
      artifactId: existing.id,
      progress: { reused: true, artifactId: existing.id },
      message: `Reused artifact ${existing.digest.slice(0, 16)}… (${existing.quantisation}): it was built from the same source digest with the same recipe digest`,
    };

  const settings = deps.settings ?? upstreamSettingsFromEnv();
  const run = await prisma.pipelineRun.findUniqueOrThrow({
    where: { id: step.runId },
    select: { revisionId: true, triggeredById: true, trigger: true },
  });
  const sourceDir = fileURLToPath(source.storageUri);
  const finalDir = path.join(
    settings.dataDir,
    'artifacts',
    'built',
    `${source.digest.slice(0, 16)}-${recipe.digest.replace(/^sha256:/, '').slice(0, 16)}-${step.id}`,
  );
  await startClean(prisma, finalDir, writer);

  // Free space first: a lossy build writes at most ~2x its source (FP4 experts become FP8); the copy mode links.
  const sourceBytes = Number(source.sizeBytes);
  const needed = spec.mode === 'copy-tokenizer' ? 64 * 2 ** 20 : Math.ceil(sourceBytes * (fields.tool === 'builtin' ? 2 : 3));
  const free = await storeFree(deps, path.dirname(finalDir));
  if (needed + 64 * 2 ** 20 > free) throw new InsufficientDiskSpaceError(needed + 64 * 2 ** 20, free, path.dirname(finalDir));

  const started = Date.now();
  const meter = new ProgressMeter(writer);
  let manifest: ArtifactManifest;
  let quality: (ArtifactQuality & { external?: object }) | null = null;
  let quantisation = recipeQuantisationLabel(fields);
  let toolVersion = fields.toolVersion;
  let notes: string[] = [];

  if (spec.mode === 'copy-tokenizer') {
    const base = spec.baseArtifactId
      ? await prisma.artifact.findUnique({ where: { id: spec.baseArtifactId }, include: { files: true } })
      : null;
    if (!base || base.status !== 'ready')
      throw new PermanentQuantiseError('The last artifact of this recipe is gone; retry after a full build');
    const baseDir = fileURLToPath(base.storageUri);
    const newTokenizer = (await filesUnder(sourceDir)).filter((f) => TOKENIZER_FILE.test(path.basename(f)));
    writer.log('info', `Tokenizer-only revision: copying ${newTokenizer.join(', ')} over artifact ${base.digest.slice(0, 16)}…`);
    manifest = await writeAtomically(finalDir, async (dir) => {
      for (const f of base.files)
        if (!TOKENIZER_FILE.test(path.basename(f.path))) await linkOrCopy(path.join(baseDir, f.path), path.join(dir, f.path));
      for (const f of newTokenizer) await copyFile(path.join(sourceDir, f), path.join(dir, f));
      return manifestOfDirectory(dir);
    });
    quality = (base.quality as (ArtifactQuality & { external?: object }) | null) ?? null;
    quantisation = base.quantisation;
    notes = [`weights from artifact ${base.digest}`];
  } else if (fields.tool === 'builtin') {
    const target = fields.params.target as ConversionTarget;
    writer.log('info', `Converting to ${describeTarget(target)} (built in)`);
    const result = await convertCheckpoint({
      sourceDir,
      outputDir: finalDir,
      parameters: {
        target,
        ignoredModules: fields.params.ignoredModules ?? DEFAULT_IGNORED_MODULES,
        maxShardBytes: fields.params.maxShardBytes,
        thresholds: fields.params.thresholds,
      },
      signal,
      onProgress: (p) => meter.update(p),
    });
    manifest = result.manifest;
    quality = result.quality;
    notes = result.notes;
    writer.log('info', result.workerThreads ? `Converted on ${result.workerThreads} worker threads` : 'Converted on one thread');
  } else {
    const ext = await buildExternal(deps, { fields, sourceDir, finalDir, work, meter });
    manifest = ext.manifest;
    quantisation = ext.quantisation;
    toolVersion = ext.toolVersion ?? toolVersion;
    quality = ext.quality;
    notes = ext.notes;
  }
  const durationMs = Date.now() - started;
  if (quality && fields.qualityCommand.length && spec.mode !== 'copy-tokenizer') {
    quality = { ...quality, external: await runQualityCommand(deps, fields, finalDir, work) };
  }

  // Registered in one transaction: a ready artifact exists only with its files, lineage and quality.
  const registered = await prisma.$transaction(async (tx) => {
    const same = await tx.artifact.findUnique({ where: { digest: manifest.digest } });
    if (same) return { id: same.id, existed: true };
    const artifact = await tx.artifact.create({
      data: {
        revisionId: run.revisionId,
        format: OUTPUT_FORMAT[fields.outputFormat],
        quantisation,
        sizeBytes: BigInt(manifest.totalBytes),
        digest: manifest.digest,
        storageUri: pathToFileURL(finalDir).href,
        status: 'ready',
        producedByRunId: step.runId,
        recipeId: recipe.id,
        recipeDigest: recipe.digest,
        sourceArtifactId: source.id,
        recipe: { name: recipe.name, version: recipe.version, tool: fields.tool, toolVersion, params: fields.params as object },
        quality: quality ? (JSON.parse(JSON.stringify(quality)) as object) : undefined,
        buildInfo: {
          mode: spec.mode ?? 'convert',
          tool: fields.tool,
          toolVersion,
          params: fields.params as object,
          commandTemplate: fields.commandTemplate,
          durationMs,
          startedAt: new Date(started).toISOString(),
          stepId: step.id,
          attempt: work.attempt,
          trigger: run.trigger,
          startedById: run.triggeredById,
          notes,
        },
        files: { createMany: { data: manifest.files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.size), sha256: f.sha256 })) } },
      },
    });
    return { id: artifact.id, existed: false };
  });
  if (registered.existed) {
    // Another build wrote the same bytes first (e.g. a second target): keep one copy.
    await rm(finalDir, { recursive: true, force: true });
  }
  for (const n of notes) writer.log('info', `Note: ${n}`);
  const q =
    quality && quality.quantisedTensors > 0
      ? `; worst relative RMSE ${quality.worstRelRmse.toPrecision(3)}, worst SNR ${quality.worstSnrDb?.toFixed(1) ?? '∞'} dB`
      : '';
  return {
    artifactId: registered.id,
    progress: {
      tensorsDone: 1,
      tensorsTotal: 1,
      bytesDone: sourceBytes,
      bytesTotal: sourceBytes,
      bytesPerSecond: 0,
      etaSeconds: 0,
      artifactId: registered.id,
      durationMs,
    },
    message: `Artifact ${manifest.digest.slice(0, 16)}… ${registered.existed ? 'already existed (same bytes); reused' : 'registered'} (${quantisation}, ${countOf(manifest.files.length, 'file')}, ${manifest.totalBytes} bytes) in ${(durationMs / 1000).toFixed(1)} s${q}`,
  };
}

export class PermanentQuantiseError extends Error {
  override readonly name = 'PermanentQuantiseError';
}

function toolPath(deps: QuantiseDeps, name: string) {
  return deps.tools?.[name] ?? name;
}

async function buildExternal(
  deps: QuantiseDeps,
  args: { fields: TRecipeFields; sourceDir: string; finalDir: string; work: StepWork; meter: ProgressMeter },
) {
  const { fields, sourceDir, finalDir, work, meter } = args;
  const { writer, signal } = work;
  const template = [toolPath(deps, fields.commandTemplate[0]!), ...fields.commandTemplate.slice(1)];
  let inputDir = sourceDir;
  let inputFile: string | undefined;
  let intermediate: string | null = null;
  const notes: string[] = [];
  let quality: ArtifactQuality | null = null;
  try {
    if (fields.params.inputTarget) {
      // The tool reads another format (llama-quantize: a GGUF F16): built in first, beside the output, removed after.
      const target = fields.params.inputTarget as ConversionTarget;
      intermediate = path.join(path.dirname(finalDir), `.${path.basename(finalDir)}.input-${randomUUID()}`);
      writer.log('info', `Preparing the tool's input: ${describeTarget(target)} (built in)`);
      const r = await convertCheckpoint({
        sourceDir,
        outputDir: intermediate,
        parameters: { target, ignoredModules: fields.params.ignoredModules ?? DEFAULT_IGNORED_MODULES },
        signal,
        onProgress: (p) => meter.update({ ...p, bytesDone: p.bytesDone / 2, bytesTotal: p.bytesTotal }, { phase: 'input' }),
      });
      quality = r.quality;
      notes.push(`input for the tool: ${describeTarget(target)} (its quality figures are stored; the tool's own output is not measured)`);
      inputDir = intermediate;
      inputFile = r.manifest.files.find((f) => f.path.endsWith('.gguf'))?.path ?? r.manifest.files[0]?.path;
    }
    writer.log('info', `Running ${template.join(' ')}`);
    let lastLog = 0;
    const result = await runExternalConversion({
      template,
      inputDir,
      inputFile,
      outputDir: finalDir,
      outputFileName: fields.params.outputFileName,
      values: fields.params.values,
      timeoutMs: (fields.params.timeoutSeconds ?? 6 * 3600) * 1000,
      signal,
      onLine: (line) => {
        // Every line goes to the step log, except a flood of progress lines (one per second is kept).
        const isProgress = /^\s*\[\s*\d+\/\s*\d+\]/.test(line);
        if (isProgress && Date.now() - lastLog < 1000) return;
        lastLog = Date.now();
        writer.log('info', `tool: ${line}`);
      },
      onProgress: (p) =>
        meter.update(
          { tensorsDone: p.done, tensorsTotal: p.total, bytesDone: p.done, bytesTotal: p.total },
          { phase: 'tool', tensor: p.tensor },
        ),
    });
    const version = result.toolVersion?.version ?? null;
    writer.log(
      'info',
      `Tool version ${version ?? 'unknown'}; exit ${result.run.exitCode} after ${(result.run.durationMs / 1000).toFixed(1)} s`,
    );
    writer.log('info', `Detected from the files: ${result.detected.format} ${result.detected.quantisation}`);
    return { manifest: result.manifest, quantisation: result.detected.quantisation, toolVersion: version, quality, notes };
  } catch (e) {
    if (e instanceof ToolFailedError || e instanceof ToolTimeoutError)
      writer.log('error', `tool output (last lines): ${e.tail.slice(-10).join(' | ')}`);
    throw e;
  } finally {
    if (intermediate) await rm(intermediate, { recursive: true, force: true });
  }
}

async function runQualityCommand(deps: QuantiseDeps, fields: TRecipeFields, artifactDir: string, work: StepWork) {
  const template = [toolPath(deps, fields.qualityCommand[0]!), ...fields.qualityCommand.slice(1)];
  const lines: string[] = [];
  work.writer.log('info', `Quality command: ${template.join(' ')}`);
  const r = await runTool({
    template,
    values: { artifact_dir: artifactDir, output_dir: artifactDir, threads: 2, ...fields.params.values },
    timeoutMs: (fields.params.timeoutSeconds ?? 3600) * 1000,
    signal: work.signal,
    onLine: (line) => {
      lines.push(line);
      work.writer.log('info', `quality: ${line}`);
    },
  });
  return { command: r.argv, figures: parseQualityOutput(lines), durationMs: r.durationMs };
}
