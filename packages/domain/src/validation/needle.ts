/** Needle-in-a-haystack scoring per (context length, depth) cell. */

function stripThinking(text: string): string {
  const out = text.replace(/<think>[\s\S]*?<\/think>/g, '');
  const close = out.lastIndexOf('</think>');
  return close >= 0 ? out.slice(close + '</think>'.length) : out;
}

export interface TNeedleAnswer {
  correct: boolean;
  /** Every distinct code-shaped number in the answer. */
  found: string[];
}

/**
 * Correct when the answer names the expected code and no other code: listing several candidates
 * must not score as retrieval. Codes are whole digit runs of the expected length.
 */
export function scoreNeedleAnswer(expectedCode: string, output: string): TNeedleAnswer {
  const len = expectedCode.length;
  const found = [...new Set((stripThinking(output).match(/\d+/g) ?? []).filter((d) => d.length === len))];
  return { correct: found.length === 1 && found[0] === expectedCode, found };
}

export interface TNeedleTrial {
  contextLength: number;
  depth: number;
  /** null when the request failed (it then counts as not retrieved). */
  correct: boolean | null;
  promptTokens: number | null;
}

export interface TNeedleCell {
  contextLength: number;
  depth: number;
  trials: number;
  correct: number;
  errors: number;
  /** correct / trials. */
  score: number;
  /** Mean prompt size the endpoint reported for this cell (null when it never answered). */
  promptTokens: number | null;
}

export function summariseNeedleCells(trials: readonly TNeedleTrial[]): TNeedleCell[] {
  const cells = new Map<string, { t: TNeedleTrial[] }>();
  for (const t of trials) {
    const k = `${t.contextLength}|${t.depth}`;
    const c = cells.get(k) ?? { t: [] };
    c.t.push(t);
    cells.set(k, c);
  }
  return [...cells.values()]
    .map(({ t }) => {
      const sizes = t.map((x) => x.promptTokens).filter((x): x is number => x !== null);
      const correct = t.filter((x) => x.correct === true).length;
      return {
        contextLength: t[0]!.contextLength,
        depth: t[0]!.depth,
        trials: t.length,
        correct,
        errors: t.filter((x) => x.correct === null).length,
        score: correct / t.length,
        promptTokens: sizes.length ? Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) : null,
      };
    })
    .sort((a, b) => a.contextLength - b.contextLength || a.depth - b.depth);
}

export interface TNeedleJudgement {
  pass: boolean;
  /** Mean of the cell scores. */
  overall: number | null;
  failing: TNeedleCell[];
}

export function judgeNeedleCells(
  cells: readonly TNeedleCell[],
  opts: { minScore: number; mode: 'every_cell' | 'overall' },
): TNeedleJudgement {
  if (cells.length === 0) return { pass: false, overall: null, failing: [] };
  const overall = cells.reduce((a, c) => a + c.score, 0) / cells.length;
  const failing = cells.filter((c) => c.score < opts.minScore);
  const pass = opts.mode === 'every_cell' ? failing.length === 0 : overall >= opts.minScore;
  return { pass, overall, failing };
}

/** "8K" / "128K" / "1M" labels for context lengths (binary K as engines use: 8192 = 8K). */
export function contextLabel(tokens: number): string {
  if (tokens >= 1_048_576 && tokens % 1_048_576 === 0) return `${tokens / 1_048_576}M`;
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return String(tokens);
}
