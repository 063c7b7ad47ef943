import { findNetworkPolicyError } from '@fleetplane/net';
import type { TRepoCheckResult } from './check-repo.schema';
import { isNetworkError, type FetchFailure } from './retry';

type ErrorResult = Extract<TRepoCheckResult, { message: string }>;

/** Maps a failed Hub response to a watcher state, using X-Error-Code where the status is ambiguous. */
export function classifyFailure(f: FetchFailure, repoId: string): ErrorResult {
  const detail = f.message ? `: ${f.message}` : '';
  if (f.errorCode === 'GatedRepo') {
    return {
      status: 'gated',
      httpStatus: f.status,
      message: `${repoId} is gated and this token has not been granted access (HTTP ${f.status})${detail}`,
    };
  }
  if (f.status === 401) {
    // The Hub answers 401 RepoNotFound for private repos without a valid token and for unknown repos alike.
    return {
      status: 'unauthorized',
      httpStatus: 401,
      message: `${repoId} is private or does not exist; check the access token (HTTP 401)${detail}`,
    };
  }
  if (f.status === 403) return { status: 'unauthorized', httpStatus: 403, message: `The token may not read ${repoId} (HTTP 403)${detail}` };
  if (f.status === 404) {
    const what = f.errorCode === 'RevisionNotFound' ? 'branch or revision' : f.errorCode === 'EntryNotFound' ? 'file' : 'repository';
    return {
      status: 'not_found',
      httpStatus: 404,
      message: `${repoId}: ${what} not found (HTTP 404${f.errorCode ? ` ${f.errorCode}` : ''})${detail}`,
    };
  }
  if (f.status === 429) {
    return {
      status: 'rate_limited',
      httpStatus: 429,
      message: `Rate limited by the Hub while checking ${repoId}${f.retryAfterSeconds !== null ? `; retry after ${f.retryAfterSeconds}s` : ''}`,
      ...(f.retryAfterSeconds !== null ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
    };
  }
  if (f.status >= 500)
    return {
      status: 'unreachable',
      httpStatus: f.status,
      message: `The Hub answered HTTP ${f.status} for ${repoId} after retries${detail}`,
    };
  return { status: 'error', httpStatus: f.status, message: `Unexpected HTTP ${f.status} from the Hub for ${repoId}${detail}` };
}

export function classifyThrown(err: unknown, repoId: string, lastFailure: FetchFailure | null): ErrorResult {
  // Refused before anything was sent: say so, and nothing about what (if anything) answers there.
  const refused = findNetworkPolicyError(err);
  if (refused) return { status: 'refused', message: `${repoId}: ${refused.message}` };
  if (lastFailure) return classifyFailure(lastFailure, repoId);
  const message = err instanceof Error ? err.message : String(err);
  if (isNetworkError(err)) return { status: 'unreachable', message: `Could not reach the Hub for ${repoId}: ${message}` };
  return { status: 'error', message: `Checking ${repoId} failed: ${message}` };
}
