import { createParser } from 'eventsource-parser';
import type { TChatOutcome, TChatRequestBody } from './chat-types';
import { ChatStreamAccumulator } from './sse-accumulator';

export interface TEndpointConnection {
  /** e.g. http://10.0.0.5:8000 (with or without a trailing slash or /v1). */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Cancels the request (the run was cancelled). */
  signal?: AbortSignal;
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

/**
 * One AbortController per request, aborted by the caller's signal or the timeout, and cleaned up
 * when the request ends. (AbortSignal.timeout + AbortSignal.any would leave a transferable signal,
 * a pending timer and a parent listener behind per request: measurable at hundreds of streams.)
 */
function requestSignal(conn: TEndpointConnection): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new DOMException(`timed out after ${conn.timeoutMs} ms`, 'TimeoutError'));
  }, conn.timeoutMs);
  const onCancel = () => ac.abort(conn.signal?.reason);
  if (conn.signal?.aborted) onCancel();
  else conn.signal?.addEventListener('abort', onCancel, { once: true });
  return {
    signal: ac.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      conn.signal?.removeEventListener('abort', onCancel);
    },
  };
}

function abortKind(conn: TEndpointConnection, timedOut: boolean, err: unknown): 'cancelled' | 'timeout' | undefined {
  if (conn.signal?.aborted) return 'cancelled';
  if (timedOut) return 'timeout';
  const name = (err as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  return undefined;
}

function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'fetch failed'} (${cause})` : (e.message ?? String(err));
}

/**
 * One chat completion. Never throws for HTTP, network, timeout or cancellation problems: they come
 * back as ok: false with an explanation. Streaming requests ask for a final usage chunk.
 */
export async function chatCompletion(conn: TEndpointConnection, body: TChatRequestBody, opts: { requestId?: string } = {}): Promise<TChatOutcome> {
  const requestId = opts.requestId ?? newRequestId();
  const stream = body.stream === true;
  const payload: TChatRequestBody = stream ? { ...body, stream_options: { include_usage: true, ...body.stream_options } } : body;
  const req = requestSignal(conn);
  const signal = req.signal;
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
  const url = `${normaliseBaseUrl(conn.baseUrl)}/v1/chat/completions`;
  const hdrs = postHeaders(conn, requestId, stream);
  const st = performance.now();
  base.startedAt = st;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: hdrs, body: json, signal });
  } catch (err) {
    req.done();
    const aborted = abortKind(conn, req.timedOut(), err);
    return { ...base, aborted, error: aborted === 'cancelled' ? 'cancelled' : aborted === 'timeout' ? `timed out after ${conn.timeoutMs} ms` : describeFetchError(err) };
  }
  base.status = res.status;
  try {
    if (!res.ok) {
      const text = await res.text();
      return { ...base, error: `HTTP ${res.status}: ${errorMessageFromBody(text)}`, e2eMs: performance.now() - st };
    }
    if (!stream) return await readJson(res, base, st);
    return await readStream(res, base, st);
  } catch (err) {
    const aborted = abortKind(conn, req.timedOut(), err);
    return {
      ...base,
      aborted,
      error: aborted === 'cancelled' ? 'cancelled' : aborted === 'timeout' ? `timed out after ${conn.timeoutMs} ms` : `reading the response failed: ${describeFetchError(err)}`,
    };
  } finally {
    req.done();
  }
}

async function readJson(res: Response, base: TChatOutcome, st: number): Promise<TChatOutcome> {
  const text = await res.text();
  const at = performance.now() - st;
  let json: {
    choices?: { message?: { content?: string | null; reasoning?: string | null; reasoning_content?: string | null; tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[] }; finish_reason?: string | null }[];
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
    toolCalls: (m.tool_calls ?? []).map((tc, index) => ({ index, id: tc.id ?? null, name: tc.function?.name ?? '', arguments: tc.function?.arguments ?? '' })),
    finishReason: choice.finish_reason ?? null,
    usage: typeof json.usage?.prompt_tokens === 'number' ? { promptTokens: json.usage.prompt_tokens, completionTokens: json.usage.completion_tokens ?? 0 } : null,
    ttftMs: at,
    e2eMs: at,
  };
}

async function readStream(res: Response, base: TChatOutcome, st: number): Promise<TChatOutcome> {
  if (!res.body) return { ...base, error: 'streaming response has no body' };
  const acc = new ChatStreamAccumulator();
  // One timestamp per network read: every event in that read arrived together (as in vLLM's client).
  let now = 0;
  const parser = createParser({ onEvent: (ev) => acc.push(ev.data, now) });
  const decoder = new TextDecoder();
  // A plain reader loop: cheaper per chunk than for-await over the web stream, which matters at
  // hundreds of concurrent streams in one event loop.
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    now = performance.now();
    parser.feed(decoder.decode(value, { stream: true }));
  }
  parser.feed(decoder.decode());
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
export async function getEndpoint(conn: TEndpointConnection, path: string): Promise<TJsonResponse> {
  const req = requestSignal(conn);
  try {
    const res = await fetch(`${normaliseBaseUrl(conn.baseUrl)}${path}`, {
      headers: conn.apiKey ? { authorization: `Bearer ${conn.apiKey}` } : {},
      signal: req.signal,
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { ok: res.ok, status: res.status, body, text, ...(res.ok ? {} : { error: `HTTP ${res.status}: ${errorMessageFromBody(text)}` }) };
  } catch (err) {
    const aborted = abortKind(conn, req.timedOut(), err);
    return { ok: false, status: null, body: null, text: '', error: aborted === 'cancelled' ? 'cancelled' : aborted === 'timeout' ? `timed out after ${conn.timeoutMs} ms` : describeFetchError(err) };
  } finally {
    req.done();
  }
}
