import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';

export interface RequestLogEntry {
  at: number;
  method: string;
  /** Path and query as requested. */
  path: string;
  status: number;
  range: string | null;
  ifNoneMatch: string | null;
  authorized: boolean;
  /** Body bytes written (0 for HEAD and 304). */
  bytesSent: number;
  /** True when the fake cut the connection (dropAfterBytes) or the client went away. */
  aborted: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Hub-style error: X-Error-Code / X-Error-Message headers and a JSON body `{ error }` (hub.js reads it). */
export function sendError(res: ServerResponse, err: HttpError): void {
  const headers: Record<string, string> = { ...err.headers, 'X-Error-Message': err.message.replace(/[^\x20-\x7e]/g, '?') };
  if (err.code) headers['X-Error-Code'] = err.code;
  sendJson(res, err.status, { error: err.message }, headers);
}

/** Conditional GET for JSON: a strong ETag over the exact body, 304 on If-None-Match. */
export function sendJsonWithEtag(req: IncomingMessage, res: ServerResponse, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(text).digest('hex')}"`;
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, { ETag: etag, ...extra });
    res.end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ETag: etag,
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => strip(t) === strip(etag));
}

export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** Single-range `bytes=a-b`, `bytes=a-` and `bytes=-n`. Multiple or malformed ranges are ignored (200), as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - n);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m ? m[1]! : null;
}

export function contentTypeFor(path: string): string {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'application/json; charset=utf-8';
  if (lower.endsWith('.md')) return 'text/markdown; charset=utf-8';
  if (
    lower.endsWith('.txt') ||
    lower.endsWith('.jinja') ||
    lower === 'license' ||
    lower.endsWith('/license') ||
    lower.endsWith('.gitattributes')
  )
    return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
