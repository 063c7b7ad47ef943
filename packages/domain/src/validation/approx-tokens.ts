/**
 * A deterministic stand-in for a tokenizer, used where no real tokenizer is available (the reference
 * endpoint's usage numbers, sizing generated prompts). Rule: whitespace is free and every run of
 * non-whitespace characters costs one token per started group of 4 characters ("hello" = 2 tokens,
 * "a b c" = 3). English prose comes out near 3–4 characters per token, close to real BPE tokenizers.
 * Real endpoints report their own counts; the runner always reads prompt sizes from usage.
 */

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11 || code === 0xa0;
}

export function countApproxTokens(text: string): number {
  let tokens = 0;
  let run = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (isSpace(text.charCodeAt(i))) {
      if (run) tokens += Math.ceil(run / 4);
      run = 0;
    } else run += 1;
  }
  if (run) tokens += Math.ceil(run / 4);
  return tokens;
}

/**
 * Splits text into the pieces countApproxTokens counts, each carrying the whitespace before it, so
 * that pieces.join('') === text (trailing whitespace rides on the last piece).
 */
export function splitApproxTokens(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i += 1;
    if (i >= text.length) break;
    let n = 0;
    while (i < text.length && !isSpace(text.charCodeAt(i)) && n < 4) {
      i += 1;
      n += 1;
    }
    pieces.push(text.slice(start, i));
    start = i;
  }
  if (start < text.length) {
    if (pieces.length) pieces[pieces.length - 1] += text.slice(start);
    else pieces.push(text.slice(start));
  }
  return pieces;
}

/** Per-message template cost (role markers) and the assistant primer, in approximate tokens. */
export const APPROX_TOKENS_PER_MESSAGE = 4;
export const APPROX_TOKENS_PER_CHAT = 2;

/**
 * Approximate prompt size of a chat request: every message's text plus its template markers, plus
 * the tool definitions as JSON when tools are offered.
 */
export function countApproxChatTokens(messages: readonly { content?: unknown }[], tools?: readonly unknown[]): number {
  let n = APPROX_TOKENS_PER_CHAT;
  for (const m of messages) {
    n += APPROX_TOKENS_PER_MESSAGE;
    if (typeof m.content === 'string') n += countApproxTokens(m.content);
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string')
          n += countApproxTokens((part as { text: string }).text);
      }
    }
  }
  if (tools && tools.length) n += countApproxTokens(JSON.stringify(tools));
  return n;
}
