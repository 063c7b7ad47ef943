import { ZRevisionDiff, ZRevisionListInput, type TRevisionDiff, type TRevisionListInput } from '@fleetplane/contracts';
import type { ServiceContext } from '../context';
import { notFound } from '../errors';

const EMPTY_DIFF: TRevisionDiff = { added: [], removed: [], changed: [] };

export async function listRevisions(ctx: Pick<ServiceContext, 'prisma'>, input: TRevisionListInput) {
  const q = ZRevisionListInput.parse(input);
  const where = {
    ...(q.trackedRepoId ? { trackedRepoId: q.trackedRepoId } : {}),
    ...(q.search
      ? {
          OR: [
            { commitSha: { startsWith: q.search.toLowerCase() } },
            { commitTitle: { contains: q.search, mode: 'insensitive' as const } },
          ],
        }
      : {}),
  };
  const [rows, total] = await Promise.all([
    ctx.prisma.modelRevision.findMany({
      where,
      orderBy: [{ [q.sortBy]: q.sortDir }, { id: q.sortDir }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      include: {
        trackedRepo: { select: { id: true, hubRepoId: true, branch: true } },
        pipelineRuns: { select: { id: true, state: true, targetKey: true }, orderBy: { createdAt: 'desc' } },
        _count: { select: { files: true } },
      },
    }),
    ctx.prisma.modelRevision.count({ where }),
  ]);
  const items = rows.map((r) => {
    const diff = ZRevisionDiff.safeParse(r.diff);
    const d = diff.success ? diff.data : EMPTY_DIFF;
    return {
      id: r.id,
      trackedRepo: r.trackedRepo,
      commitSha: r.commitSha,
      commitTitle: r.commitTitle,
      committedAt: r.committedAt,
      detectedAt: r.detectedAt,
      changeClass: r.changeClass,
      diff: d,
      counts: { added: d.added.length, removed: d.removed.length, changed: d.changed.length },
      bytesToFetch: Number(r.bytesToFetch),
      totalBytes: Number(r.totalBytes),
      fileCount: r._count.files,
      runs: r.pipelineRuns,
    };
  });
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function getRevision(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const r = await ctx.prisma.modelRevision.findUnique({
    where: { id },
    include: {
      trackedRepo: { select: { id: true, hubRepoId: true, branch: true, family: { select: { id: true, name: true } } } },
      files: { orderBy: { path: 'asc' } },
      previousRevision: { select: { id: true, commitSha: true, commitTitle: true } },
      pipelineRuns: { select: { id: true, state: true, targetKey: true, createdAt: true }, orderBy: { createdAt: 'desc' } },
      artifacts: { select: { id: true, format: true, quantisation: true, digest: true, sizeBytes: true, status: true } },
    },
  });
  if (!r) throw notFound('Revision', id);
  const diff = ZRevisionDiff.safeParse(r.diff);
  return {
    id: r.id,
    trackedRepo: r.trackedRepo,
    commitSha: r.commitSha,
    commitTitle: r.commitTitle,
    committedAt: r.committedAt,
    detectedAt: r.detectedAt,
    changeClass: r.changeClass,
    diff: diff.success ? diff.data : EMPTY_DIFF,
    bytesToFetch: Number(r.bytesToFetch),
    totalBytes: Number(r.totalBytes),
    previousRevision: r.previousRevision,
    files: r.files.map((f) => ({ path: f.path, sizeBytes: Number(f.sizeBytes), sha256: f.sha256, gitOid: f.gitOid })),
    runs: r.pipelineRuns,
    artifacts: r.artifacts.map((a) => ({ ...a, sizeBytes: Number(a.sizeBytes) })),
  };
}
