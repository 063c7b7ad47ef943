import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { guardedConnection, STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import type { TChatOutcome, TChatRequestBody } from './chat-types';
import { ChatStreamAccumulator } from './sse-accumulator';
import { SseDataParser } from './sse-parser';

export interface TEndpointConnection {
  /** e.g. http://10.0.0.5:8000 (with or without a trailing slash or /v1). */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Cancels the request (the run was cancelled). */
  signal?: AbortSignal;
  /**
   * Keep-alive connection pool to use (from createEndpointAgent, matching the URL's protocol). Load
   * levels bring their own with one socket per stream; otherwise a shared keep-alive pool is used.
   */
  agent?: http.Agent;
  /**
   * Where the endpoint may be (strict — no loopback — when not given). Every connection resolves and
   * checks the host through it; a refused endpoint fails each request with "refused by network policy".
   */
  network?: NetworkPolicy;
  /** Host name resolver (tests). */
  resolve?: Resolver;
}
let counter = 0;
/** Unique per process; sent as X-Request-Id so server-side records can be joined with ours. */
export function newRequestId(prefix = 'fp'): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${counter.toString(36)}`;
}

/** Base URL without a trailing slash or /v1, so paths can be appended. */
export function normaliseBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function postHeaders(conn: TEndpointConnection, requestId: string, stream: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'x-request-id': requestId,
  };
  if (conn.apiKey) h.authorization = `Bearer ${conn.apiKey}`;
  return h;
}

/** Message from vLLM's {"error":{...}}, the older flat {"object":"error",...}, FastAPI's {"detail"} or raw text. */
export function errorMessageFromBody(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    if (typeof body.error === 'object' && body.error?.message) return body.error.message;
    if (typeof body.error === 'string') return body.error;
    if (typeof body.message === 'string') return body.message;
    if (body.detail !== undefined) return typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 500) || '(empty body)';
}

/** Idle keep-alive sockets are closed after this long (below uvicorn's 5 s keep-alive, which vLLM and SGLang use). */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;

/**
 * A keep-alive connection pool for one endpoint: node:http (or https) with up to `maxSockets`
 * connections, so a load level of N streams keeps N connections open and reuses them request after
 * request instead of handshaking per request. Destroy it when done.
 */
export function createEndpointAgent(baseUrl: string, maxSockets: number): http.Agent {
  const opts: http.AgentOptions = {
    keepAlive: true,
    maxSockets,
    maxFreeSockets: maxSockets,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
    scheduling: 'lifo',
  };
  return baseUrl.startsWith('https:') ? new https.Agent(opts) : new http.Agent(opts);
}

// Shared pools for the checks that do not bring their own (unbounded: each check caps its concurrency).
const sharedHttp = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS });
const sharedHttps = new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS });

interface TTarget {
  https: boolean;
  hostname: string;
  port: number;
  basePath: string;
}
const targets = new Map<string, TTarget>();

function targetOf(baseUrl: string): TTarget {
  let t = targets.get(baseUrl);
  if (t) return t;
  const u = new URL(normaliseBaseUrl(baseUrl));
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported URL scheme ${u.protocol} in ${baseUrl}`);
  const isHttps = u.protocol === 'https:';
  t = {
    https: isHttps,
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : isHttps ? 443 : 80,
    basePath: u.pathname.replace(/\/+$/, ''),
  };
  if (targets.size > 1000) targets.clear();
  targets.set(baseUrl, t);
  return t;
}

function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = e?.message ?? String(err);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

interface TFailure {
  kind: 'cancelled' | 'timeout' | 'network';
  message: string;
  /** The response head had arrived (the body failed). */
  afterResponse: boolean;
}

/**
 * One HTTP exchange on node:http with a keep-alive agent. The per-request timeout covers the whole
 * exchange (headers and body); the caller's AbortSignal cancels it. Both destroy the request, which
 * closes the connection so the server sees the client go away. Resolves exactly once, never rejects:
 * `onResponse` resolves through `done`, every failure goes through `onFail`.
 */
