import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

// node:http rather than fetch: undici alone adds ~10 MB of resident memory to a process that must stay small.

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline: connect, send, and read the complete response. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Larger responses are refused with HttpError('too_large'). */
  maxResponseBytes?: number;
}

export type HttpErrorKind = 'timeout' | 'aborted' | 'too_large' | 'network';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly kind: HttpErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** One HTTP request, no redirects followed, text response. Rejects only with HttpError. */
export function sendHttp(options: HttpRequestOptions): Promise<HttpResponse> {
  const { method, url, headers = {}, body, timeoutMs, signal, maxResponseBytes = 16 * 1024 * 1024 } = options;
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new HttpError('network', `invalid URL ${url}`));
    }
    if (signal?.aborted) return reject(new HttpError('aborted', 'aborted'));
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const requestHeaders: Record<string, string | number> = { ...headers };
    if (body !== undefined) requestHeaders['content-length'] = Buffer.byteLength(body);
    let settled = false;
    const finish = (error: HttpError | null, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(response!);
    };
    const req = send(parsed, { method, headers: requestHeaders, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxResponseBytes) {
          finish(new HttpError('too_large', `response larger than ${maxResponseBytes} bytes`));
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (err: NodeJS.ErrnoException) => finish(new HttpError('network', err.code ?? err.message)));
    });
    const timer = setTimeout(() => finish(new HttpError('timeout', `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const onAbort = () => finish(new HttpError('aborted', 'aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => finish(new HttpError('network', err.code ?? err.message)));
    req.end(body);
  });
}
