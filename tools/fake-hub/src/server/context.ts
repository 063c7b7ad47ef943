import type { IncomingMessage } from 'node:http';
import type { FaultState } from '../faults';
import type { RepoState } from '../repo-state';
import { bearerToken, HttpError, type RequestLogEntry } from './http-utils';

export interface HubContext {
  repos: Map<string, RepoState>;
  faults: FaultState;
  cdnSecret: Buffer;
  treePageSize: number;
}

export interface RequestInfo {
  req: IncomingMessage;
  url: URL;
  /** Decoded path segments, without the leading empty one. */
  segments: string[];
  origin: string;
  entry: RequestLogEntry;
}

export function findRepo(ctx: HubContext, repoId: string, req: IncomingMessage): RepoState {
  const repo = ctx.repos.get(repoId);
  // Like the Hub: without credentials a missing repo is indistinguishable from a private one (401).
  if (!repo) throw new HttpError(bearerToken(req) ? 404 : 401, `Repository Not Found for url: /api/models/${repoId}.`, 'RepoNotFound');
  return repo;
}

/**
 * Private repos need a listed token for everything. Gated repos expose metadata to everyone but
 * file contents only to granted tokens: 401 without credentials, 403 with a token that was not granted.
 */
export function checkAccess(repo: RepoState, req: IncomingMessage, kind: 'meta' | 'content'): void {
  const token = bearerToken(req);
  if (repo.isPrivate && (!token || !repo.tokens.has(token))) {
    throw new HttpError(
      401,
      `Repository Not Found for url: /api/models/${repo.id}. Please make sure you specified the correct repo id and are authenticated.`,
      'RepoNotFound',
    );
  }
  if (kind === 'content' && repo.gated) {
    if (!token) {
      throw new HttpError(
        401,
        `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        'GatedRepo',
      );
    }
    if (repo.gated === 'manual' && !repo.tokens.has(token)) {
      throw new HttpError(
        403,
        `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repo.id} to ask for access.`,
        'GatedRepo',
      );
    }
  }
}

export function resolveRevision(repo: RepoState, revision: string) {
  const commit = repo.resolve(revision);
  if (!commit) throw new HttpError(404, `Invalid rev id: ${revision}`, 'RevisionNotFound');
  return commit;
}
