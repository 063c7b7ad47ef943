import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { guardedConnection, type GuardOptions } from '@fleetplane/net';
import { writeBodyToFile, type BodySinkOptions } from './body-sink';
import { rawGet, type RawHead } from './raw-http';

export interface TransportResponse {
  status: number;
  url: string;
  header(name: string): string | null;
  /** Streams the body into a file, hashing each chunk in `onChunk` (see writeBodyToFile). */
  saveTo(options: BodySinkOptions): Promise<{ received: number }>;
  /** Call instead of saveTo when the body is not wanted. */
  discard(): void;
}

export interface Transport {
  get(url: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<TransportResponse>;
  close(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET with manual redirects. Responses with a Content-Length (every Hub and CDN file response) are read
 * by `rawGet`, which reads the socket into reusable buffers; anything else (chunked, compressed)
 * is fetched again with node:http and streamed through writeBodyToFile. Authorization is dropped when a
 * redirect leaves the origin (the Hub's LFS redirect goes to a CDN), as fetch does. Every connection,
 * the first and each redirect hop's, goes through the network policy in `guard`.
 */
export function createHttpTransport(options: {
  guard: GuardOptions;
  maxSockets: number;
  maxRedirects?: number;
  raw?: boolean;
  headTimeoutMs?: number;
}): Transport {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
  };
  const maxRedirects = options.maxRedirects ?? 5;
  const useRaw = options.raw ?? true;

  const viaNodeHttp = (url: URL, headers: Record<string, string>, signal: AbortSignal) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      let lookup: ReturnType<typeof guardedConnection>['lookup'];
      try {
        ({ lookup } = guardedConnection(url, options.guard));
      } catch (err) {
        reject(err);
        return;
      }
      // The agents carry no lookup of their own, so node:http uses this request's for a new socket.
      const req = mod.get(url, { headers, agent: agents[url.protocol as 'http:' | 'https:'], signal, lookup }, resolve);
      req.once('error', reject);
    });

  const fromHead = (head: RawHead) => (name: string) => head.headers.get(name.toLowerCase()) ?? null;

  return {
    async get(rawUrl, init) {
      let url = new URL(rawUrl);
      const origin = url.origin;
      let headers = { ...init.headers };
      for (let hop = 0; ; hop++) {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Unsupported protocol in ${url.href}`);
        let status: number;
        let header: (name: string) => string | null;
        let saveTo: TransportResponse['saveTo'];
        let discard: () => void;
        const raw = useRaw ? await rawGet(url, headers, init.signal, options.guard, options.headTimeoutMs) : null;
        if (raw?.kind === 'response') {
          status = raw.head.status;
          header = fromHead(raw.head);
          saveTo = (o) => raw.response.saveTo(o);
          discard = () => raw.response.discard();
        } else {
          const res = await viaNodeHttp(url, headers, init.signal);
          status = res.statusCode ?? 0;
          header = (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          };
          saveTo = (o) => writeBodyToFile(res, o);
          discard = () => res.destroy();
        }
        const location = header('location');
        if (REDIRECTS.has(status) && location) {
          discard();
          if (hop >= maxRedirects) throw new Error(`Too many redirects fetching ${rawUrl}`);
          url = new URL(location, url);
          if (url.origin !== origin) {
            const { Authorization: _auth, authorization: _auth2, ...rest } = headers;
            headers = rest;
          }
          continue;
        }
        return { status, url: url.href, header, saveTo, discard };
      }
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
