import {
  checkRepoJob,
  ZCreateTrackedRepoInput,
  ZUpdateTrackedRepoInput,
  type TAccessTokenInput,
  type TCreateTrackedRepoInput,
  type TUpdateTrackedRepoInput,
} from '@fleetplane/contracts';
import type { Db, TrackedRepo } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, isUniqueViolation, notFound, precondition } from '../errors';
import { encryptToken } from '../shared/token-crypto';
import { upstreamSettingsFromEnv, type UpstreamSettings } from '../shared/upstream-settings';
import { countOf } from '@fleetplane/domain';

const autoStartTargetsInclude = {
  autoStartTargets: { select: { cluster: { select: { id: true, name: true } } }, orderBy: { cluster: { name: 'asc' } } },
} as const;
type RepoRow = TrackedRepo & {
  family?: { id: string; slug: string; name: string };
  autoStartTargets: { cluster: { id: string; name: string } }[];
};

/** The public shape of a tracked repo: the token itself never leaves the service layer. */
export function toRepoView(r: RepoRow) {
  return {
    id: r.id,
    familyId: r.familyId,
    family: r.family ?? null,
    hubRepoId: r.hubRepoId,
    branch: r.branch,
    filePatterns: r.filePatterns,
    hubEndpoint: r.hubEndpoint,
    hasAccessToken: r.accessTokenEncrypted !== null || r.accessTokenSecretRef !== null,
    accessTokenSecretRef: r.accessTokenSecretRef,
    autoStartPipelines: r.autoStartPipelines,
    autoStartClusters: r.autoStartTargets.map((t) => t.cluster),
    status: r.status,
    statusMessage: r.statusMessage,
    lastCheckedAt: r.lastCheckedAt,
    lastSeenSha: r.lastSeenSha,
    nextCheckAfter: r.nextCheckAfter,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
export type TrackedRepoView = ReturnType<typeof toRepoView>;

const familySelect = { select: { id: true, slug: true, name: true } } as const;
const repoInclude = { family: familySelect, ...autoStartTargetsInclude } as const;

export async function listModelFamilies(ctx: Pick<ServiceContext, 'prisma'>) {
  const families = await ctx.prisma.modelFamily.findMany({
    orderBy: { name: 'asc' },
    include: { _count: { select: { trackedRepos: true } } },
  });
  return families.map((f) => ({
    id: f.id,
    slug: f.slug,
    name: f.name,
    totalParamsB: f.totalParamsB,
    activeParamsB: f.activeParamsB,
    contextLength: f.contextLength,
    licence: f.licence,
    trackedRepoCount: f._count.trackedRepos,
  }));
}

export async function listTrackedRepos(ctx: Pick<ServiceContext, 'prisma'>) {
  const repos = await ctx.prisma.trackedRepo.findMany({ orderBy: [{ hubRepoId: 'asc' }, { branch: 'asc' }], include: repoInclude });
  const counts = await ctx.prisma.modelRevision.groupBy({ by: ['trackedRepoId'], _count: { _all: true } });
  const byRepo = new Map(counts.map((c) => [c.trackedRepoId, c._count._all]));
  return repos.map((r) => ({ ...toRepoView(r), revisionCount: byRepo.get(r.id) ?? 0 }));
}

export async function getTrackedRepo(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const r = await ctx.prisma.trackedRepo.findUnique({ where: { id }, include: repoInclude });
  if (!r) throw notFound('Tracked repo', id);
  return toRepoView(r);
}

function tokenColumns(token: TAccessTokenInput, repoId: string, settings: UpstreamSettings) {
  switch (token.kind) {
    case 'keep':
      return {};
    case 'none':
      return { accessTokenEncrypted: null, accessTokenSecretRef: null };
    case 'secret_ref':
      return { accessTokenEncrypted: null, accessTokenSecretRef: token.envVar };
    case 'token':
      if (!settings.secretKey)
        throw precondition(
          'FLEETPLANE_SECRET_KEY is not set, so tokens cannot be stored; use a secret reference (environment variable name) instead',
        );
      return { accessTokenEncrypted: encryptToken(settings.secretKey, token.token, repoId), accessTokenSecretRef: null };
  }
}

function duplicate(e: unknown, hubRepoId: string, branch: string) {
  if (isUniqueViolation(e)) return conflict(`${hubRepoId}@${branch} is already tracked`, 'hubRepoId');
  return e;
}

async function requireFamily(tx: Db, familyId: string) {
  if (!(await tx.modelFamily.findUnique({ where: { id: familyId } }))) throw invalid('Choose an existing model family', 'familyId');
}

/**
 * Replaces the repo's auto-start clusters (inside the caller's transaction); unknown ids are refused.
 * Without auto-start none are kept, so they never block deleting a cluster for a policy that is off.
 */
async function setAutoStartClusters(tx: Db, trackedRepoId: string, autoStart: boolean, requested: string[]) {
  const clusterIds = autoStart ? requested : [];
  const found = await tx.cluster.count({ where: { id: { in: clusterIds } } });
  if (found !== clusterIds.length) throw invalid('Choose existing clusters', 'autoStartClusterIds');
  await tx.trackedRepoAutoStartTarget.deleteMany({ where: { trackedRepoId } });
  if (clusterIds.length)
    await tx.trackedRepoAutoStartTarget.createMany({ data: clusterIds.map((clusterId) => ({ trackedRepoId, clusterId })) });
}

export async function createTrackedRepo(
  ctx: ServiceContext,
  input: TCreateTrackedRepoInput,
  settings: UpstreamSettings = upstreamSettingsFromEnv(),
) {
  const data = ZCreateTrackedRepoInput.parse(input);
  if (data.accessToken.kind === 'keep') throw invalid('A new repo has no token to keep', 'accessToken');
  try {
    const created = await withAudit(ctx, async (tx, audit) => {
      await requireFamily(tx, data.familyId);
      const { accessToken, autoStartClusterIds, ...fields } = data;
      const repo = await tx.trackedRepo.create({ data: { ...fields, status: 'pending' } });
      await setAutoStartClusters(tx, repo.id, fields.autoStartPipelines, autoStartClusterIds);
      // The id is the AAD of the ciphertext, so the token is written once the id exists.
      const withToken = await tx.trackedRepo.update({
        where: { id: repo.id },
        data: tokenColumns(accessToken, repo.id, settings),
        include: autoStartTargetsInclude,
      });
      const view = toRepoView(withToken);
      await audit({ action: 'tracked_repo.create', targetType: 'tracked_repo', targetId: repo.id, after: view });
      return view;
    });
    await enqueueRepoCheck(ctx.producer, created.id, 'manual').catch(() => undefined);
    return created;
  } catch (e) {
    throw duplicate(e, data.hubRepoId, data.branch);
  }
}

function effectiveHubUrl(hubEndpoint: string | null | undefined, settings: UpstreamSettings): string {
  return (hubEndpoint ?? settings.defaultHubUrl).replace(/\/+$/, '');
}

export async function updateTrackedRepo(
  ctx: ServiceContext,
  input: TUpdateTrackedRepoInput,
  settings: UpstreamSettings = upstreamSettingsFromEnv(),
) {
  const { id, data } = ZUpdateTrackedRepoInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const before = await tx.trackedRepo.findUnique({ where: { id }, include: autoStartTargetsInclude });
      if (!before) throw notFound('Tracked repo', id);
      await requireFamily(tx, data.familyId);
      const { accessToken, autoStartClusterIds, ...fields } = data;
      await setAutoStartClusters(tx, id, fields.autoStartPipelines, autoStartClusterIds);
      const moved = before.hubRepoId !== fields.hubRepoId || before.branch !== fields.branch || before.hubEndpoint !== fields.hubEndpoint;
      // A stored token never follows the repo to another Hub: a new Hub URL without a new token in the
      // same change drops the stored one, so nobody can point it at a server of their own.
      const hadToken = before.accessTokenEncrypted !== null || before.accessTokenSecretRef !== null;
      const accessTokenDropped =
        hadToken &&
        accessToken.kind === 'keep' &&
        effectiveHubUrl(before.hubEndpoint, settings) !== effectiveHubUrl(fields.hubEndpoint, settings);
      const after = await tx.trackedRepo.update({
        where: { id },
        data: {
          ...fields,
          ...(accessTokenDropped ? { accessTokenEncrypted: null, accessTokenSecretRef: null } : tokenColumns(accessToken, id, settings)),
          // Another repo or branch is another history: the next check starts from its head.
          ...(moved ? { lastSeenSha: null, lastEtag: null, status: 'pending' as const, statusMessage: null, nextCheckAfter: null } : {}),
        },
        include: autoStartTargetsInclude,
      });
      const view = toRepoView(after);
      await audit({
        action: 'tracked_repo.update',
        targetType: 'tracked_repo',
        targetId: id,
        before: toRepoView(before),
        after: { ...view, ...(accessTokenDropped ? { accessTokenDropped } : {}) },
      });
      return { ...view, accessTokenDropped };
    });
  } catch (e) {
    throw duplicate(e, data.hubRepoId, data.branch);
  }
}

