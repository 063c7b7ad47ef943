import type { ServerResponse } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lfsPointer } from '../git-hash';
import type { FileSource } from '../file-source';
import { writeFileBody } from './body-writer';
import { checkAccess, findRepo, resolveRevision, type HubContext, type RequestInfo } from './context';
import { contentTypeFor, HttpError, parseRange } from './http-utils';

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function cdnSignature(ctx: HubContext, repoId: string, sha256: string, path: string): string {
  return createHmac('sha256', ctx.cdnSecret).update(`${repoId}\n${sha256}\n${path}`).digest('hex');
}

/** Serves bytes with Range support. HEAD gets the same headers and no body. */
async function serveBytes(
  ctx: HubContext,
  info: RequestInfo,
  res: ServerResponse,
  source: FileSource,
  size: number,
  filePath: string,
  headers: Record<string, string>,
): Promise<void> {
  const target = { pathname: info.url.pathname, filePath, isApi: false };
  const rangeHeader = info.req.headers.range && ctx.faults.takeIgnoreRange(target) ? undefined : info.req.headers.range;
  const range = parseRange(rangeHeader, size);
  const base = { 'Accept-Ranges': 'bytes', 'Content-Type': contentTypeFor(filePath), ...headers };
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size];
  if (range.kind === 'partial') {
    res.writeHead(206, { ...base, 'Content-Range': `bytes ${start}-${end - 1}/${size}`, 'Content-Length': end - start });
  } else {
    res.writeHead(200, { ...base, 'Content-Length': size });
  }
  if (info.req.method === 'HEAD') {
    res.end();
    return;
  }
  await writeFileBody(res, source, start, end, ctx.faults, target, info.entry);
}

/** /{owner}/{name}/resolve|raw/{revision}/{path...} */
export async function handleResolve(ctx: HubContext, info: RequestInfo, res: ServerResponse): Promise<void> {
  const [owner, name, kind, revision, ...pathParts] = info.segments;
  const filePath = pathParts.join('/');
  if (!owner || !name || !revision || !filePath) throw new HttpError(404, 'Not Found');
  if (info.req.method !== 'GET' && info.req.method !== 'HEAD') throw new HttpError(405, 'Method not allowed');
  const repo = findRepo(ctx, `${owner}/${name}`, info.req);
  checkAccess(repo, info.req, 'content');
  const commit = resolveRevision(repo, revision);
  const file = commit.files.get(filePath);
  if (!file) throw new HttpError(404, `Entry not found: ${filePath} at ${commit.id}`, 'EntryNotFound', { 'X-Repo-Commit': commit.id });

  const common = { 'X-Repo-Commit': commit.id };
  if (kind === 'raw' && file.lfs) {
    const pointer = lfsPointer(file.sha256, file.size);
    return serveBytes(ctx, info, res, { kind: 'inline', bytes: pointer }, pointer.length, filePath, { ...common, ETag: `"${file.oid}"` });
  }
  if (!file.lfs) {
    return serveBytes(ctx, info, res, file.source, file.size, filePath, { ...common, ETag: `"${file.oid}"` });
  }
  // LFS content lives on a CDN: redirect (absolute URL, like the real Hub) with the size and hash up front.
  const sig = cdnSignature(ctx, repo.id, file.sha256, filePath);
  const location = `${info.origin}/_cdn/lfs/${repo.id}/${file.sha256}/${encodePath(filePath)}?sig=${sig}`;
  const body = `Found. Redirecting to ${location}`;
  res.writeHead(302, {
    ...common,
    Location: location,
    ETag: `"${file.sha256}"`,
    'X-Linked-Etag': `"${file.sha256}"`,
    'X-Linked-Size': String(file.size),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(info.req.method === 'HEAD' ? undefined : body);
}

/** /_cdn/lfs/{owner}/{name}/{sha256}/{path...}?sig= — the signed URL is the credential, as on a real CDN. */
export async function handleCdn(ctx: HubContext, info: RequestInfo, res: ServerResponse): Promise<void> {
  const [, , owner, name, sha256, ...pathParts] = info.segments;
  const filePath = pathParts.join('/');
  if (!owner || !name || !sha256 || !filePath) throw new HttpError(404, 'Not Found');
  if (info.req.method !== 'GET' && info.req.method !== 'HEAD') throw new HttpError(405, 'Method not allowed');
  const repoId = `${owner}/${name}`;
  const expected = Buffer.from(cdnSignature(ctx, repoId, sha256, filePath));
  const given = Buffer.from(info.url.searchParams.get('sig') ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(403, 'Invalid or missing signature');
  const file = ctx.repos.get(repoId)?.fileBySha256(sha256);
  if (!file) throw new HttpError(404, 'Object not found');
  const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(filePath.split('/').pop()!)}`;
  return serveBytes(ctx, info, res, file.source, file.size, filePath, {
    ETag: `"${sha256}"`,
    'Content-Disposition': disposition,
    'Cache-Control': 'public, max-age=604800, immutable',
  });
}
