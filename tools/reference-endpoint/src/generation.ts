import type { ServerResponse } from 'node:http';
import type { TPlan } from './model';
import { ChunkWriter, DONE, sendJson } from './protocol';

/** Hands out decode slots under a global tokens-per-second budget (first come, first served). */
export class ThroughputCap {
  private next = 0;
  constructor(readonly tokensPerSec: number) {}
  reserve(at: number): number {
    const t = Math.max(at, this.next);
    this.next = t + 1000 / this.tokensPerSec;
    return t;
  }
}

export interface TTimelineEntry {
  /** X-Request-Id from the client, else one the server made up. */
  id: string;
  stream: boolean;
  /** Server performance.now() when the request headers arrived. */
  receivedAtMs: number;
  /** When the request got a running slot (after any wait for max_num_seqs). */
  scheduledAtMs: number | null;
  /** When the first token-carrying chunk (or the whole non-streaming body) was written. */
  firstChunkSentAtMs: number | null;
  lastChunkSentAtMs: number | null;
  finishedAtMs: number | null;
  status: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  finishReason: string | null;
  aborted: boolean;
  error: string | null;
}

export interface TGenerationHooks {
  itlMs: number;
  /** Tokens per streamed chunk after the first (vLLM's --stream-interval); the first token goes out alone. */
  streamInterval: number;
  cap: () => ThroughputCap | null;
  onFirstToken: (g: Generation, ttftS: number) => void;
  onTokens: (g: Generation, n: number, gapS: number | null) => void;
  onFinished: (g: Generation, reason: string) => void;
}

export interface TGenerationInit {
  entry: TTimelineEntry;
  res: ServerResponse;
  plan: TPlan;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  /** Delay between being scheduled and the first token (prefill + injected latency). */
  ttftMs: number;
  id: string;
  created: number;
  model: string;
  reasoningField: 'reasoning' | 'reasoning_content';
}

/**
 * One request's decode. Token k is due at firstAt + k × itl (pushed later by a global throughput
 * cap). A timer fires once per streamed chunk; if it fires late, every token already due goes out
 * in that write (one event per kind), which keeps CPU per stream low for hundreds of streams.
 */
export class Generation {
  emitted = 0;
  private timer: NodeJS.Timeout | null = null;
  private firstAt = 0;
  /** Due times of tokens computed so far (each cap reservation is made exactly once). */
  private readonly dues: number[] = [];
  private batchEnd = 0;
  private lastWriteAt: number | null = null;
  private toolHeaderSent = false;
  private done = false;
  private readonly writer: ChunkWriter;

  constructor(
    readonly init: TGenerationInit,
    private readonly hooks: TGenerationHooks,
  ) {
    this.writer = new ChunkWriter(init.id, init.created, init.model, init.reasoningField);
  }

  get promptTokens(): number {
    return this.init.promptTokens;
  }

