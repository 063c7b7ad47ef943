import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseSafetensorsHeader } from '../content/safetensors';
import type { StoredFile } from '../file-source';
import type { CommitRecord, RepoState } from '../repo-state';
import { checkAccess, findRepo, resolveRevision, type HubContext, type RequestInfo } from './context';
import { HttpError, readBody, sendJson, sendJsonWithEtag } from './http-utils';

function sibling(f: StoredFile, blobs: boolean) {
  if (!blobs) return { rfilename: f.path };
  return {
    rfilename: f.path,
    size: f.size,
    blobId: f.oid,
    ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: f.pointerSize } } : {}),
  };
}

function configSummary(commit: CommitRecord): Record<string, unknown> | undefined {
  const f = commit.files.get('config.json');
  if (!f || f.source.kind !== 'inline') return undefined;
  try {
    const cfg = JSON.parse(f.source.bytes.toString('utf8')) as Record<string, unknown>;
    return { architectures: cfg.architectures, model_type: cfg.model_type };
  } catch {
    return undefined;
  }
}

/** Parameter counts per dtype from the safetensors headers, like the Hub's `safetensors` field. */
function safetensorsSummary(commit: CommitRecord) {
  const parameters: Record<string, number> = {};
  let total = 0;
  for (const f of commit.files.values()) {
    if (!f.path.endsWith('.safetensors') || f.source.kind !== 'inline') continue;
    try {
      for (const t of Object.values(parseSafetensorsHeader(f.source.bytes).tensors)) {
        const n = t.shape.reduce((a, b) => a * b, 1);
        parameters[t.dtype] = (parameters[t.dtype] ?? 0) + n;
        total += n;
      }
    } catch {
      // Not a parseable safetensors file: the Hub omits it from the summary too.
    }
  }
  return total > 0 ? { parameters, total } : undefined;
}

export function modelInfoBody(repo: RepoState, commit: CommitRecord, blobs: boolean) {
  const files = [...commit.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const tags = ['transformers', 'safetensors', 'gguf'].filter((t) => t === 'transformers' || files.some((f) => f.path.endsWith(`.${t}`)));
  return {
    _id: repo.objectId,
    id: repo.id,
    modelId: repo.id,
    author: repo.owner,
    sha: commit.id,
    lastModified: commit.date,
    createdAt: repo.createdAt,
    private: repo.isPrivate,
    gated: repo.gated,
    disabled: false,
    downloads: 0,
    likes: 0,
    library_name: 'transformers',
    pipeline_tag: 'text-generation',
    tags: [...tags, 'text-generation', 'license:mit'],
    config: configSummary(commit),
    siblings: files.map((f) => sibling(f, blobs)),
    safetensors: safetensorsSummary(commit),
    usedStorage: files.reduce((n, f) => n + f.size, 0),
  };
}

function treeEntry(repo: RepoState, commit: CommitRecord, f: StoredFile, expand: boolean) {
  return {
    type: 'file',
    oid: f.oid,
    size: f.size,
    path: f.path,
    ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: f.pointerSize } } : {}),
    ...(expand ? lastCommitFields(repo, commit, f.path) : {}),
  };
}

function lastCommitFields(repo: RepoState, commit: CommitRecord, path: string) {
  const last = repo.lastCommitFor(commit.id, path) ?? commit;
  return { lastCommit: { id: last.id, title: last.title, date: last.date }, securityFileStatus: { status: 'safe' } };
}

function dirEntry(commit: CommitRecord, dir: string) {
  const oid = createHash('sha1').update(`dir:${commit.id}:${dir}`).digest('hex');
  return { type: 'directory', oid, size: 0, path: dir };
}

