import { checkRepo, type RetryPolicy, type TRevisionCommit } from '@fleetplane/hub';
import type { NetworkPolicy } from '@fleetplane/net';
import { classifyChange, diffManifests } from '@fleetplane/domain/revisions/manifest-diff';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import type { TRevisionDiff } from '@fleetplane/contracts';
import type { Db, ModelRevision, PrismaClient, RevisionChangeClass, RevisionFile } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import { loadNetworkPolicy } from '../network/network-policy.service';
import { dispatchOutbox } from '../outbox/outbox.service';
import { createRunInTx } from '../pipelines/pipeline-runs.service';
import { enqueueRepoCheck } from './tracked-repos.service';
import { resolveRepoAccess, upstreamSettingsFromEnv, type UpstreamSettings } from '../shared/upstream-settings';
import { lockKey } from '../shared/locks.sql';

export interface RepoCheckDeps {
  prisma: PrismaClient;
  producer?: JobProducer;
  settings?: UpstreamSettings;
  /** The outgoing-request policy; read from the admin setting and the configuration when absent. */
  network?: NetworkPolicy;
  retry?: Partial<RetryPolicy>;
  now?: () => Date;
}

export type RepoCheckOutcome =
  | { status: 'missing' }
  | { status: 'deferred'; until: Date }
  | { status: 'unchanged' }
  | { status: 'changed'; newRevisionIds: string[]; startedRunIds: string[] }
  | { status: 'unauthorized' | 'gated' | 'not_found' | 'rate_limited' | 'unreachable' | 'refused' | 'error'; message: string };

// When the Hub asks for no Retry-After, back off this long after a 429 anyway.
const DEFAULT_RATE_LIMIT_BACKOFF_S = 60;

function toManifest(f: { path: string; sizeBytes: bigint; sha256: string | null; gitOid: string | null }): TManifestFile {
  return { path: f.path, sizeBytes: Number(f.sizeBytes), sha256: f.sha256, gitOid: f.gitOid ?? '0'.repeat(40), lfs: f.sha256 !== null };
}

/** Revisions that do not change what the model computes are not worth an automatic pipeline run. */
const AUTO_START_CLASSES: RevisionChangeClass[] = ['initial', 'weights', 'tokenizer_template'];

/**
 * Polls one tracked repo and records what changed. Every new commit becomes exactly one model_revision
 * (with its files, diff and classification against the previous one), written in one transaction with
 * the repo's new lastSeenSha and status. Hub problems become the repo's status, never an exception.
 */
export async function runRepoCheck(deps: RepoCheckDeps, trackedRepoId: string, opts: { force?: boolean } = {}): Promise<RepoCheckOutcome> {
  const { prisma } = deps;
  const settings = deps.settings ?? upstreamSettingsFromEnv();
  const now = deps.now ?? (() => new Date());
  const repo = await prisma.trackedRepo.findUnique({ where: { id: trackedRepoId } });
  if (!repo) return { status: 'missing' };
  if (!opts.force && repo.nextCheckAfter && repo.nextCheckAfter > now()) return { status: 'deferred', until: repo.nextCheckAfter };

  const access = resolveRepoAccess(repo, settings);
  if (access.problem) {
    await prisma.trackedRepo.update({
      where: { id: repo.id },
      data: { status: 'unauthorized', statusMessage: access.problem, lastCheckedAt: now() },
    });
    return { status: 'unauthorized', message: access.problem };
  }

  const result = await checkRepo({
    hubUrl: access.hubUrl,
    repoId: repo.hubRepoId,
    branch: repo.branch,
    accessToken: access.accessToken,
    knownSha: repo.lastSeenSha,
    // Only valid together with the sha it was answered for.
    etag: repo.lastSeenSha ? repo.lastEtag : null,
    filePatterns: repo.filePatterns,
    network: deps.network ?? (await loadNetworkPolicy(prisma)),
    retry: deps.retry,
  });

  if (result.status === 'unchanged') {
    await prisma.trackedRepo.update({
      where: { id: repo.id },
      data: { status: 'ok', statusMessage: null, lastCheckedAt: now(), nextCheckAfter: null, lastEtag: result.etag },
    });
    return { status: 'unchanged' };
  }
  if (result.status !== 'changed') {
    const backoffS = result.status === 'rate_limited' ? (result.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_BACKOFF_S) : 0;
    await prisma.trackedRepo.update({
      where: { id: repo.id },
      data: {
        status: result.status,
        statusMessage: result.message,
        lastCheckedAt: now(),
        nextCheckAfter: backoffS > 0 ? new Date(now().getTime() + backoffS * 1000) : null,
      },
    });
    return { status: result.status, message: result.message };
  }

  // Without the known sha in the history (force-push, seeded data, cut history) the intermediate
  // commits cannot be ordered against what we have: record the head only.
  const commits = result.knownShaFound ? result.commits : result.commits.slice(-1);
  const outcome = await prisma.$transaction(async (tx) => {
    // Serialises concurrent checks of the same repo (schedule + webhook) so each sha is recorded once.
    await lockKey(tx, `tracked-repo:${repo.id}`);
    const newRevisionIds: string[] = [];
    let newest: { id: string; changeClass: RevisionChangeClass } | null = null;
    let previous = await tx.modelRevision.findFirst({
      where: { trackedRepoId: repo.id },
      orderBy: [{ detectedAt: 'desc' }, { id: 'desc' }],
      include: { files: true },
    });
    // now() is constant inside a transaction; explicit, increasing times keep the lineage ordered.
    let detectedAt = Math.max(now().getTime(), (previous?.detectedAt.getTime() ?? 0) + 1);
    for (const commit of commits) {
      const rev = await recordRevision(tx, repo.id, commit, previous, new Date(detectedAt++), !result.knownShaFound);
      previous = rev.revision;
      if (rev.created) {
        newRevisionIds.push(rev.revision.id);
        newest = rev.revision;
      }
    }
    await tx.trackedRepo.update({
      where: { id: repo.id },
      data: {
        lastSeenSha: result.headSha,
        lastEtag: result.etag,
        status: 'ok',
        statusMessage: null,
        lastCheckedAt: now(),
        nextCheckAfter: null,
      },
    });
    const startedRunIds: string[] = [];
    if (repo.autoStartPipelines && newest && AUTO_START_CLASSES.includes(newest.changeClass)) {
      // One run per auto-start cluster (its artifact store and download limits), else the default target.
      const clusters = await tx.trackedRepoAutoStartTarget.findMany({
        where: { trackedRepoId: repo.id },
        select: { clusterId: true },
        orderBy: { clusterId: 'asc' },
      });
      const targetKeys = clusters.length ? clusters.map((c) => c.clusterId) : ['default'];
      for (const targetKey of targetKeys) {
        startedRunIds.push((await createRunInTx(tx, { revisionId: newest.id, targetKey, trigger: 'auto', triggeredById: null })).run.id);
      }
    }
    return { newRevisionIds, startedRunIds };
  });
  if (outcome.startedRunIds.length && deps.producer) await dispatchOutbox(prisma, deps.producer).catch(() => undefined);
  return { status: 'changed', ...outcome };
}

