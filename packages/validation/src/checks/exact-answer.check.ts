import type { TExactAnswerCheck, TExactAnswerTask, TRequestSample } from '@fleetplane/contracts';
import { atLeast, formatExpected, scoreExactAnswer } from '@fleetplane/domain';
import { chatCompletion, newRequestId } from '../client/chat-client';
import { EXACT_ANSWER_TASKS } from '../data/exact-answer-tasks';
import { runPool } from './pool';
import { allFailedOutcome, cancelledOutcome, clip, listWithMore, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

export function selectExactAnswerTasks(params: TExactAnswerCheck['params']): { tasks: TExactAnswerTask[]; unknown: string[] } {
  let tasks = [...EXACT_ANSWER_TASKS];
  const unknown: string[] = [];
  if (params.taskIds) {
    unknown.push(...params.taskIds.filter((id) => !EXACT_ANSWER_TASKS.some((t) => t.id === id)));
    tasks = params.taskIds.map((id) => EXACT_ANSWER_TASKS.find((t) => t.id === id)).filter((t): t is TExactAnswerTask => !!t);
  }
  if (params.categories) tasks = tasks.filter((t) => params.categories!.includes(t.category));
  if (params.limit) tasks = tasks.slice(0, params.limit);
  return { tasks, unknown };
}

/** Accuracy over shipped tasks with known answers; repeats measure the run-to-run noise. */
export async function runExactAnswerCheck(check: TExactAnswerCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const p = check.params;
  const { tasks, unknown } = selectExactAnswerTasks(p);
  if (unknown.length)
    return { verdict: 'error', score: null, metrics: {}, samples: [], explanation: `Unknown exact-answer task ids: ${unknown.join(', ')}` };
  if (tasks.length === 0)
    return { verdict: 'error', score: null, metrics: {}, samples: [], explanation: 'No exact-answer tasks match the check parameters.' };

  const items = Array.from({ length: p.repeats }, (_, repeat) => tasks.map((task) => ({ task, repeat }))).flat();
  env.progress.setTotal(items.length);
  const { results, cancelled } = await runPool(
    items,
    async ({ task, repeat }) => {
      const o = await chatCompletion(
        env.conn,
        {
          model: env.target.servedModelName,
          messages: [{ role: 'user', content: task.prompt }],
          max_tokens: p.maxTokens,
          temperature: p.temperature,
          chat_template_kwargs: { thinking: p.thinking },
        },
        { requestId: newRequestId('exact') },
      );
      const s = o.ok ? scoreExactAnswer(task.expected, o.content) : null;
      const sample: TRequestSample = {
        ...sampleFromOutcome(o, env.t0),
        caseId: task.id,
        repeat,
        expected: formatExpected(task.expected),
        got: clip(o.ok ? s!.extracted : ''),
        correct: s?.correct ?? false,
        ...(s && !s.correct ? { problems: [clip(s.reason)] } : {}),
      };
      return sample;
    },
    { workers: Math.min(p.parallelism, env.target.concurrencyCap), signal: env.signal, onSettled: () => env.progress.tick() },
  );
  const samples = results.filter((s): s is TRequestSample => s !== undefined);
  if (cancelled) return cancelledOutcome('the exact-answer check', env.progress.snapshot, {}, samples);

  const correct = samples.filter((s) => s.correct).length;
  const accuracy = correct / samples.length;
  const repeatAccuracies = Array.from({ length: p.repeats }, (_, r) => {
    const rs = samples.filter((s) => s.repeat === r);
    return rs.filter((s) => s.correct).length / rs.length;
  });
  const byCategory: Record<string, { correct: number; total: number; accuracy: number }> = {};
  for (const s of samples) {
    const cat = tasks.find((t) => t.id === s.caseId)!.category;
    const c = (byCategory[cat] ??= { correct: 0, total: 0, accuracy: 0 });
    c.total += 1;
    if (s.correct) c.correct += 1;
    c.accuracy = c.correct / c.total;
  }
  const metrics = {
    accuracy,
    correct,
    total: samples.length,
    errors: samples.filter((s) => !s.ok).length,
    tasks: tasks.length,
    repeats: p.repeats,
    repeatAccuracies,
    byCategory,
  };
  const allFailed = allFailedOutcome('exact-answer', samples, metrics);
  if (allFailed) return allFailed;

  const limit = atLeast(`Accuracy ${correct}/${samples.length}`, accuracy, check.thresholds.minAccuracy, 'ratio');
  const failures = samples
    .filter((s) => !s.correct)
    .map(
      (s) =>
        `${s.caseId}${p.repeats > 1 ? ` (repeat ${s.repeat! + 1})` : ''}: expected ${s.expected}, got ${s.ok ? JSON.stringify(s.got) : `an error (${s.error})`}`,
    );
  const lines = [limit.text];
  if (p.repeats > 1) lines.push(`Per-repeat accuracy: ${repeatAccuracies.map((a) => `${(a * 100).toFixed(1)}%`).join(', ')}`);
  if (failures.length) lines.push('Wrong answers:', ...listWithMore(failures).map((f) => `- ${f}`));
  return { verdict: limit.ok ? 'pass' : 'fail', score: accuracy, metrics, samples, explanation: lines.join('\n') };
}