  start(now: number): void {
    const { entry, stream, res } = this.init;
    entry.scheduledAtMs = now;
    if (stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': entry.id,
      });
      res.flushHeaders();
    }
    this.firstAt = now + this.init.ttftMs;
    const n = this.init.plan.pieces.length;
    if (n === 0 || !stream) {
      // A non-streaming answer arrives when its last token would have.
      const at = n === 0 ? this.firstAt : this.dueAt(n - 1);
      this.timer = setTimeout(() => this.finish(), Math.max(0, at - performance.now()));
      return;
    }
    this.scheduleNext();
  }

  private dueAt(i: number): number {
    while (this.dues.length <= i) {
      const j = this.dues.length;
      const natural = j === 0 ? this.firstAt : this.dues[j - 1]! + this.hooks.itlMs;
      const cap = this.hooks.cap();
      this.dues.push(cap ? cap.reserve(natural) : natural);
    }
    return this.dues[i]!;
  }

  private scheduleNext(): void {
    const n = this.init.plan.pieces.length;
    this.batchEnd = this.emitted === 0 ? 0 : Math.min(this.emitted + this.hooks.streamInterval - 1, n - 1);
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.dueAt(this.batchEnd) - performance.now()));
  }

  private fire(): void {
    this.timer = null;
    if (this.done) return;
    const { pieces } = this.init.plan;
    const n = pieces.length;
    const now = performance.now();
    const from = this.emitted;
    this.emitted = this.batchEnd + 1;
    // Late timer: whatever else is already due rides along (except with the first token, which
    // always goes out alone so time-to-first-token stays exact).
    if (from > 0) while (this.emitted < n && this.dueAt(this.emitted) <= now + 0.5) this.emitted += 1;
    let out = from === 0 ? this.writer.role() : '';
    let i = from;
    while (i < this.emitted) {
      const kind = pieces[i]!.kind;
      let text = '';
      while (i < this.emitted && pieces[i]!.kind === kind) text += pieces[i++]!.text;
      if (kind === 'reasoning') out += this.writer.reasoning(text);
      else if (kind === 'content') out += this.writer.content(text);
      else {
        if (!this.toolHeaderSent && this.init.plan.toolCall) {
          out += this.writer.toolHeader(this.init.plan.toolCall.id, this.init.plan.toolCall.name);
          this.toolHeaderSent = true;
        }
        out += this.writer.toolArgs(text);
      }
    }
    const last = this.emitted >= n;
    if (last) out += this.tail();
    const writeAt = performance.now();
    this.init.res.write(out);
    this.record(writeAt, this.emitted - from);
    if (last) this.complete(writeAt);
    else this.scheduleNext();
  }

  private tail(): string {
    const { plan, includeUsage, id, created, model, promptTokens } = this.init;
    let out = this.writer.finish(plan.finishReason);
    if (includeUsage) out += this.writer.usage(id, created, model, promptTokens, plan.pieces.length);
    return out + DONE;
  }

  private record(at: number, tokens: number): void {
    const { entry } = this.init;
    if (entry.firstChunkSentAtMs === null) {
      entry.firstChunkSentAtMs = at;
      this.hooks.onFirstToken(this, (at - entry.receivedAtMs) / 1000);
    }
    entry.lastChunkSentAtMs = at;
    this.hooks.onTokens(this, tokens, this.lastWriteAt === null ? null : (at - this.lastWriteAt) / 1000);
    this.lastWriteAt = at;
  }

  /** End of a non-streaming request, or of a stream with nothing to emit. */
  private finish(): void {
    this.timer = null;
    if (this.done) return;
    const { plan, stream, res, entry, id, created, model, promptTokens, reasoningField } = this.init;
    const at = performance.now();
    this.emitted = plan.pieces.length;
    if (stream) {
      res.write(this.writer.role() + this.tail());
      this.record(at, 0);
      this.complete(at);
      return;
    }
    const text = (kind: string) =>
      plan.pieces
        .filter((p) => p.kind === kind)
        .map((p) => p.text)
        .join('');
    const reasoning = text('reasoning');
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: plan.toolCall ? null : text('content'),
      [reasoningField]: reasoning === '' ? null : reasoning,
      tool_calls: plan.toolCall
        ? [{ id: plan.toolCall.id, type: 'function', function: { name: plan.toolCall.name, arguments: text('tool_args') } }]
        : [],
    };
    const completion = plan.pieces.length;
    sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason, stop_reason: null }],
        usage: {
          prompt_tokens: promptTokens,
          total_tokens: promptTokens + completion,
          completion_tokens: completion,
          prompt_tokens_details: null,
        },
      },
      { 'x-request-id': entry.id },
    );
    this.record(at, completion);
    this.complete(at);
  }

  private complete(at: number): void {
    const { entry, res, plan } = this.init;
    this.done = true;
    if (this.init.stream) res.end();
    entry.finishedAtMs = at;
    entry.status = 200;
    entry.completionTokens = plan.pieces.length;
    entry.finishReason = plan.finishReason;
    this.hooks.onFinished(this, plan.finishReason === 'length' ? 'length' : 'stop');
  }

  /** Client went away or the server is closing: stop the timers, count it as aborted. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.init.entry.aborted = true;
    this.init.entry.finishedAtMs = performance.now();
    this.init.entry.completionTokens = this.emitted;
    this.hooks.onFinished(this, 'abort');
  }

  get finished(): boolean {
    return this.done;
  }
}