type RevisionWithFiles = ModelRevision & { files: RevisionFile[] };

async function recordRevision(
  tx: Db,
  trackedRepoId: string,
  commit: TRevisionCommit,
  previous: RevisionWithFiles | null,
  detectedAt: Date,
  previousNotInHistory: boolean,
) {
  const existing = await tx.modelRevision.findUnique({
    where: { trackedRepoId_commitSha: { trackedRepoId, commitSha: commit.sha } },
    include: { files: true },
  });
  if (existing) return { revision: existing, created: false };
  const totalBytes = commit.files.reduce((n, f) => n + f.sizeBytes, 0);
  let changeClass: RevisionChangeClass = 'initial';
  let diff: TRevisionDiff = { added: commit.files.map((f) => f.path), removed: [], changed: [] };
  let bytesToFetch = totalBytes;
  if (previous) {
    const d = diffManifests(previous.files.map(toManifest), commit.files);
    changeClass = classifyChange(d);
    diff = {
      added: d.added.map((f) => f.path),
      removed: d.removed.map((f) => f.path),
      changed: d.changed.map((c) => c.path),
      ...(previousNotInHistory ? { previousNotInHistory: true } : {}),
    };
    bytesToFetch = d.bytesToFetch;
  }
  const created = await tx.modelRevision.create({
    data: {
      trackedRepoId,
      commitSha: commit.sha,
      commitTitle: commit.title.slice(0, 500),
      committedAt: Number.isNaN(Date.parse(commit.date)) ? null : new Date(commit.date),
      previousRevisionId: previous?.id ?? null,
      changeClass,
      diff,
      bytesToFetch: BigInt(bytesToFetch),
      totalBytes: BigInt(totalBytes),
      detectedAt,
      files: {
        createMany: {
          data: commit.files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.sizeBytes), sha256: f.sha256, gitOid: f.gitOid })),
        },
      },
    },
    include: { files: true },
  });
  return { revision: created, created: true };
}

/** The repeatable tick: one check job per repo whose backoff has passed. */
export async function scheduleRepoChecks(deps: { prisma: PrismaClient; producer: JobProducer; now?: () => Date }) {
  const now = deps.now?.() ?? new Date();
  const repos = await deps.prisma.trackedRepo.findMany({
    where: { OR: [{ nextCheckAfter: null }, { nextCheckAfter: { lte: now } }] },
    select: { id: true },
  });
  for (const r of repos) await enqueueRepoCheck(deps.producer, r.id, 'schedule');
  return { enqueued: repos.length };
}
