import type { TGoodputSlos } from '@fleetplane/contracts';
import { distribution, type TDistribution } from './stats';

/** The per-request facts the metrics need (a subset of TRequestSample). */
export interface TRequestOutcome {
  ok: boolean;
  ttftMs: number | null;
  itlMs: readonly number[];
  e2eMs: number | null;
  /** From the server's usage.prompt_tokens. */
  promptTokens: number | null;
  /** From the server's usage.completion_tokens. */
  completionTokens: number | null;
}

/** TPOT = (latency − ttft) / (output_len − 1), defined only when output_len > 1 (vLLM's definition). */
export function requestTpotMs(o: Pick<TRequestOutcome, 'ttftMs' | 'e2eMs' | 'completionTokens'>): number | null {
  const n = o.completionTokens ?? 0;
  if (n <= 1 || o.ttftMs === null || o.e2eMs === null) return null;
  return (o.e2eMs - o.ttftMs) / (n - 1);
}

/** Whether a successful request meets every given SLO; output_len ≤ 1 counts as TPOT 0 (as in vLLM). */
export function meetsSlos(o: TRequestOutcome, slos: TGoodputSlos): boolean {
  if (!o.ok) return false;
  if (slos.ttftMs !== undefined && !((o.ttftMs ?? o.e2eMs ?? Infinity) <= slos.ttftMs)) return false;
  if (slos.tpotMs !== undefined && !((requestTpotMs(o) ?? 0) <= slos.tpotMs)) return false;
  if (slos.e2elMs !== undefined && !((o.e2eMs ?? Infinity) <= slos.e2elMs)) return false;
  return true;
}

export interface TBenchmarkMetrics {
  total: number;
  completed: number;
  failed: number;
  errorRate: number | null;
  durationS: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  /** completed / duration */
  requestThroughput: number;
  /** total output tokens / duration */
  outputThroughput: number;
  /** (total input + total output) / duration */
  totalTokenThroughput: number;
  /** Null when no SLO was given. */
  goodRequests: number | null;
  /** Requests per second meeting every SLO. */
  goodput: number | null;
  /** goodRequests / total. */
  goodputRatio: number | null;
  ttftMs: TDistribution;
  tpotMs: TDistribution;
  itlMs: TDistribution;
  e2elMs: TDistribution;
}

export interface TBenchmarkOptions {
  /** Wall time of the whole run (first request start to last request end), in ms. */
  durationMs: number;
  percentiles?: readonly number[];
  slos?: TGoodputSlos;
}

/**
 * vLLM's calculate_metrics over one benchmark run. Only successful requests contribute tokens and
 * latencies; failed ones count towards the error rate. Distributions are in milliseconds.
 */
export function calculateBenchmarkMetrics(outcomes: readonly TRequestOutcome[], opts: TBenchmarkOptions): TBenchmarkMetrics {
  if (!(opts.durationMs > 0)) throw new RangeError(`Benchmark duration must be positive, got ${opts.durationMs} ms`);
  const percentiles = opts.percentiles ?? [50, 90, 99];
  const durationS = opts.durationMs / 1000;
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  let completed = 0;
  let totalIn = 0;
  let totalOut = 0;
  for (const o of outcomes) {
    if (!o.ok) continue;
    completed += 1;
    totalIn += o.promptTokens ?? 0;
    totalOut += o.completionTokens ?? 0;
    const tpot = requestTpotMs(o);
    if (tpot !== null) tpots.push(tpot);
    for (const itl of o.itlMs) itls.push(itl);
    if (o.ttftMs !== null) ttfts.push(o.ttftMs);
    if (o.e2eMs !== null) e2els.push(o.e2eMs);
  }
  const hasSlos = opts.slos !== undefined && Object.values(opts.slos).some((v) => v !== undefined);
  const good = hasSlos ? outcomes.filter((o) => meetsSlos(o, opts.slos!)).length : null;
  return {
    total: outcomes.length,
    completed,
    failed: outcomes.length - completed,
    errorRate: outcomes.length ? (outcomes.length - completed) / outcomes.length : null,
    durationS,
    totalInputTokens: totalIn,
    totalOutputTokens: totalOut,
    requestThroughput: completed / durationS,
    outputThroughput: totalOut / durationS,
    totalTokenThroughput: (totalIn + totalOut) / durationS,
    goodRequests: good,
    goodput: good === null ? null : good / durationS,
    goodputRatio: good === null || outcomes.length === 0 ? null : good / outcomes.length,
    ttftMs: distribution(ttfts, percentiles),
    tpotMs: distribution(tpots, percentiles),
    itlMs: distribution(itls, percentiles),
    e2elMs: distribution(e2els, percentiles),
  };
}
