import type { TToolDefinition } from '@fleetplane/contracts';

/** The OpenAI chat-completions request fields the checks send (plus vLLM's extras). */
export interface TChatRequestBody {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant' | 'tool'; content: string | null }[];
  max_tokens?: number;
  temperature?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: TToolDefinition[];
  tool_choice?: 'auto' | 'none' | 'required';
  /** DeepSeek V4 on vLLM/SGLang toggles thinking here: { thinking: true }. */
  chat_template_kwargs?: Record<string, unknown>;
  /** vLLM extra: keep generating to max_tokens regardless of EOS (exact output lengths for load tests). */
  ignore_eos?: boolean;
  seed?: number;
}

export interface TAssembledToolCall {
  index: number;
  id: string | null;
  name: string;
  /** Concatenated argument fragments, exactly as sent. */
  arguments: string;
}

export interface TChatOutcome {
  ok: boolean;
  /** HTTP status, null when the request never got one (network error, timeout). */
  status: number | null;
  error?: string;
  /** Set when the request was stopped by the caller's signal or by the per-request timeout. */
  aborted?: 'cancelled' | 'timeout';
  requestId: string;
  stream: boolean;
  content: string;
  reasoning: string;
  toolCalls: TAssembledToolCall[];
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** performance.now() at st (just before the POST). */
  startedAt: number;
  /** First chunk carrying content, reasoning or tool-call text, minus st (the whole response when not streaming). */
  ttftMs: number | null;
  /** Gaps between consecutive such chunks. */
  itlMs: number[];
  /** Last chunk (or the whole response) minus st. */
  e2eMs: number | null;
}
