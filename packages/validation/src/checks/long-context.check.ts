import type { TLongContextCheck, TRequestSample } from '@fleetplane/contracts';
import { contextLabel, judgeNeedleCells, scoreNeedleAnswer, summariseNeedleCells } from '@fleetplane/domain';
import { chatCompletion, newRequestId } from '../client/chat-client';
import { buildHaystack } from '../data/haystack';
import { runPool } from './pool';
import { allFailedOutcome, cancelledOutcome, clip, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

/**
 * Prompt size for a cell: the requested length, kept clear of the server's limit by the answer
 * budget plus a margin (a real tokenizer may count our text a little differently).
 */
export function haystackTargetTokens(length: number, maxContextTokens: number, maxTokens: number): number {
  const ceiling = maxContextTokens - maxTokens - Math.ceil(maxContextTokens * 0.02) - 64;
  return Math.max(256, Math.min(length, ceiling));
}

/** Needle retrieval per (context length, depth) cell; prompt sizes are read from the endpoint's usage. */
export async function runLongContextCheck(check: TLongContextCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const p = check.params;
  const max = env.target.maxContextTokens;
  const requested = [...new Set(p.contextLengths.map((l) => (l === 'max' ? max : l)))].sort((a, b) => a - b);
  const lengths = requested.filter((l) => l <= max);
  const skipped = requested.filter((l) => l > max);
  const depths = [...new Set(p.depths)].sort((a, b) => a - b);
  const notes = skipped.map((l) => `Skipped ${contextLabel(l)} (${l} tokens): above the cluster's maximum of ${max} tokens.`);
  if (lengths.length === 0) {
    return {
      verdict: 'skipped',
      score: null,
      metrics: { skippedLengths: skipped },
      samples: [],
      explanation: `Nothing to run. ${notes.join(' ')}`,
    };
  }

  const items = lengths.flatMap((length) =>
    depths.flatMap((depth) => Array.from({ length: p.repeats }, (_, repeat) => ({ length, depth, repeat }))),
  );
  env.progress.setTotal(items.length);
  const { results, cancelled } = await runPool(
    items,
    async ({ length, depth, repeat }) => {
      // Built per request so at most `workers` long prompts are in memory at once.
      const hay = buildHaystack({ targetTokens: haystackTargetTokens(length, max, p.maxTokens), depth, seed: p.seed + repeat });
      const o = await chatCompletion(
        env.conn,
        {
          model: env.target.servedModelName,
          messages: [{ role: 'user', content: hay.prompt }],
          max_tokens: p.maxTokens,
          temperature: 0,
          chat_template_kwargs: { thinking: p.thinking },
        },
        { requestId: newRequestId('needle') },
      );
      const score = o.ok ? scoreNeedleAnswer(hay.code, o.content) : null;
      const sample: TRequestSample = {
        ...sampleFromOutcome(o, env.t0),
        caseId: `${contextLabel(length)}@${Math.round(depth * 100)}%`,
        repeat,
        contextLength: length,
        depth,
        expected: hay.code,
        got: clip(o.content),
        correct: score?.correct ?? false,
      };
      return sample;
    },
    { workers: Math.min(p.parallelism, env.target.concurrencyCap), signal: env.signal, onSettled: () => env.progress.tick() },
  );
  const samples = results.filter((s): s is TRequestSample => s !== undefined);
  if (cancelled) return cancelledOutcome('the long-context check', env.progress.snapshot, {}, samples);

  const cells = summariseNeedleCells(
    samples.map((s) => ({
      contextLength: s.contextLength!,
      depth: s.depth!,
      correct: s.ok ? s.correct! : null,
      promptTokens: s.promptTokens,
    })),
  );
  const judged = judgeNeedleCells(cells, check.thresholds);
  const metrics = {
    overallScore: judged.overall,
    cells: cells.map((c) => ({ ...c, label: `${contextLabel(c.contextLength)}@${Math.round(c.depth * 100)}%` })),
    lengths,
    depths,
    skippedLengths: skipped,
    mode: check.thresholds.mode,
    minScore: check.thresholds.minScore,
  };
  const allFailed = allFailedOutcome('long-context', samples, metrics);
  if (allFailed) return allFailed;

  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const lines: string[] = [];
  const rule =
    check.thresholds.mode === 'every_cell'
      ? `every cell must reach ${pct(check.thresholds.minScore)}`
      : `the mean over cells must reach ${pct(check.thresholds.minScore)}`;
  lines.push(
    `Needle retrieval ${pct(judged.overall ?? 0)} overall over ${cells.length} cells (${rule}): ${judged.pass ? 'pass' : 'fail'}.`,
  );
  for (const length of lengths) {
    const row = cells.filter((c) => c.contextLength === length);
    const sizes = row.map((c) => c.promptTokens).filter((x): x is number => x !== null);
    const size = sizes.length ? `${Math.min(...sizes)}–${Math.max(...sizes)} prompt tokens` : 'no prompt size reported';
    lines.push(
      `${contextLabel(length)} (${size}): ${row.map((c) => `${pct(c.depth)} ${c.correct}/${c.trials}${c.errors ? ` (${c.errors} errors)` : ''}`).join(', ')}`,
    );
  }
  if (judged.failing.length)
    lines.push(
      `Failing cells: ${judged.failing.map((c) => `${contextLabel(c.contextLength)} at depth ${pct(c.depth)} (score ${pct(c.score)})`).join(', ')}.`,
    );
  const errors = samples.filter((s) => !s.ok);
  if (errors.length) lines.push(`${errors.length} requests failed, e.g. ${errors[0]!.caseId}: ${errors[0]!.error}`);
  lines.push(...notes);
  return { verdict: judged.pass ? 'pass' : 'fail', score: judged.overall, metrics, samples, explanation: lines.join('\n') };
}
