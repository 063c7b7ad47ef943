import type { TReasoningMode, TReasoningModesCheck, TReasoningPrompt, TRequestSample } from '@fleetplane/contracts';
import { formatExpected, scoreExactAnswer } from '@fleetplane/domain';
import { chatCompletion, newRequestId } from '../client/chat-client';
import { REASONING_PROMPTS } from '../data/reasoning-prompts';
import { runPool } from './pool';
import { allFailedOutcome, cancelledOutcome, clip, listWithMore, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

/**
 * The same prompts in non-thinking and thinking mode: the final answer must be right in both,
 * reasoning must appear only in thinking mode (in the reasoning field, or as <think> in content).
 */
export async function runReasoningModesCheck(check: TReasoningModesCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const p = check.params;
  const t = check.thresholds;
  const unknown = (p.promptIds ?? []).filter((id) => !REASONING_PROMPTS.some((r) => r.id === id));
  if (unknown.length)
    return { verdict: 'error', score: null, metrics: {}, samples: [], explanation: `Unknown reasoning prompt ids: ${unknown.join(', ')}` };
  const prompts = p.promptIds ? p.promptIds.map((id) => REASONING_PROMPTS.find((r) => r.id === id)!) : [...REASONING_PROMPTS];
  const items: { prompt: TReasoningPrompt; mode: TReasoningMode }[] = p.modes.flatMap((mode) =>
    prompts.map((prompt) => ({ prompt, mode })),
  );
  env.progress.setTotal(items.length);

  const { results, cancelled } = await runPool(
    items,
    async ({ prompt, mode }) => {
      const o = await chatCompletion(
        env.conn,
        {
          model: env.target.servedModelName,
          messages: [{ role: 'user', content: prompt.prompt }],
          max_tokens: p.maxTokens,
          temperature: 0,
          stream: true,
          chat_template_kwargs: { thinking: mode === 'thinking' },
        },
        { requestId: newRequestId('reason') },
      );
      const score = o.ok ? scoreExactAnswer(prompt.expected, o.content) : null;
      const hasReasoning = o.reasoning.trim() !== '' || /<think>/i.test(o.content);
      const problems: string[] = [];
      if (!o.ok) problems.push(`request failed: ${o.error}`);
      else {
        if (!score!.correct)
          problems.push(`wrong answer: expected ${formatExpected(prompt.expected)}, got ${JSON.stringify(score!.extracted)}`);
        if (mode === 'non_thinking' && hasReasoning && t.forbidReasoningInNonThinking)
          problems.push('reasoning present in non-thinking mode');
        if (mode === 'thinking' && o.reasoning.trim() === '' && t.requireReasoningInThinking)
          problems.push('no reasoning in thinking mode');
      }
      const sample: TRequestSample = {
        ...sampleFromOutcome(o, env.t0),
        caseId: prompt.id,
        mode,
        expected: formatExpected(prompt.expected),
        got: clip(score?.extracted ?? o.content),
        correct: score?.correct ?? false,
        hasReasoning,
        problems: problems.map((x) => clip(x)),
      };
      return sample;
    },
    { workers: Math.min(p.parallelism, env.target.concurrencyCap), signal: env.signal, onSettled: () => env.progress.tick() },
  );
  const samples = results.filter((s): s is TRequestSample => s !== undefined);
  if (cancelled) return cancelledOutcome('the reasoning-modes check', env.progress.snapshot, {}, samples);

  const byMode: Record<string, { correct: number; total: number; accuracy: number; withReasoning: number }> = {};
  for (const s of samples) {
    const m = (byMode[s.mode!] ??= { correct: 0, total: 0, accuracy: 0, withReasoning: 0 });
    m.total += 1;
    if (s.correct) m.correct += 1;
    if (s.hasReasoning) m.withReasoning += 1;
    m.accuracy = m.correct / m.total;
  }
  const leaks = samples.filter((s) => s.mode === 'non_thinking' && s.ok && s.hasReasoning).length;
  const missing = samples.filter((s) => s.mode === 'thinking' && s.ok && !s.hasReasoning).length;
  const correct = samples.filter((s) => s.correct).length;
  const accuracy = correct / samples.length;
  const metrics = { accuracy, correct, total: samples.length, byMode, reasoningLeaks: leaks, missingReasoning: missing };
  const allFailed = allFailedOutcome('reasoning-modes', samples, metrics);
  if (allFailed) return allFailed;

  const lines: string[] = [];
  let ok = true;
  for (const [mode, m] of Object.entries(byMode)) {
    const pass = m.accuracy >= t.minAccuracy;
    ok &&= pass;
    lines.push(
      `${mode === 'thinking' ? 'Thinking' : 'Non-thinking'}: ${m.correct}/${m.total} correct (limit ≥ ${(t.minAccuracy * 100).toFixed(0)}%), reasoning in ${m.withReasoning}/${m.total}: ${pass ? 'pass' : 'fail'}`,
    );
  }
  if (t.forbidReasoningInNonThinking && leaks > 0) {
    ok = false;
    lines.push(`Reasoning leaked into ${leaks} non-thinking answers: fail`);
  }
  if (t.requireReasoningInThinking && missing > 0) {
    ok = false;
    lines.push(`${missing} thinking-mode answers carried no reasoning: fail`);
  }
  const problems = samples.filter((s) => (s.problems ?? []).length).map((s) => `${s.caseId} (${s.mode}): ${s.problems!.join('; ')}`);
  if (problems.length) lines.push('Problems:', ...listWithMore(problems).map((x) => `- ${x}`));
  return { verdict: ok ? 'pass' : 'fail', score: accuracy, metrics, samples, explanation: lines.join('\n') };
}
