import type { Db, PrismaClient } from '@fleetplane/db';
import { checkCompatibility, planFit, type TCompatReport } from '@fleetplane/domain';
import type { ServiceContext } from '../context';
import { notFound } from '../errors';
import { listCatalogEngines, listCatalogGpus, matchCatalogGpu } from './catalog.service';
import { ARTIFACT_SELECT, artifactModelSource, clusterHardware } from './planner.service';

export interface TPairVerdict {
  artifactId: string;
  artifactLabel: string;
  clusterId: string;
  clusterName: string;
  /** null when the cluster's GPU is not in the catalog (no rules can run). */
  report: TCompatReport | null;
  /** Fit of one sequence at the cluster's max context; null without an architecture or GPU. */
  fits: boolean | null;
  fitSummary: string | null;
  problem: string | null;
}

// Reads only, so it runs inside a caller's transaction as well (a proposal records the verdict it was made on).
async function verdictsFor(ctx: { prisma: PrismaClient | Db }, artifactIds: string[], clusterIds: string[]): Promise<TPairVerdict[]> {
  const [gpus, engines, artifacts] = await Promise.all([
    listCatalogGpus(ctx),
    listCatalogEngines(ctx),
    ctx.prisma.artifact.findMany({ where: { id: { in: artifactIds } }, select: ARTIFACT_SELECT }),
  ]);
  const clusters = await Promise.all(
    clusterIds.map(async (id) => ({
      id,
      hw: await clusterHardware(ctx.prisma, id),
      maxContext: (await ctx.prisma.cluster.findUnique({ where: { id }, select: { maxContextTokens: true } }))!.maxContextTokens,
    })),
  );
  const sources = await Promise.all(artifacts.map(async (a) => ({ id: a.id, source: await artifactModelSource(ctx.prisma, a) })));
  const out: TPairVerdict[] = [];
  for (const { id: artifactId, source } of sources) {
    for (const c of clusters) {
      const base = { artifactId, artifactLabel: source.label, clusterId: c.id, clusterName: c.hw.name };
      const gpu = c.hw.gpuModel ? matchCatalogGpu(gpus, c.hw.gpuModel) : null;
      if (!gpu) {
        out.push({
          ...base,
          report: null,
          fits: null,
          fitSummary: null,
          problem: c.hw.gpuModel ? `GPU "${c.hw.gpuModel}" is not in the GPU catalog` : 'The cluster has no GPUs in the inventory',
        });
        continue;
      }
      const report = checkCompatibility({
        artifact: source.traits,
        gpu,
        engine: { kind: c.hw.engine, version: c.hw.engineVersion },
        engineSpec: engines.find((e) => e.kind === c.hw.engine) ?? null,
        trustRemoteCode: null,
      });
      let fits: boolean | null = null;
      let fitSummary: string | null = null;
      if (source.arch) {
        const r = planFit({
          arch: source.arch,
          weightsBytes: source.weightsBytes,
          gpu,
          gpuCount: c.hw.gpuCount,
          engine: c.hw.engine,
          contextTokens: Math.min(c.maxContext, source.arch.maxPositionEmbeddings),
          concurrency: 1,
        });
        if (r.ok) {
          fits = r.plan.fits;
          fitSummary = r.plan.summary;
        } else fitSummary = r.errors.join('; ');
      }
      out.push({ ...base, report, fits, fitSummary, problem: source.archErrors[0] ?? null });
    }
  }
  return out;
}

/** The cluster page: is what it serves (its active deployments) compatible with its GPUs and engine? */
export async function compatibilityForCluster(ctx: Pick<ServiceContext, 'prisma'>, clusterId: string) {
  const cluster = await ctx.prisma.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw notFound('Cluster', clusterId);
  const deployments = await ctx.prisma.deployment.findMany({
    where: { clusterId, state: { in: ['active', 'rolling_out'] } },
    select: { artifactId: true },
  });
  const artifactIds = [...new Set(deployments.map((d) => d.artifactId))];
  return { verdicts: artifactIds.length === 0 ? [] : await verdictsFor(ctx, artifactIds, [clusterId]) };
}

/** The revision page: which of its artifacts can run on which cluster. */
export async function compatibilityForRevision(ctx: Pick<ServiceContext, 'prisma'>, revisionId: string) {
  const revision = await ctx.prisma.modelRevision.findUnique({
    where: { id: revisionId },
    select: { artifacts: { where: { status: { not: 'deleted' } }, select: { id: true } } },
  });
  if (!revision) throw notFound('Revision', revisionId);
  const clusters = await ctx.prisma.cluster.findMany({ orderBy: { name: 'asc' }, select: { id: true } });
  const artifactIds = revision.artifacts.map((a) => a.id);
  return {
    verdicts:
      artifactIds.length === 0 || clusters.length === 0
        ? []
        : await verdictsFor(
            ctx,
            artifactIds,
            clusters.map((c) => c.id),
          ),
  };
}

/** One (artifact, cluster) pair: what a proposal records and refuses on. */
export async function compatibilityForPair(db: PrismaClient | Db, artifactId: string, clusterId: string): Promise<TPairVerdict> {
  const [verdict] = await verdictsFor({ prisma: db }, [artifactId], [clusterId]);
  if (!verdict) throw notFound('Artifact', artifactId);
  return verdict;
}

/**
 * Why an artifact cannot run on a cluster: failed compatibility rules and a plan that does not fit. Empty
 * when it can, or when nothing can be judged (no GPU in the catalog, no architecture): unknown does not block.
 */
export async function unfitReasons(ctx: Pick<ServiceContext, 'prisma'>, artifactId: string, clusterId: string): Promise<string[]> {
  const [v] = await verdictsFor(ctx, [artifactId], [clusterId]);
  if (!v) return [];
  const reasons = (v.report?.failures ?? []).map((f) => f.reason);
  if (v.fits === false) reasons.push(`does not fit in GPU memory: ${v.fitSummary ?? 'no plan fits'}`);
  return reasons;
}
