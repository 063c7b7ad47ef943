import type { TRequestSample, TToolCallingCheck, TToolCase } from '@fleetplane/contracts';
import { atLeast, evaluateToolCall } from '@fleetplane/domain';
import { chatCompletion, newRequestId } from '../client/chat-client';
import { TOOL_CASES, toolsFor } from '../data/tool-cases';
import { runPool } from './pool';
import { allFailedOutcome, cancelledOutcome, clip, listWithMore, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

/** Tool calls must exist, name the right tool, and carry JSON arguments that satisfy its schema. */
export async function runToolCallingCheck(check: TToolCallingCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const p = check.params;
  const unknown = (p.caseIds ?? []).filter((id) => !TOOL_CASES.some((c) => c.id === id));
  if (unknown.length)
    return { verdict: 'error', score: null, metrics: {}, samples: [], explanation: `Unknown tool-calling case ids: ${unknown.join(', ')}` };
  const cases = p.caseIds ? p.caseIds.map((id) => TOOL_CASES.find((c) => c.id === id)!) : [...TOOL_CASES];
  const items: { c: TToolCase; mode: 'non_stream' | 'stream'; repeat: number }[] = [];
  for (let repeat = 0; repeat < p.repeats; repeat += 1) for (const c of cases) for (const mode of p.modes) items.push({ c, mode, repeat });
  env.progress.setTotal(items.length);

  const { results, cancelled } = await runPool(
    items,
    async ({ c, mode, repeat }) => {
      const offered = toolsFor(c.offeredTools);
      const o = await chatCompletion(
        env.conn,
        {
          model: env.target.servedModelName,
          messages: [{ role: 'user', content: c.prompt }],
          tools: offered,
          tool_choice: 'auto',
          max_tokens: p.maxTokens,
          temperature: 0,
          stream: mode === 'stream',
        },
        { requestId: newRequestId('tool') },
      );
      const verdict = o.ok
        ? evaluateToolCall({ offered, expectedTool: c.expectedTool, expectedArguments: c.expectedArguments, calls: o.toolCalls })
        : null;
      const sample: TRequestSample = {
        ...sampleFromOutcome(o, env.t0),
        caseId: c.id,
        mode,
        repeat,
        expected: c.expectedTool,
        got: clip(o.toolCalls.length ? o.toolCalls.map((t) => `${t.name}(${t.arguments})`).join('; ') : o.content),
        correct: verdict?.ok ?? false,
        problems: (verdict ? verdict.problems : [`request failed: ${o.error}`]).map((x) => clip(x)),
      };
      return sample;
    },
    { workers: Math.min(p.parallelism, env.target.concurrencyCap), signal: env.signal, onSettled: () => env.progress.tick() },
  );
  const samples = results.filter((s): s is TRequestSample => s !== undefined);
  if (cancelled) return cancelledOutcome('the tool-calling check', env.progress.snapshot, {}, samples);

  const passed = samples.filter((s) => s.correct).length;
  const passRate = passed / samples.length;
  const byMode: Record<string, { passed: number; total: number }> = {};
  for (const s of samples) {
    const m = (byMode[s.mode!] ??= { passed: 0, total: 0 });
    m.total += 1;
    if (s.correct) m.passed += 1;
  }
  const metrics = { passRate, passed, total: samples.length, byMode, cases: cases.map((c) => c.id) };
  const allFailed = allFailedOutcome('tool-calling', samples, metrics);
  if (allFailed) return allFailed;

  const limit = atLeast(`Tool calls ${passed}/${samples.length} correct`, passRate, check.thresholds.minPassRate, 'ratio');
  const lines = [
    limit.text,
    `By mode: ${Object.entries(byMode)
      .map(([m, v]) => `${m} ${v.passed}/${v.total}`)
      .join(', ')}`,
  ];
  const problems = samples
    .filter((s) => !s.correct)
    .map((s) => `${s.caseId} (${s.mode === 'stream' ? 'streaming' : 'non-streaming'}): ${(s.problems ?? []).join('; ')}`);
  if (problems.length) lines.push('Problems:', ...listWithMore(problems).map((x) => `- ${x}`));
  return { verdict: limit.ok ? 'pass' : 'fail', score: passRate, metrics, samples, explanation: lines.join('\n') };
}
