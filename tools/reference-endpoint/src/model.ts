import type { TExpectedAnswer, TJsonSchema } from '@fleetplane/contracts';
import { APPROX_TOKENS_PER_CHAT, APPROX_TOKENS_PER_MESSAGE, countApproxTokens, splitApproxTokens } from '@fleetplane/domain';
import {
  EXACT_ANSWER_TASKS,
  NEEDLE_PATTERN,
  NEEDLE_QUESTION_PATTERN,
  REASONING_PROMPTS,
  TOOL_CASES,
  fillerSentence,
  seededRandom,
} from '@fleetplane/validation';
import type { TDegradations } from './degradations.schema';
import { messageText, type TChatCompletionRequest, type TToolParam } from './chat-request.schema';
import { unitHash } from './hash';

/**
 * The deterministic built-in "model". It knows the shipped validation tasks (imported from
 * @fleetplane/validation, their single source) and answers them correctly unless a degradation
 * says otherwise; it really searches haystacks for the needle; it calls the tool the prompt names.
 */

export type TPieceKind = 'reasoning' | 'content' | 'tool_args';

export interface TPlan {
  /** Output split into tokens, in emission order: reasoning first, then content or tool arguments. */
  pieces: { kind: TPieceKind; text: string }[];
  toolCall: { id: string; name: string } | null;
  finishReason: 'stop' | 'length' | 'tool_calls';
}

interface TKnownAnswer {
  expected: TExpectedAnswer;
  reasoning: string;
}

const KNOWN = new Map<string, TKnownAnswer>();
for (const t of EXACT_ANSWER_TASKS)
  KNOWN.set(t.prompt, {
    expected: t.expected,
    reasoning: 'I will work through the question carefully and check the result before answering.',
  });
for (const r of REASONING_PROMPTS) KNOWN.set(r.prompt, { expected: r.expected, reasoning: r.solution });

const GENERIC_ANSWER =
  'This is the Fleetplane reference endpoint. It answers the built-in validation tasks exactly and replies to other prompts with this sentence.';

const FILLER_PIECES = (() => {
  const rng = seededRandom(7);
  const text = Array.from({ length: 64 }, () => fillerSentence(rng)).join(' ');
  return splitApproxTokens(` ${text}`);
})();

function formatAnswer(e: TExpectedAnswer): string {
  return e.type === 'number' ? `${e.value}${e.unit ? ` ${e.unit}` : ''}` : e.value;
}

function wrongAnswer(e: TExpectedAnswer): string {
  if (e.type === 'number') return `${e.value === 0 ? 1 : e.value * 2 + 1}${e.unit ? ` ${e.unit}` : ''}`;
  return `Not ${e.value}`;
}

export function isThinking(req: TChatCompletionRequest): boolean {
  const k = req.chat_template_kwargs ?? {};
  return k.thinking === true || k.enable_thinking === true;
}

/** Picks the offered tool the prompt names (longest name first), else the first one. */
export function chooseTool(tools: readonly TToolParam[], prompt: string, toolChoice: TChatCompletionRequest['tool_choice']): TToolParam {
  if (toolChoice && typeof toolChoice === 'object') {
    const forced = tools.find((t) => t.function.name === toolChoice.function.name);
    if (forced) return forced;
  }
  const named = [...tools].sort((a, b) => b.function.name.length - a.function.name.length).find((t) => prompt.includes(t.function.name));
  return named ?? tools[0]!;
}

/** Arguments that satisfy the schema subset, filled from the prompt where it is obvious. */
export function synthesiseArguments(schema: TJsonSchema | undefined, prompt: string): unknown {
  const s = schema ?? { type: 'object' };
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (s.enum) return s.enum.find((v) => typeof v === 'string' && prompt.toLowerCase().includes(v.toLowerCase())) ?? s.enum[0];
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? Object.keys(s.properties ?? {})) out[key] = synthesiseArguments(s.properties?.[key], prompt);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number': {
      const lo = s.minimum ?? 1;
      const hi = s.maximum ?? Number.MAX_SAFE_INTEGER;
      const found = (prompt.match(/\d+(?:\.\d+)?/g) ?? [])
        .map(Number)
        .find((n) => n >= lo && n <= hi && (type === 'number' || Number.isInteger(n)));
      return found ?? (type === 'integer' ? Math.ceil(lo) : lo);
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    default: {
      // The last capitalised word is the likeliest name ("… weather in Paris"); the first is often a verb.
      const names = prompt.match(/\b[A-Z][a-z]+\b/g);
      return names?.at(-1) ?? 'example';
    }
  }
}

