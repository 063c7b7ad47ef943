import type { TPerformanceCheck, TRequestSample } from '@fleetplane/contracts';
import { atLeast, atMost, calculateBenchmarkMetrics, formatMetric, type TDistribution, type TLimitOutcome } from '@fleetplane/domain';
import { createEndpointAgent } from '../client/chat-client';
import { runLoadLevel } from './load';
import { cancelledOutcome, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

/** Distribution as stored metrics: percentiles spread out so gates can address levels.8.ttftMs.p99. */
function flatten(d: TDistribution): Record<string, number | null> {
  const { percentiles, ...rest } = d;
  return { ...rest, ...percentiles };
}

/** Streaming load at each concurrency level, measured and aggregated exactly as vLLM's benchmark does. */
export async function runPerformanceCheck(check: TPerformanceCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const p = check.params;
  const t = check.thresholds;
  const cap = env.target.concurrencyCap;
  const notes: string[] = [];
  const levels: number[] = [];
  for (const c of p.concurrencyLevels) {
    const eff = Math.min(c, cap);
    if (eff !== c) notes.push(`Concurrency ${c} was limited to the cluster's validation cap of ${cap}.`);
    if (!levels.includes(eff)) levels.push(eff);
  }
  levels.sort((a, b) => a - b);
  if (t.minGoodputRatio !== undefined && !p.slos) {
    return {
      verdict: 'error',
      score: null,
      metrics: {},
      samples: [],
      explanation: 'thresholds.minGoodputRatio needs params.slos (ttftMs/tpotMs/e2elMs) to define a good request.',
    };
  }
  const percentiles = [...new Set([...p.percentiles, 99])].sort((a, b) => a - b);
  const perLevel = levels.map((c) => ({ c, n: p.requestsPerLevel ?? p.requestsPerSlot * c }));
  env.progress.setTotal(perLevel.reduce((a, l) => a + l.n, 0));

  // One keep-alive pool for every level, as many sockets as the highest level has streams: connections
  // opened for one level are reused by the next instead of being handshaken again mid-measurement.
  const agent = createEndpointAgent(env.conn.baseUrl, levels.at(-1)!);
  try {
    return await measureLevels(check, env, { ...env.conn, agent }, perLevel, levels, percentiles, notes);
  } finally {
    agent.destroy();
  }
}

async function measureLevels(
  check: TPerformanceCheck,
  env: TCheckEnv,
  conn: TCheckEnv['conn'],
  perLevel: { c: number; n: number }[],
  levels: number[],
  percentiles: number[],
  notes: string[],
): Promise<TCheckOutcome> {
  const p = check.params;
  const t = check.thresholds;
  const samples: TRequestSample[] = [];
  const levelMetrics: Record<string, Record<string, unknown>> = {};
  const limits: TLimitOutcome[] = [];
  const summaries: string[] = [];
  for (const { c, n } of perLevel) {
    const run = await runLoadLevel(conn, {
      model: env.target.servedModelName,
      concurrency: c,
      requests: n,
      inputTokens: p.inputTokens,
      outputTokens: p.outputTokens,
      maxDurationMs: p.maxDurationSPerLevel !== undefined ? p.maxDurationSPerLevel * 1000 : undefined,
      signal: env.signal,
      requestIdPrefix: `perf-c${c}`,
      onSettled: () => env.progress.tick(),
    });
    for (const o of run.outcomes) samples.push({ ...sampleFromOutcome(o, run.startedAt), concurrency: c, caseId: `c${c}` });
    if (run.cancelled) return cancelledOutcome('the performance check', env.progress.snapshot, { levels: levelMetrics }, samples);

    const outcomes = run.outcomes.map((o) => ({
      ok: o.ok,
      ttftMs: o.ttftMs,
      itlMs: o.itlMs,
      e2eMs: o.e2eMs,
      promptTokens: o.usage?.promptTokens ?? null,
      completionTokens: o.usage?.completionTokens ?? null,
    }));
    const m = calculateBenchmarkMetrics(outcomes, { durationMs: run.durationMs, percentiles, slos: p.slos });
    const wrongLength = run.outcomes.filter((o) => o.ok && o.usage && o.usage.completionTokens !== p.outputTokens).length;
    const missingUsage = run.outcomes.filter((o) => o.ok && !o.usage).length;
    if (wrongLength)
      notes.push(
        `At concurrency ${c}, ${wrongLength} responses did not have exactly ${p.outputTokens} output tokens (does the server honour ignore_eos?).`,
      );
    if (missingUsage) notes.push(`At concurrency ${c}, ${missingUsage} streams ended without a usage chunk; their tokens count as 0.`);
    levelMetrics[String(c)] = {
      concurrency: c,
      requests: n,
      total: m.total,
      completed: m.completed,
      failed: m.failed,
      errorRate: m.errorRate,
      durationS: m.durationS,
      totalInputTokens: m.totalInputTokens,
      totalOutputTokens: m.totalOutputTokens,
      requestThroughput: m.requestThroughput,
      outputThroughput: m.outputThroughput,
      totalTokenThroughput: m.totalTokenThroughput,
      goodRequests: m.goodRequests,
      goodput: m.goodput,
      goodputRatio: m.goodputRatio,
      ttftMs: flatten(m.ttftMs),
      tpotMs: flatten(m.tpotMs),
      itlMs: flatten(m.itlMs),
      e2elMs: flatten(m.e2elMs),
    };
    summaries.push(
      `Concurrency ${c}: ${m.completed}/${m.total} ok in ${m.durationS.toFixed(1)} s, TTFT p99 ${formatMetric(m.ttftMs.percentiles.p99 ?? null, 'ms')}, TPOT p99 ${formatMetric(m.tpotMs.percentiles.p99 ?? null, 'ms')}, ${formatMetric(m.outputThroughput, 'tok/s')} out, ${formatMetric(m.requestThroughput, 'req/s')}`,
    );
    const at = `at concurrency ${c}`;
    limits.push(atMost(`Error rate ${at}`, m.errorRate, t.maxErrorRate, 'ratio'));
    if (t.maxTtftP99Ms !== undefined) limits.push(atMost(`TTFT p99 ${at}`, m.ttftMs.percentiles.p99 ?? null, t.maxTtftP99Ms, 'ms'));
    if (t.maxTpotP99Ms !== undefined) limits.push(atMost(`TPOT p99 ${at}`, m.tpotMs.percentiles.p99 ?? null, t.maxTpotP99Ms, 'ms'));
    if (t.maxItlP99Ms !== undefined) limits.push(atMost(`ITL p99 ${at}`, m.itlMs.percentiles.p99 ?? null, t.maxItlP99Ms, 'ms'));
    if (t.minGoodputRatio !== undefined)
      limits.push(atLeast(`Requests meeting the SLOs ${at}`, m.goodputRatio, t.minGoodputRatio, 'ratio'));
  }

  // Throughput floors are judged at peak load: the highest concurrency that ran.
  const top = levelMetrics[String(levels.at(-1)!)]!;
  if (t.minOutputThroughputTokS !== undefined)
    limits.push(
      atLeast(`Output throughput at concurrency ${top.concurrency}`, top.outputThroughput as number, t.minOutputThroughputTokS, 'tok/s'),
    );
  if (t.minRequestThroughput !== undefined)
    limits.push(
      atLeast(`Request throughput at concurrency ${top.concurrency}`, top.requestThroughput as number, t.minRequestThroughput, 'req/s'),
    );

  const failed = limits.filter((l) => !l.ok);
  const lines = [
    failed.length ? `Performance limits not met: ${failed.length} of ${limits.length}.` : `All ${limits.length} performance limits met.`,
    ...limits.map((l) => l.text),
    ...summaries,
    ...notes,
  ];
  return {
    verdict: failed.length ? 'fail' : 'pass',
    score: null,
    metrics: {
      levels: levelMetrics,
      concurrencyLevels: levels,
      inputTokens: p.inputTokens,
      outputTokens: p.outputTokens,
      slos: p.slos ?? null,
      percentiles,
    },
    samples,
    explanation: lines.join('\n'),
  };
}
