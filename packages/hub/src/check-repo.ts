import { listCommits, listFiles } from '@huggingface/hub';
import { createGuardedFetch, STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import { compilePatterns } from '@fleetplane/domain/revisions/match-patterns';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import { ZCheckRepoInput, type TCheckRepoInput, type TRepoCheckResult, type TRevisionCommit } from './check-repo.schema';
import { classifyFailure, classifyThrown } from './hub-errors';
import { ZModelInfoResponse, ZTreeFileEntry } from './hub-api.schema';
import { resolveFileUrl } from './hub-url';
import { createRetryingFetch, type RetryPolicy } from './retry';

export interface CheckRepoOptions extends TCheckRepoInput {
  /** Where the Hub (and each redirect hop) may be; strict when not given. Every request goes through it. */
  network?: NetworkPolicy;
  /** Host name resolver (tests); the system resolver by default. */
  resolve?: Resolver;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Per request (default 30 s). */
  requestTimeoutMs?: number;
}

/**
 * Polls one branch of a model repo.
 *
 * - Unchanged costs one request: a conditional model-info GET (If-None-Match) that the Hub answers
 *   with 304, or a 200 whose sha equals knownSha.
 * - On a move, lists commits newest-first back to knownSha (only the head when knownSha is null) and
 *   fetches each new commit's manifest (files matching filePatterns; see matchesPatterns in domain).
 * - Gated repos expose metadata to everyone, so when the branch moved we also probe one file with the
 *   token to report 'gated' before a download would fail.
 * - Error states are returned, never thrown (invalid input still throws).
 */
export async function checkRepo(options: CheckRepoOptions): Promise<TRepoCheckResult> {
  const input = ZCheckRepoInput.parse(options);
  const { hubUrl, repoId, accessToken } = input;
  const guarded = createGuardedFetch({
    policy: options.network ?? STRICT_NETWORK_POLICY,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const hubFetch = createRetryingFetch({
    fetch: guarded,
    policy: options.retry,
    signal: options.signal,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
  });
  const auth: Record<string, string> = accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
  const knownSha = input.knownSha ?? null;

  try {
    const infoUrl = `${hubUrl}/api/models/${repoId}/revision/${encodeURIComponent(input.branch)}`;
    const conditional: Record<string, string> = knownSha && input.etag ? { 'If-None-Match': input.etag } : {};
    const res = await hubFetch(infoUrl, { headers: { Accept: 'application/json', ...auth, ...conditional } });
    if (res.status === 304) return { status: 'unchanged', etag: input.etag ?? null };
    if (!res.ok) return classifyFailure(hubFetch.lastFailure!, repoId);
    const etag = res.headers.get('etag');
    const parsed = ZModelInfoResponse.safeParse(await res.json());
    if (!parsed.success)
      return {
        status: 'error',
        message: `Unexpected model info from the Hub for ${repoId}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      };
    const info = parsed.data;
    if (info.sha === knownSha) return { status: 'unchanged', etag };

    const common = { repo: repoId, hubUrl, accessToken, fetch: hubFetch };
    const newCommits: Array<{ sha: string; title: string; date: string }> = [];
    let knownShaFound = knownSha === null;
    if (knownSha === null) {
      // First sight of this repo: the head is the only revision we care about.
      for await (const c of listCommits({ ...common, revision: info.sha, batchSize: 1 })) {
        newCommits.push({ sha: c.oid, title: c.title, date: c.date.toISOString() });
        break;
      }
    } else {
      for await (const c of listCommits({ ...common, revision: info.sha, batchSize: Math.min(100, input.maxCommits + 1) })) {
        if (c.oid === knownSha) {
          knownShaFound = true;
          break;
        }
        newCommits.push({ sha: c.oid, title: c.title, date: c.date.toISOString() });
        if (newCommits.length >= input.maxCommits) break;
      }
    }
    if (newCommits.length === 0) return { status: 'error', message: `${repoId}: the Hub listed no commits for ${info.sha}` };

    const matches = compilePatterns(input.filePatterns);
    const commits: TRevisionCommit[] = [];
    let anyPath: string | null = null;
    for (const c of newCommits.reverse()) {
      const files: TManifestFile[] = [];
      for await (const entry of listFiles({ ...common, revision: c.sha, recursive: true })) {
        if (entry.type !== 'file') continue;
        anyPath ??= entry.path;
        if (!matches(entry.path)) continue;
        const e = ZTreeFileEntry.parse(entry);
        files.push({ path: e.path, sizeBytes: e.size, sha256: e.lfs?.oid ?? null, gitOid: e.oid, lfs: e.lfs !== undefined });
      }
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      commits.push({ sha: c.sha, title: c.title, date: c.date, files });
    }

    if (info.gated && anyPath) {
      const probe = await hubFetch(resolveFileUrl(hubUrl, repoId, info.sha, anyPath), {
        method: 'HEAD',
        headers: auth,
        redirect: 'manual',
      });
      if (probe.status === 401 || probe.status === 403) return classifyFailure(hubFetch.lastFailure!, repoId);
    }

    return { status: 'changed', headSha: info.sha, etag, lastModified: info.lastModified ?? null, commits, knownShaFound };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    return classifyThrown(err, repoId, hubFetch.lastFailure);
  }
}
