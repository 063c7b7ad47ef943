import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface TransportResponse {
  status: number;
  url: string;
  header(name: string): string | null;
  /** The body as a Node stream; call discard() instead when it is not read. */
  body: IncomingMessage;
  discard(): void;
}

export interface Transport {
  get(url: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<TransportResponse>;
  close(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET over node:http/https with keep-alive and manual redirects. Bodies are Node streams: for multi-GB
 * files this costs about a quarter less CPU per byte than fetch + web streams (measured with the bench),
 * which matters on small nodes. Authorization is dropped when a redirect leaves the origin (the Hub's
 * LFS redirect goes to a CDN), as fetch does.
 */
export function createHttpTransport(options: { maxSockets: number; maxRedirects?: number }): Transport {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
  };
  const maxRedirects = options.maxRedirects ?? 5;

  const once = (url: URL, headers: Record<string, string>, signal: AbortSignal) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        reject(new Error(`Unsupported protocol in ${url.href}`));
        return;
      }
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.get(url, { headers, agent: agents[url.protocol], signal }, resolve);
      req.once('error', reject);
    });

  return {
    async get(rawUrl, init) {
      let url = new URL(rawUrl);
      const origin = url.origin;
      let headers = { ...init.headers };
      for (let hop = 0; ; hop++) {
        const res = await once(url, headers, init.signal);
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (REDIRECTS.has(status) && location) {
          res.resume();
          if (hop >= maxRedirects) throw new Error(`Too many redirects fetching ${rawUrl}`);
          url = new URL(location, url);
          if (url.origin !== origin) {
            const { Authorization: _auth, authorization: _auth2, ...rest } = headers;
            headers = rest;
          }
          continue;
        }
        return {
          status,
          url: url.href,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
          body: res,
          discard: () => res.destroy(),
        };
      }
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
