import type { Prisma } from '@fleetplane/db';
import type { ServiceContext } from '../context';
import { notFound } from '../errors';

const LINK_SELECT = {
  id: true,
  digest: true,
  format: true,
  quantisation: true,
  sizeBytes: true,
  status: true,
  createdAt: true,
  recipeDigest: true,
  sourceArtifactId: true,
  buildInfo: true,
  producedByRunId: true,
  quantRecipe: {
    select: { id: true, name: true, version: true, digest: true, tool: true, toolVersion: true, params: true, outputFormat: true },
  },
  revision: {
    select: { id: true, commitSha: true, commitTitle: true, trackedRepo: { select: { id: true, hubRepoId: true, branch: true } } },
  },
} as const satisfies Prisma.ArtifactSelect;

type LinkRow = Prisma.ArtifactGetPayload<{ select: typeof LINK_SELECT }>;

/** Per-tensor quality as drawn on the artifact page (the stored figures, worst first). */
interface StoredQuality {
  tensors?: { name: string; elements: number; relRmse: number; snrDb: number | null; maxAbsError: number }[];
  quantisedTensors?: number;
  worstRelRmse?: number;
  worstSnrDb?: number | null;
  maxAbsError?: number;
  meanRelRmse?: number;
  external?: { command: string[]; figures: Record<string, number>; durationMs: number };
}

/**
 * "How was this built", on one page: the artifact's files and digest, and its lineage chain back to the upstream
 * revision, each link with its recipe (digest, version, tool, parameters), timings and who started it.
 */
export async function getArtifact(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const artifact = await ctx.prisma.artifact.findUnique({
    where: { id },
    select: {
      ...LINK_SELECT,
      storageUri: true,
      quality: true,
      files: { orderBy: { path: 'asc' }, select: { path: true, sizeBytes: true, sha256: true } },
    },
  });
  if (!artifact) throw notFound('Artifact', id);
  const chain: LinkRow[] = [];
  let next: string | null = artifact.sourceArtifactId;
  // The chain is short (download -> build, or -> tokenizer copy); the guard only stops a corrupt cycle.
  for (let i = 0; next && i < 10; i++) {
    const link = await ctx.prisma.artifact.findUnique({ where: { id: next }, select: LINK_SELECT });
    if (!link) break;
    chain.push(link);
    next = link.sourceArtifactId;
  }
  const userIds = [artifact, ...chain]
    .map((a) => (a.buildInfo as { startedById?: string | null } | null)?.startedById)
    .filter((x): x is string => typeof x === 'string');
  const users = userIds.length
    ? await ctx.prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true, email: true } })
    : [];
  const runs = await ctx.prisma.pipelineRun.findMany({
    where: { id: { in: [artifact, ...chain].map((a) => a.producedByRunId).filter((x): x is string => !!x) } },
    select: { id: true, trigger: true, createdAt: true, targetKey: true },
  });
  const describeLink = (a: LinkRow) => {
    const info = (a.buildInfo ?? null) as Record<string, unknown> | null;
    const startedById = typeof info?.startedById === 'string' ? info.startedById : null;
    return {
      id: a.id,
      digest: a.digest,
      format: a.format,
      quantisation: a.quantisation,
      sizeBytes: Number(a.sizeBytes),
      status: a.status,
      createdAt: a.createdAt,
      recipe: a.quantRecipe ? { ...a.quantRecipe, params: a.quantRecipe.params as Record<string, unknown> } : null,
      recipeDigest: a.recipeDigest,
      build: info,
      startedBy: startedById ? (users.find((u) => u.id === startedById) ?? null) : null,
      run: runs.find((r) => r.id === a.producedByRunId) ?? null,
      revision: a.revision,
    };
  };
  const quality = (artifact.quality ?? null) as StoredQuality | null;
  return {
    ...describeLink(artifact),
    storageUri: artifact.storageUri,
    files: artifact.files.map((f) => ({ ...f, sizeBytes: Number(f.sizeBytes) })),
    quality: quality
      ? {
          quantisedTensors: quality.quantisedTensors ?? 0,
          worstRelRmse: quality.worstRelRmse ?? null,
          worstSnrDb: quality.worstSnrDb ?? null,
          maxAbsError: quality.maxAbsError ?? null,
          meanRelRmse: quality.meanRelRmse ?? null,
          tensors: [...(quality.tensors ?? [])].sort((a, b) => b.relRmse - a.relRmse),
          external: quality.external ?? null,
        }
      : null,
    /** Nearest first: what this artifact was built from, back to the upstream download. */
    lineage: chain.map(describeLink),
  };
}