export interface TPlanContext {
  seed: number;
  degradations: TDegradations;
  requestNumber: number;
}

function toolCallId(seed: number, n: number): string {
  return `chatcmpl-tool-${Math.floor(unitHash(seed, 'tool', n) * 2 ** 32)
    .toString(16)
    .padStart(8, '0')}${n.toString(16)}`;
}

function lastUserText(req: TChatCompletionRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i -= 1) if (req.messages[i]!.role === 'user') return messageText(req.messages[i]!);
  return messageText(req.messages.at(-1)!);
}

function needleAnswer(prompt: string, ctx: TPlanContext): string | null {
  const q = NEEDLE_QUESTION_PATTERN.exec(prompt);
  if (!q) return null;
  const city = q[1]!;
  for (const m of prompt.matchAll(NEEDLE_PATTERN)) {
    if (m[1] !== city) continue;
    const offset = APPROX_TOKENS_PER_CHAT + APPROX_TOKENS_PER_MESSAGE + countApproxTokens(prompt.slice(0, m.index));
    const limit = ctx.degradations.loseNeedlesBeyondTokens;
    if (limit !== undefined && offset > limit) break;
    return m[2]!;
  }
  return `I could not find a pass code for ${city} in the document.`;
}

/** Decides the whole answer up front; the server then streams it at the simulated token rate. */
export function planAnswer(req: TChatCompletionRequest, ctx: TPlanContext): TPlan {
  const prompt = lastUserText(req);
  const thinking = isThinking(req);
  const showReasoning = thinking || ctx.degradations.reasoningLeak === true;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? null;
  let reasoning = '';
  let content = '';
  let toolCall: TPlan['toolCall'] = null;
  let toolArgs = '';

  const tools = req.tool_choice === 'none' ? [] : (req.tools ?? []);
  if (tools.length) {
    const tool = chooseTool(tools, prompt, req.tool_choice);
    const known = TOOL_CASES.find((c) => c.prompt === prompt && c.expectedTool === tool.function.name);
    const args = known ? known.referenceArguments : synthesiseArguments(tool.function.parameters as TJsonSchema | undefined, prompt);
    toolArgs = JSON.stringify(args);
    // Broken the way real parsers break: the closing brace never arrives and quotes turn single.
    if (ctx.degradations.malformedToolCallJson) toolArgs = toolArgs.slice(0, -1).replace(/"/g, "'");
    toolCall = { id: toolCallId(ctx.seed, ctx.requestNumber), name: tool.function.name };
    reasoning = `The user asks for ${tool.function.name}; I will call it with the details from the request.`;
  } else {
    const known = KNOWN.get(prompt);
    const needle = known ? null : needleAnswer(prompt, ctx);
    if (known) {
      const wrong = unitHash(ctx.seed, 'wrong', prompt) < (ctx.degradations.wrongAnswerRate ?? 0);
      content = wrong ? wrongAnswer(known.expected) : formatAnswer(known.expected);
      reasoning = known.reasoning;
    } else if (needle !== null) {
      content = needle;
      reasoning = 'I will scan the document for the sentence that gives the requested pass code.';
    } else {
      content = GENERIC_ANSWER;
      reasoning = 'The request is not one of the built-in tasks, so I will give the standard reply.';
    }
  }

  const pieces: TPlan['pieces'] = [];
  if (showReasoning) for (const t of splitApproxTokens(reasoning)) pieces.push({ kind: 'reasoning', text: t });
  if (toolCall) for (const t of splitApproxTokens(toolArgs)) pieces.push({ kind: 'tool_args', text: t });
  else for (const t of splitApproxTokens(content)) pieces.push({ kind: 'content', text: t });

  // ignore_eos (vLLM extra) keeps generating to max_tokens: exact output lengths for load tests.
  if (req.ignore_eos && maxTokens !== null && !toolCall) {
    for (let i = 0; pieces.length < maxTokens; i += 1) pieces.push({ kind: 'content', text: FILLER_PIECES[i % FILLER_PIECES.length]! });
  }
  let finishReason: TPlan['finishReason'] = toolCall ? 'tool_calls' : 'stop';
  if (maxTokens !== null && pieces.length >= maxTokens && (req.ignore_eos || pieces.length > maxTokens)) {
    pieces.length = maxTokens;
    finishReason = 'length';
  }
  return { pieces, toolCall, finishReason };
}
