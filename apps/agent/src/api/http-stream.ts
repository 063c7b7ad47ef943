import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HttpError } from './http';

export interface StreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it arrives; the caller must consume or destroy it. */
  body: IncomingMessage;
}

export interface StreamRequestOptions {
  url: string;
  headers?: Record<string, string>;
  /** Deadline for connecting and receiving the response headers. */
  headersTimeoutMs: number;
  /** The body is destroyed (an error on it) when no byte arrives for this long: a stalled transfer. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * One GET whose body is streamed instead of read whole (artifact files are many GB). No redirects are
 * followed. Rejects only with HttpError before the headers; afterwards, errors surface on `body`.
 */
export function openHttpStream(options: StreamRequestOptions): Promise<StreamResponse> {
  const { url, headers = {}, headersTimeoutMs, idleTimeoutMs, signal } = options;
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new HttpError('network', `invalid URL ${url}`));
    }
    if (signal?.aborted) return reject(new HttpError('aborted', 'aborted'));
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const onAbort = () => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new HttpError('aborted', 'aborted'));
      }
      req.destroy(new HttpError('aborted', 'aborted'));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new HttpError('timeout', `no answer within ${headersTimeoutMs / 1000} s`));
    }, headersTimeoutMs);
    const req = send(parsed, { method: 'GET', headers, agent: false }, (res) => {
      clearTimeout(timer);
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      // Idle, not total: a 40 GB shard legitimately takes a long time, a silent connection does not.
      res.setTimeout(idleTimeoutMs, () => res.destroy(new HttpError('timeout', `no data for ${idleTimeoutMs / 1000} s`)));
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err instanceof HttpError ? err : new HttpError('network', err.code ?? err.message));
    });
    req.end();
  });
}
