import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { guardedConnection, type GuardOptions } from './guarded-connect';

/**
 * A `fetch` for outgoing requests under the network policy, for code that speaks fetch
 * (@huggingface/hub, alert webhooks). It runs on node:http(s) with the policy's lookup, so the
 * address checked is the address connected to, and it follows redirects itself: every hop is a new
 * connection checked again, and Authorization (and Cookie) are dropped as soon as a hop leaves the
 * origin the caller asked for, whatever the redirect status.
 */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 204, 205, 304]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

export interface GuardedFetchOptions extends GuardOptions {
  /** Redirect hops followed before failing (default 10, as browsers do 20). */
  maxRedirects?: number;
}

export type GuardedFetch = typeof fetch;

function toHeaderRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

async function bodyBytes(body: BodyInit | null | undefined): Promise<Buffer | null> {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Blob, FormData, URLSearchParams, streams: let the WHATWG Request serialise them.
  return Buffer.from(await new Request('http://localhost/', { method: 'POST', body, duplex: 'half' } as RequestInit).arrayBuffer());
}

function decoded(res: http.IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').toString().trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(zlib.createGunzip());
  if (encoding === 'deflate') return res.pipe(zlib.createInflate());
  if (encoding === 'br') return res.pipe(zlib.createBrotliDecompress());
  return res;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const maxRedirects = options.maxRedirects ?? 10;

  const once = (url: URL, method: string, headers: Record<string, string>, body: Buffer | null, signal: AbortSignal | undefined) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      let conn: ReturnType<typeof guardedConnection>;
      try {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`Unsupported protocol in ${url.href}`);
        conn = guardedConnection(url, options);
      } catch (err) {
        reject(err);
        return;
      }
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const req = (url.protocol === 'https:' ? https : http).request(
        {
          protocol: url.protocol,
          host: conn.host,
          port: conn.port,
          // SNI carries names only (an IP literal there is refused by TLS and warned about by Node).
          ...(isIP(conn.host) ? {} : { servername: conn.host }),
          lookup: conn.lookup,
          method,
          path: `${url.pathname}${url.search}`,
          headers: { ...headers, host: url.host },
          // No shared keep-alive pool: a pooled socket would skip the lookup of the next request.
          agent: false,
          signal,
        },
        resolve,
      );
      req.once('error', (err) => reject(signal?.aborted ? abortReason(signal) : err));
      req.end(body ?? undefined);
    });

  return (async (input: Parameters<typeof fetch>[0], init: RequestInit = {}) => {
    const request = input instanceof Request ? input : null;
    let url = new URL(request ? request.url : input instanceof URL ? input.href : String(input));
    const origin = url.origin;
    let method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = toHeaderRecord(init.headers ?? request?.headers);
    headers['accept-encoding'] ??= 'gzip, deflate, br';
    let body = await bodyBytes(init.body ?? (request && request.body ? await request.arrayBuffer() : null));
    const signal = init.signal ?? request?.signal ?? undefined;
    const redirectMode = init.redirect ?? request?.redirect ?? 'follow';

    for (let hop = 0; ; hop++) {
      if (body) headers['content-length'] = String(body.length);
      else delete headers['content-length'];
      const res = await once(url, method, headers, body, signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location && redirectMode !== 'manual') {
        res.resume();
        if (redirectMode === 'error') throw new TypeError(`fetch failed: redirect to ${location} refused (redirect: "error")`);
        if (hop >= maxRedirects) throw new TypeError(`fetch failed: more than ${maxRedirects} redirects from ${origin}`);
        const next = new URL(location, url);
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          if (method !== 'HEAD') method = 'GET';
          body = null;
          delete headers['content-type'];
        }
        if (next.origin !== origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
        url = next;
        continue;
      }
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(key, v);
      }
      const hasBody = !NULL_BODY.has(status) && method !== 'HEAD';
      let stream: ReadableStream<Uint8Array> | null = null;
      if (hasBody) {
        const source = decoded(res);
        if (source !== res) {
          responseHeaders.delete('content-encoding');
          responseHeaders.delete('content-length');
          res.once('error', (err) => source.destroy(err));
        }
        signal?.addEventListener('abort', () => res.destroy(abortReason(signal) as Error), { once: true });
        stream = Readable.toWeb(source) as ReadableStream<Uint8Array>;
      } else res.resume();
      const response = new Response(stream, {
        status: status < 200 || status > 599 ? 500 : status,
        statusText: res.statusMessage ?? '',
        headers: responseHeaders,
      });
      Object.defineProperty(response, 'url', { value: url.href });
      Object.defineProperty(response, 'redirected', { value: hop > 0 });
      return response;
    }
  }) as GuardedFetch;
}
