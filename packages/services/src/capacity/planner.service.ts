import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZPlanInput, type TPlanRequest } from '@fleetplane/contracts';
import type { Db, PrismaClient } from '@fleetplane/db';
import {
  buildLaunchCommand,
  checkCompatibility,
  compareKvCapacity,
  parseEngineKvReport,
  hasFp4Experts,
  parseGgufArch,
  parseModelConfig,
  planFit,
  type TArtifactFormat,
  type TArtifactTraits,
  type TCompatReport,
  type TEngineKind,
  type TFitPlan,
  type TEngineKvReport,
  type TGpuSpec,
  type TKvCapacityComparison,
  type TModelArch,
} from '@fleetplane/domain';
import type { ServiceContext } from '../context';
import { invalid, notFound } from '../errors';
import { listCatalogEngines, listCatalogGpus, matchCatalogGpu } from './catalog.service';

/**
 * The planner at the edge: loads the artifact's architecture, the GPUs (from the catalog or a
 * cluster's inventory) and the engine, then runs the pure compatibility rules, fit planner and
 * launch-command builder.
 */

export interface TModelSource {
  arch: TModelArch | null;
  /** Why the architecture could not be read (missing config.json, missing fields). */
  archErrors: string[];
  traits: TArtifactTraits;
  weightsBytes: number;
  modelRef: string;
  label: string;
}

type ArtifactRow = {
  id: string;
  format: TArtifactFormat;
  quantisation: string;
  sizeBytes: bigint;
  storageUri: string;
  requirements: unknown;
  revision: { commitSha: string; trackedRepo: { hubRepoId: string } };
  modelConfig: { source: string; body: unknown } | null;
};

/** What the planner and the compatibility checks read of an artifact: one select for both. */
export const ARTIFACT_SELECT = {
  id: true,
  format: true,
  quantisation: true,
  sizeBytes: true,
  storageUri: true,
  requirements: true,
  revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
  modelConfig: { select: { source: true, body: true } },
} as const;

/** config.json beside the artifact's files, when the store is on this machine. */
async function readStoredConfig(storageUri: string): Promise<unknown> {
  if (!storageUri.startsWith('file:')) return null;
  try {
    return JSON.parse(await readFile(path.join(fileURLToPath(storageUri), 'config.json'), 'utf8'));
  } catch {
    return null;
  }
}

function requirementsOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export async function artifactModelSource(prisma: PrismaClient | Db, artifact: ArtifactRow): Promise<TModelSource> {
  let parsed: ReturnType<typeof parseModelConfig> | null = null;
  if (artifact.modelConfig) {
    parsed =
      artifact.modelConfig.source === 'gguf'
        ? parseGgufArch(artifact.modelConfig.body as Record<string, unknown>)
        : parseModelConfig(artifact.modelConfig.body);
  } else {
    const body = await readStoredConfig(artifact.storageUri);
    if (body !== null) {
      parsed = parseModelConfig(body);
      // Keep it, so later plans do not depend on the files staying on this machine.
      if (parsed.ok)
        await prisma.artifactModelConfig.upsert({
          where: { artifactId: artifact.id },
          create: { artifactId: artifact.id, source: 'config.json', body: body as object },
          update: {},
        });
    }
  }
  const arch = parsed?.ok ? parsed.value : null;
  const repoId = artifact.revision.trackedRepo.hubRepoId;
  return {
    arch,
    archErrors:
      parsed === null
        ? ['This artifact has no stored config.json (and none beside its files): paste one to plan']
        : parsed.ok
          ? []
          : parsed.errors,
    traits: {
      format: artifact.format,
      quantisation: artifact.quantisation,
      modelType: arch?.modelType ?? null,
      expertDtype: arch?.expertDtype ?? null,
      repoId,
      requirements: requirementsOf(artifact.requirements),
    },
    weightsBytes: Number(artifact.sizeBytes),
    modelRef: artifact.storageUri.startsWith('file:') ? fileURLToPath(artifact.storageUri) : repoId,
    label: `${repoId}@${artifact.revision.commitSha.slice(0, 7)} ${artifact.quantisation}`,
  };
}

export async function loadArtifactModelSource(prisma: PrismaClient | Db, artifactId: string): Promise<TModelSource> {
  const artifact = await prisma.artifact.findUnique({ where: { id: artifactId }, select: ARTIFACT_SELECT });
  if (!artifact) throw notFound('Artifact', artifactId);
  return artifactModelSource(prisma, artifact);
}

function configModelSource(model: Extract<ReturnType<typeof ZPlanInput.parse>['model'], { kind: 'config' }>): TModelSource {
  let body: unknown;
  try {
    body = JSON.parse(model.configJson);
  } catch {
    return {
      arch: null,
      archErrors: ['The pasted config.json is not valid JSON'],
      traits: {
        format: model.format,
        quantisation: model.format,
        modelType: null,
        expertDtype: null,
        repoId: model.repoId,
        requirements: {},
      },
      weightsBytes: model.weightsBytes,
      modelRef: model.modelRef,
      label: model.modelRef,
    };
  }
  const parsed = parseModelConfig(body);
  const arch = parsed.ok ? parsed.value : null;
  return {
    arch,
    archErrors: parsed.ok ? [] : parsed.errors,
    traits: {
      format: model.format,
      quantisation: model.format,
      modelType: arch?.modelType ?? null,
      expertDtype: arch?.expertDtype ?? null,
      repoId: model.repoId,
      requirements: {},
    },
    weightsBytes: model.weightsBytes,
    modelRef: model.modelRef,
    label: model.modelRef,
  };
}