/** Directory paths implied by the file list (git has no empty directories). */
function directories(commit: CommitRecord): Set<string> {
  const dirs = new Set<string>();
  for (const p of commit.files.keys()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return dirs;
}

function treeListing(repo: RepoState, commit: CommitRecord, base: string, recursive: boolean, expand: boolean) {
  const dirs = directories(commit);
  if (base && !dirs.has(base)) {
    throw new HttpError(404, commit.files.has(base) ? `${base} is a file, not a directory` : `Entry not found: ${base}`, 'EntryNotFound');
  }
  const prefix = base ? `${base}/` : '';
  const under = (p: string) => p.startsWith(prefix) && (recursive || !p.slice(prefix.length).includes('/'));
  const entries: Array<Record<string, unknown> & { path: string }> = [];
  for (const d of dirs) if (under(d)) entries.push(dirEntry(commit, d));
  for (const f of commit.files.values()) if (under(f.path)) entries.push(treeEntry(repo, commit, f, expand));
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const ZPathsInfoBody = z.object({ paths: z.array(z.string()).max(10_000), expand: z.boolean().optional() });

async function pathsInfoBody(info: RequestInfo) {
  const raw = await readBody(info.req);
  const type = info.req.headers['content-type'] ?? '';
  let candidate: unknown;
  if (type.includes('application/x-www-form-urlencoded')) {
    // huggingface_hub (Python) posts a form: paths=a&paths=b&expand=True
    const form = new URLSearchParams(raw);
    candidate = { paths: form.getAll('paths'), expand: ['true', '1'].includes((form.get('expand') ?? '').toLowerCase()) };
  } else {
    try {
      candidate = JSON.parse(raw || '{}');
    } catch {
      throw new HttpError(400, 'Body must be JSON: {"paths": [...], "expand": bool}');
    }
  }
  const parsed = ZPathsInfoBody.safeParse(candidate);
  if (!parsed.success)
    throw new HttpError(400, `Invalid paths-info body: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function pageLink(info: RequestInfo, params: Record<string, string>): string {
  const next = new URL(info.url.pathname, info.origin);
  for (const [k, v] of info.url.searchParams) next.searchParams.set(k, v);
  for (const [k, v] of Object.entries(params)) next.searchParams.set(k, v);
  return `<${next.toString()}>; rel="next"`;
}

/** /api/models/{owner}/{name}[/{action}/...] */
export async function handleApi(ctx: HubContext, info: RequestInfo, res: ServerResponse): Promise<void> {
  const [, , owner, name, action, ...rest] = info.segments;
  if (!owner || !name) throw new HttpError(404, 'Not Found');
  const method = info.req.method ?? 'GET';
  const repo = findRepo(ctx, `${owner}/${name}`, info.req);
  checkAccess(repo, info.req, 'meta');
  const q = info.url.searchParams;

  if (action === undefined || action === 'revision') {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method not allowed');
    const revision = action === 'revision' ? rest.join('/') : repo.defaultBranch;
    const commit = resolveRevision(repo, revision);
    const blobs = ['true', '1'].includes(q.get('blobs') ?? '');
    return sendJsonWithEtag(info.req, res, modelInfoBody(repo, commit, blobs));
  }

  if (action === 'tree') {
    const [revision = repo.defaultBranch, ...pathParts] = rest;
    const commit = resolveRevision(repo, revision);
    const all = treeListing(repo, commit, pathParts.join('/'), q.get('recursive') === 'true', q.get('expand') === 'true');
    const cursor = Number(q.get('cursor') ? Buffer.from(q.get('cursor')!, 'base64url').toString() : 0) || 0;
    const page = all.slice(cursor, cursor + ctx.treePageSize);
    const more = cursor + ctx.treePageSize < all.length;
    const headers: Record<string, string> = more
      ? { Link: pageLink(info, { cursor: Buffer.from(String(cursor + ctx.treePageSize)).toString('base64url') }) }
      : {};
    return sendJson(res, 200, page, headers);
  }

  if (action === 'paths-info') {
    if (method !== 'POST') throw new HttpError(405, 'paths-info takes POST');
    const commit = resolveRevision(repo, rest.join('/') || repo.defaultBranch);
    const body = await pathsInfoBody(info);
    const dirs = directories(commit);
    const out: unknown[] = [];
    for (const p of body.paths) {
      const f = commit.files.get(p);
      if (f) out.push(treeEntry(repo, commit, f, body.expand ?? false));
      else if (dirs.has(p)) out.push(dirEntry(commit, p));
      // Unknown paths are left out, as on the Hub.
    }
    return sendJson(res, 200, out);
  }

  if (action === 'refs') {
    const ref =
      (kind: 'heads' | 'tags') =>
      ([name, sha]: [string, string]) => ({ name, ref: `refs/${kind}/${name}`, targetCommit: sha });
    return sendJson(res, 200, {
      branches: [...repo.branches].map(ref('heads')),
      converts: [],
      tags: [...repo.tags].map(ref('tags')),
      ...(q.get('include_prs') === '1' ? { pullRequests: [] } : {}),
    });
  }

  if (action === 'commits') {
    const commit = resolveRevision(repo, rest.join('/') || repo.defaultBranch);
    const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 50) || 50));
    const page = Math.max(0, Number(q.get('p') ?? 0) || 0);
    const history = repo.history(commit.id);
    const items = history.slice(page * limit, (page + 1) * limit).map((c) => ({
      id: c.id,
      title: c.title,
      message: c.message,
      authors: [{ user: c.author, avatar: `https://cdn-avatars.huggingface.co/v1/production/uploads/${c.author}.png` }],
      date: c.date,
    }));
    const headers: Record<string, string> =
      (page + 1) * limit < history.length ? { Link: pageLink(info, { p: String(page + 1), limit: String(limit) }) } : {};
    return sendJson(res, 200, items, { ...headers, 'X-Total-Count': String(history.length) });
  }

  throw new HttpError(404, `Unknown endpoint /api/models/${repo.id}/${action}`);
}