function exchange<T>(
  conn: TEndpointConnection,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body: string | null,
  onResponse: (res: http.IncomingMessage, done: (v: T) => void) => void,
  onFail: (f: TFailure) => T,
): Promise<T> {
  return new Promise<T>((resolve) => {
    const signal = conn.signal;
    if (signal?.aborted) return resolve(onFail({ kind: 'cancelled', message: 'cancelled', afterResponse: false }));
    let t: TTarget;
    let lookup: LookupFunction;
    try {
      t = targetOf(conn.baseUrl);
      // An IP-literal host is checked here; a host name by `lookup` when a new socket connects (the
      // agents carry no lookup of their own, so node:http uses the request's).
      ({ lookup } = guardedConnection(new URL(normaliseBaseUrl(conn.baseUrl)), {
        policy: conn.network ?? STRICT_NETWORK_POLICY,
        ...(conn.resolve ? { resolve: conn.resolve } : {}),
      }));
    } catch (err) {
      return resolve(onFail({ kind: 'network', message: describeError(err), afterResponse: false }));
    }
    let settled = false;
    let why: 'cancelled' | 'timeout' | null = null;
    let responded = false;
    const done = (v: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const fail = (err: unknown) => {
      if (!settled) done(onFail({ kind: why ?? 'network', message: describeError(err), afterResponse: responded }));
    };
    const req = (t.https ? https : http).request(
      {
        agent: conn.agent ?? (t.https ? sharedHttps : sharedHttp),
        hostname: t.hostname,
        port: t.port,
        lookup,
        method,
        path: t.basePath + path,
        headers,
      },
      (res) => {
        responded = true;
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the response ended'));
        });
        onResponse(res, done);
      },
    );
    const onAbort = () => {
      why ??= 'cancelled';
      req.destroy(new Error('cancelled'));
    };
    const timer = setTimeout(() => {
      why ??= 'timeout';
      req.destroy(new Error(`timed out after ${conn.timeoutMs} ms`));
    }, conn.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(body ?? undefined);
  });
}