export interface TClusterHardware {
  gpuModel: string | null;
  gpuCount: number;
  engine: TEngineKind;
  engineVersion: string;
  name: string;
  servedModelName: string | null;
  /** Different GPU models in one cluster: the planner uses the most common one and says so. */
  mixedModels: string[];
}

export async function clusterHardware(prisma: PrismaClient | Db, clusterId: string): Promise<TClusterHardware> {
  const cluster = await prisma.cluster.findUnique({
    where: { id: clusterId },
    select: {
      name: true,
      servingEngine: true,
      engineVersion: true,
      servedModelName: true,
      nodes: { select: { gpus: { select: { model: true } } } },
    },
  });
  if (!cluster) throw notFound('Cluster', clusterId);
  const counts = new Map<string, number>();
  for (const n of cluster.nodes) for (const g of n.gpus) counts.set(g.model, (counts.get(g.model) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return {
    name: cluster.name,
    gpuModel: ranked[0]?.[0] ?? null,
    gpuCount: ranked[0]?.[1] ?? 0,
    engine: cluster.servingEngine,
    engineVersion: cluster.engineVersion,
    servedModelName: cluster.servedModelName,
    mixedModels: ranked.length > 1 ? ranked.map(([m]) => m) : [],
  };
}

export interface TPlanResponse {
  model: { label: string; weightsBytes: number; format: TArtifactFormat; quantisation: string; arch: TModelArch | null };
  target: {
    gpuModel: string;
    gpu: TGpuSpec | null;
    gpuCount: number;
    engine: TEngineKind;
    engineVersion: string | null;
    clusterName: string | null;
  };
  compatibility: TCompatReport | null;
  plan: TFitPlan | null;
  launchCommand: string | null;
  /** Why no plan could be made: each a plain sentence. */
  errors: string[];
  warnings: string[];
}

export async function planCapacity(ctx: Pick<ServiceContext, 'prisma'>, request: TPlanRequest): Promise<TPlanResponse> {
  const input = ZPlanInput.parse(request);
  const [gpus, engines] = await Promise.all([listCatalogGpus(ctx), listCatalogEngines(ctx)]);
  const source =
    input.model.kind === 'artifact' ? await loadArtifactModelSource(ctx.prisma, input.model.artifactId) : configModelSource(input.model);

  const warnings: string[] = [];
  let gpuModel: string;
  let gpuCount: number;
  let engine: TEngineKind;
  let engineVersion: string | null;
  let clusterName: string | null = null;
  let servedModelName: string | null = null;
  if (input.target.kind === 'cluster') {
    const hw = await clusterHardware(ctx.prisma, input.target.clusterId);
    if (!hw.gpuModel)
      throw invalid(`Cluster "${hw.name}" has no GPUs in the inventory yet: plan with a GPU model and count instead`, 'target');
    if (hw.mixedModels.length > 0)
      warnings.push(`Cluster ${hw.name} mixes GPU models (${hw.mixedModels.join(', ')}); planned for the ${hw.gpuCount} ${hw.gpuModel}`);
    gpuModel = hw.gpuModel;
    gpuCount = hw.gpuCount;
    engine = input.engine ?? hw.engine;
    // The cluster's version belongs to the cluster's engine, not to another one asked about.
    engineVersion = input.engineVersion ?? (engine === hw.engine ? hw.engineVersion : null);
    clusterName = hw.name;
    servedModelName = hw.servedModelName;
  } else {
    if (!input.engine) throw invalid('Choose an engine', 'engine');
    gpuModel = input.target.gpuModel;
    gpuCount = input.target.gpuCount;
    engine = input.engine;
    engineVersion = input.engineVersion;
  }
  const gpu = matchCatalogGpu(gpus, gpuModel);
  const engineSpec = engines.find((e) => e.kind === engine) ?? null;

  const errors = [...source.archErrors];
  if (!gpu) errors.push(`Unknown GPU model "${gpuModel}": add it to the GPU catalog (Settings → Capacity catalogs) to plan for it`);

  const compatibility = gpu
    ? checkCompatibility({
        artifact: source.traits,
        gpu,
        engine: { kind: engine, version: engineVersion },
        engineSpec,
        trustRemoteCode: null,
      })
    : null;

  let plan: TFitPlan | null = null;
  let launchCommand: string | null = null;
  if (source.arch && gpu) {
    const result = planFit({
      arch: source.arch,
      weightsBytes: source.weightsBytes,
      gpu,
      gpuCount,
      engine,
      contextTokens: input.contextTokens,
      concurrency: input.concurrency,
      kvCacheDtype: input.kvCacheDtype,
      gpuMemoryUtilization: input.gpuMemoryUtilization,
      tensorParallelSize: input.tensorParallelSize,
    });
    if (result.ok) {
      plan = result.plan;
      launchCommand = buildLaunchCommand({
        engine,
        model: source.modelRef,
        servedModelName,
        plan,
        gpu,
        moe: (source.arch.numRoutedExperts ?? 0) > 0,
        fp4Experts: hasFp4Experts(source.traits),
      });
    } else {
      errors.push(...result.errors);
    }
  }

  return {
    model: {
      label: source.label,
      weightsBytes: source.weightsBytes,
      format: source.traits.format,
      quantisation: source.traits.quantisation,
      arch: source.arch,
    },
    target: { gpuModel, gpu, gpuCount, engine, engineVersion, clusterName },
    compatibility,
    plan,
    launchCommand,
    errors,
    warnings: [...warnings, ...(plan?.warnings ?? [])],
  };
}

/** Options for the planner form: artifacts (with their revision), clusters, catalog GPUs and engines. */
export async function plannerOptions(ctx: Pick<ServiceContext, 'prisma'>) {
  const [artifacts, clusters, gpus, engines] = await Promise.all([
    ctx.prisma.artifact.findMany({
      where: { status: 'ready' },
      orderBy: { createdAt: 'desc' },
      take: 200,
      select: {
        id: true,
        format: true,
        quantisation: true,
        sizeBytes: true,
        revisionId: true,
        revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
      },
    }),
    ctx.prisma.cluster.findMany({
      orderBy: { name: 'asc' },
      select: { id: true, name: true, servingEngine: true, engineVersion: true, maxContextTokens: true },
    }),
    listCatalogGpus(ctx),
    listCatalogEngines(ctx),
  ]);
  return {
    artifacts: artifacts.map((a) => ({
      id: a.id,
      revisionId: a.revisionId,
      label: `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 7)} · ${a.quantisation}`,
      format: a.format,
      sizeBytes: Number(a.sizeBytes),
    })),
    clusters,
    gpus: gpus.map((g) => ({ model: g.model, memoryMib: g.memoryMib })),
    engines: engines.map((e) => ({ kind: e.kind, label: e.label })),
  };
}

export interface TNodeKvCapacity {
  engine: TEngineKvReport;
  /** The planner's estimate for the same node, artifact, context, dtype and memory share; null with `note` when it cannot plan. */
  comparison: TKvCapacityComparison | null;
  note: string | null;
}

/**
 * The engine's own KV capacity on a node beside the planner's estimate for the same setup: the node's GPUs,
 * the artifact it serves, its max-model-len, and the cache dtype and memory share the engine reports. This is
 * how the planner is checked against real engines in the fleet, not only against published figures.
 */
export async function nodeKvCapacity(
  prisma: PrismaClient | Db,
  input: {
    nodeId: string;
    engine: TEngineKind;
    cacheConfig: Record<string, string> | null;
    servedArtifactDigest: string | null;
    maxModelLen: number | null;
  },
): Promise<TNodeKvCapacity | null> {
  const engineReport = parseEngineKvReport(input.cacheConfig);
  if (!engineReport) return null;
  const withNote = (note: string): TNodeKvCapacity => ({ engine: engineReport, comparison: null, note });
  if (!input.servedArtifactDigest) return withNote('The engine serves files Fleetplane did not deliver: no artifact to plan from');
  const [artifact, gpus, catalog] = await Promise.all([
    prisma.artifact.findFirst({ where: { digest: input.servedArtifactDigest }, select: ARTIFACT_SELECT }),
    prisma.gpu.findMany({ where: { nodeId: input.nodeId }, select: { model: true } }),
    listCatalogGpus({ prisma }),
  ]);
  if (!artifact) return withNote('The served artifact is not in the registry: no plan to compare');
  if (gpus.length === 0) return withNote('The node has reported no GPUs yet');
  const gpu = matchCatalogGpu(catalog, gpus[0]!.model);
  if (!gpu) return withNote(`GPU model "${gpus[0]!.model}" is not in the GPU catalog`);
  const source = await artifactModelSource(prisma, artifact);
  if (!source.arch) return withNote(source.archErrors[0] ?? 'The artifact has no readable architecture');
  const result = planFit({
    arch: source.arch,
    weightsBytes: source.weightsBytes,
    gpu,
    gpuCount: gpus.length,
    engine: input.engine,
    contextTokens: Math.min(input.maxModelLen ?? source.arch.maxPositionEmbeddings, source.arch.maxPositionEmbeddings),
    concurrency: 1,
    kvCacheDtype: engineReport.cacheDtype,
    gpuMemoryUtilization: engineReport.gpuMemoryUtilization,
  });
  if (!result.ok) return withNote(result.errors[0] ?? 'The planner refused this setup');
  return { engine: engineReport, comparison: compareKvCapacity(result.plan.kvCapacityTokens, engineReport), note: null };
}
