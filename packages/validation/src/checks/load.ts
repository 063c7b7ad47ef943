import { chatCompletion, createEndpointAgent, newRequestId, type TEndpointConnection } from '../client/chat-client';
import type { TChatOutcome } from '../client/chat-types';
import { buildSyntheticPrompt } from '../data/haystack';

export interface TLoadLevelOptions {
  model: string;
  /** Closed-loop concurrency: this many streams are kept busy (the caller applies the cluster cap). */
  concurrency: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Stop starting new requests after this many ms (in-flight ones finish). */
  maxDurationMs?: number;
  signal?: AbortSignal;
  seed?: number;
  requestIdPrefix?: string;
  /**
   * Spread the streams' first requests evenly over this many ms instead of starting them all at
   * once. With equal request lengths a closed loop keeps whatever phase it starts with, so a
   * simultaneous start makes every stream finish and restart together in waves; a ramp gives the
   * steady request rate a busy production endpoint sees. Default 0 (vLLM's benchmark: all at once).
   */
  rampUpMs?: number;
  onSettled?: (o: TChatOutcome) => void;
}

export interface TLoadLevelResult {
  outcomes: TChatOutcome[];
  /** Wall time from the first request's start to the last one's end. */
  durationMs: number;
  /** performance.now() at the start of the level. */
  startedAt: number;
  cancelled: boolean;
}

/** Sleeps ms (not past the signal). */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One benchmark level as vLLM's `bench serve --max-concurrency N` runs it: streaming requests with
 * exact output lengths (max_tokens + ignore_eos), each stream starting the next request when it ends.
 * Each stream keeps one keep-alive connection (node:http): `conn.agent` when given (the caller owns
 * it, e.g. to reuse connections across levels), else a pool of `concurrency` sockets for this level.
 */
export async function runLoadLevel(conn: TEndpointConnection, opts: TLoadLevelOptions): Promise<TLoadLevelResult> {
  const streams = Math.max(1, Math.min(opts.concurrency, opts.requests));
  const ownAgent = conn.agent ? null : createEndpointAgent(conn.baseUrl, streams);
  const levelConn: TEndpointConnection = { ...conn, agent: conn.agent ?? ownAgent!, signal: opts.signal };
  try {
    return await runStreams(levelConn, opts, streams);
  } finally {
    ownAgent?.destroy();
  }
}

async function runStreams(conn: TEndpointConnection, opts: TLoadLevelOptions, streams: number): Promise<TLoadLevelResult> {
  const startedAt = performance.now();
  const deadline = opts.maxDurationMs !== undefined ? startedAt + opts.maxDurationMs : Infinity;
  const outcomes: TChatOutcome[] = [];
  let next = 0;
  const stop = () => opts.signal?.aborted === true || performance.now() >= deadline;
  // Workers pull request numbers from a counter (no per-request array), so a time-bounded run may
  // ask for an effectively unlimited number of requests.
  const ramp = opts.rampUpMs ?? 0;
  const worker = async (_: unknown, k: number) => {
    // Each stream listens on the level's signal once, and its requests on the stream's own signal:
    // EventTarget listener lists are scanned linearly, so hundreds of requests adding and removing
    // listeners on one shared signal cost ~0.1 ms each at 512 streams.
    const own = new AbortController();
    const forward = () => own.abort(opts.signal?.reason);
    if (opts.signal?.aborted) forward();
    else opts.signal?.addEventListener('abort', forward, { once: true });
    const streamConn: TEndpointConnection = { ...conn, signal: own.signal };
    try {
      if (ramp > 0 && k > 0) await delay(startedAt + (ramp * k) / streams - performance.now(), own.signal);
      await stream(streamConn);
    } finally {
      opts.signal?.removeEventListener('abort', forward);
    }
  };
  const stream = async (streamConn: TEndpointConnection) => {
    while (next < opts.requests && !stop()) {
      const i = next++;
      const o = await chatCompletion(
        streamConn,
        {
          model: opts.model,
          messages: [{ role: 'user', content: buildSyntheticPrompt({ tokens: opts.inputTokens, index: i, seed: opts.seed }) }],
          max_tokens: opts.outputTokens,
          ignore_eos: true,
          temperature: 0,
          stream: true,
        },
        // Only timings and usage are measured; not keeping the text keeps GC pauses short.
        { requestId: newRequestId(opts.requestIdPrefix ?? 'load'), discardText: true },
      );
      outcomes.push(o);
      opts.onSettled?.(o);
      // Let the HTTP pool take the finished connection back before the next request, so it is
      // reused instead of a new one being opened mid-run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: streams }, worker));
  const durationMs = performance.now() - startedAt;
  return { outcomes, durationMs, startedAt, cancelled: opts.signal?.aborted === true };
}
