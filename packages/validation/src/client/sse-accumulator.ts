import type { TAssembledToolCall } from './chat-types';

interface TDelta {
  role?: string;
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  tool_calls?: { index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
}

interface TChunk {
  choices?: { index?: number; delta?: TDelta; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
}

/**
 * Folds chat.completion.chunk events into one answer, timing them as vLLM's benchmark does: a chunk
 * that carries content, reasoning or tool-call text is a "token chunk"; TTFT is the first one,
 * ITL the gaps between them, and latency is the last data event before [DONE].
 */
export class ChatStreamAccumulator {
  content = '';
  reasoning = '';
  finishReason: string | null = null;
  usage: { promptTokens: number; completionTokens: number } | null = null;
  done = false;
  error: string | null = null;
  ttftAt: number | null = null;
  lastEventAt: number | null = null;
  readonly itlMs: number[] = [];
  private lastTokenAt: number | null = null;
  private readonly calls = new Map<number, TAssembledToolCall>();

  /**
   * keepText false: time the chunks but do not keep the generated text (content and reasoning stay
   * empty). Load tests never read it, and text held by hundreds of open streams survives young-
   * generation GCs, whose copying pauses the event loop and so the timestamps.
   */
  constructor(private readonly keepText = true) {}

  /** Feeds one SSE `data:` payload received at time `now` (performance.now()). */
  push(data: string, now: number): void {
    if (data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    let chunk: TChunk;
    try {
      chunk = JSON.parse(data) as TChunk;
    } catch {
      this.error ??= `unparseable stream event: ${data.slice(0, 200)}`;
      return;
    }
    this.lastEventAt = now;
    if (chunk.error) {
      this.error ??= typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'error event in stream');
      return;
    }
    if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') {
      this.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens ?? 0 };
    }
    const choice = chunk.choices?.[0];
    if (!choice) return;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const delta = choice.delta;
    if (!delta) return;
    let carriesTokens = false;
    if (delta.content) {
      if (this.keepText) this.content += delta.content;
      carriesTokens = true;
    }
    const r = delta.reasoning ?? delta.reasoning_content;
    if (r) {
      if (this.keepText) this.reasoning += r;
      carriesTokens = true;
    }
    for (const tc of delta.tool_calls ?? []) {
      const index = tc.index ?? 0;
      const call = this.calls.get(index) ?? { index, id: null, name: '', arguments: '' };
      if (tc.id) call.id = tc.id;
      if (tc.function?.name) call.name += tc.function.name;
      if (tc.function?.arguments) call.arguments += tc.function.arguments;
      this.calls.set(index, call);
      carriesTokens = true;
    }
    if (!carriesTokens) return;
    if (this.ttftAt === null) this.ttftAt = now;
    else this.itlMs.push(now - this.lastTokenAt!);
    this.lastTokenAt = now;
  }

  get toolCalls(): TAssembledToolCall[] {
    return [...this.calls.values()].sort((a, b) => a.index - b.index);
  }
}