export async function deleteTrackedRepo(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.trackedRepo.findUnique({ where: { id }, include: autoStartTargetsInclude });
    if (!before) throw notFound('Tracked repo', id);
    // Artifacts are kept on purpose (deployments may use them); their revisions block the delete.
    const artifacts = await tx.artifact.count({ where: { revision: { trackedRepoId: id } } });
    if (artifacts > 0)
      throw precondition(`${before.hubRepoId} has ${countOf(artifacts, 'artifact')}; delete them before untracking the repo`);
    await tx.trackedRepo.delete({ where: { id } });
    await audit({ action: 'tracked_repo.delete', targetType: 'tracked_repo', targetId: id, before: toRepoView(before) });
    return { id };
  });
}

/**
 * Enqueues a check. While one is waiting for this repo, another add is a no-op (same job id); finished
 * jobs are removed at once so the next check is never swallowed by the deduplication.
 */
export async function enqueueRepoCheck(
  producer: JobProducer | undefined,
  trackedRepoId: string,
  reason: 'schedule' | 'manual' | 'webhook',
) {
  if (!producer) throw precondition('The job queue is not available');
  await producer.enqueue(checkRepoJob, { trackedRepoId, reason }, { removeOnComplete: true, removeOnFail: true });
}

export async function checkTrackedRepoNow(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const repo = await tx.trackedRepo.findUnique({ where: { id } });
    if (!repo) throw notFound('Tracked repo', id);
    // A manual check overrides a rate-limit backoff only for this one request.
    await enqueueRepoCheck(ctx.producer, id, 'manual');
    await audit({ action: 'tracked_repo.check_now', targetType: 'tracked_repo', targetId: id });
    return { id, enqueued: true };
  });
}