function readAll(res: http.IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

function failureMessage(conn: TEndpointConnection, f: TFailure): { aborted?: 'cancelled' | 'timeout'; error: string } {
  if (f.kind === 'cancelled') return { aborted: 'cancelled', error: 'cancelled' };
  if (f.kind === 'timeout') return { aborted: 'timeout', error: `timed out after ${conn.timeoutMs} ms` };
  return { error: f.afterResponse ? `reading the response failed: ${f.message}` : f.message };
}

/**
 * One chat completion. Never throws for HTTP, network, timeout or cancellation problems: they come
 * back as ok: false with an explanation. Streaming requests ask for a final usage chunk.
 *
 * Timing follows vLLM's benchmark: st is taken just before the request is sent; a streamed chunk is
 * timestamped (performance.now()) in the callback that delivers the socket's bytes, before it is parsed,
 * and every event in that read shares the timestamp.
 */
export function chatCompletion(
  conn: TEndpointConnection,
  body: TChatRequestBody,
  opts: {
    requestId?: string;
    /** Timing and usage only: the streamed text is not kept (content/reasoning come back empty). For load tests. */
    discardText?: boolean;
  } = {},
): Promise<TChatOutcome> {
  const requestId = opts.requestId ?? newRequestId();
  const stream = body.stream === true;
  const payload: TChatRequestBody = stream ? { ...body, stream_options: { include_usage: true, ...body.stream_options } } : body;
  const base: TChatOutcome = {
    ok: false,
    status: null,
    requestId,
    stream,
    content: '',
    reasoning: '',
    toolCalls: [],
    finishReason: null,
    usage: null,
    startedAt: 0,
    ttftMs: null,
    itlMs: [],
    e2eMs: null,
  };
  // Serialise before st: a multi-megabyte haystack should not count as server latency.
  const json = JSON.stringify(payload);
  const hdrs = postHeaders(conn, requestId, stream);
  hdrs['content-length'] = String(Buffer.byteLength(json));
  const st = performance.now();
  base.startedAt = st;
  return exchange<TChatOutcome>(
    conn,
    'POST',
    '/v1/chat/completions',
    hdrs,
    json,
    (res, done) => {
      const status = res.statusCode ?? 0;
      base.status = status;
      if (status < 200 || status > 299) {
        readAll(res, (b) =>
          done({ ...base, error: `HTTP ${status}: ${errorMessageFromBody(b.toString('utf8'))}`, e2eMs: performance.now() - st }),
        );
        return;
      }
      if (!stream) {
        readAll(res, (b) => done(jsonOutcome(b.toString('utf8'), base, performance.now() - st)));
        return;
      }
      const acc = new ChatStreamAccumulator(!opts.discardText);
      let now = 0;
      const parser = new SseDataParser((data) => acc.push(data, now));
      res.on('data', (chunk: Buffer) => {
        now = performance.now();
        parser.feed(chunk);
      });
      res.on('end', () => done(streamOutcome(acc, base, st)));
    },
    (f) => ({ ...base, ...failureMessage(conn, f) }),
  );
}

function jsonOutcome(text: string, base: TChatOutcome, at: number): TChatOutcome {
  let json: {
    choices?: {
      message?: {
        content?: string | null;
        reasoning?: string | null;
        reasoning_content?: string | null;
        tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
      };
      finish_reason?: string | null;
    }[];
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  };
  try {
    json = JSON.parse(text);
  } catch {
    return { ...base, error: `response is not JSON: ${text.slice(0, 200)}`, e2eMs: at };
  }
  const choice = json.choices?.[0];
  if (!choice?.message) return { ...base, error: 'response has no choices[0].message', e2eMs: at };
  const m = choice.message;
  return {
    ...base,
    ok: true,
    content: m.content ?? '',
    reasoning: m.reasoning ?? m.reasoning_content ?? '',
    toolCalls: (m.tool_calls ?? []).map((tc, index) => ({
      index,
      id: tc.id ?? null,
      name: tc.function?.name ?? '',
      arguments: tc.function?.arguments ?? '',
    })),
    finishReason: choice.finish_reason ?? null,
    usage:
      typeof json.usage?.prompt_tokens === 'number'
        ? { promptTokens: json.usage.prompt_tokens, completionTokens: json.usage.completion_tokens ?? 0 }
        : null,
    ttftMs: at,
    e2eMs: at,
  };
}

function streamOutcome(acc: ChatStreamAccumulator, base: TChatOutcome, st: number): TChatOutcome {
  const out: TChatOutcome = {
    ...base,
    content: acc.content,
    reasoning: acc.reasoning,
    toolCalls: acc.toolCalls,
    finishReason: acc.finishReason,
    usage: acc.usage,
    ttftMs: acc.ttftAt === null ? null : acc.ttftAt - st,
    itlMs: acc.itlMs,
    e2eMs: acc.lastEventAt === null ? null : acc.lastEventAt - st,
  };
  if (acc.error) return { ...out, error: `stream error: ${acc.error}` };
  if (!acc.done && acc.finishReason === null) return { ...out, error: 'stream ended before [DONE] or a finish_reason' };
  return { ...out, ok: true };
}

export interface TJsonResponse {
  ok: boolean;
  status: number | null;
  body: unknown;
  text: string;
  error?: string;
}

/** GET a path (e.g. /v1/models, /health, /version) with the endpoint's auth. */
export function getEndpoint(conn: TEndpointConnection, path: string): Promise<TJsonResponse> {
  return exchange<TJsonResponse>(
    conn,
    'GET',
    path,
    conn.apiKey ? { authorization: `Bearer ${conn.apiKey}` } : {},
    null,
    (res, done) =>
      readAll(res, (b) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status <= 299;
        const text = b.toString('utf8');
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        done({ ok, status, body, text, ...(ok ? {} : { error: `HTTP ${status}: ${errorMessageFromBody(text)}` }) });
      }),
    (f) => ({ ok: false, status: null, body: null, text: '', error: failureMessage(conn, f).error }),
  );
}
