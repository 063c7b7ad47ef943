// Monotonic counter maths shared by ECC bursts and engine token throughput. Counters restart from
// zero when their source restarts (driver reload for volatile ECC, engine restart for
// vllm:generation_tokens_total), so a drop means "reset", and the new value is the increase since
// the reset, as Prometheus' rate() treats it.

function isCounterValue(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Increase from `prev` to `next`, treating a drop as a counter reset. */
export function counterDelta(prev: number, next: number): number {
  return next >= prev ? next - prev : next;
}

/**
 * Total increase across a series ordered oldest first. null/invalid values are skipped (not
 * reported), not treated as zero. Returns null when fewer than two valid values exist.
 */
export function counterIncrease(values: readonly (number | null)[]): number | null {
  let prev: number | null = null;
  let total = 0;
  let pairs = 0;
  for (const v of values) {
    if (!isCounterValue(v)) continue;
    if (prev !== null) {
      total += counterDelta(prev, v);
      pairs += 1;
    }
    prev = v;
  }
  return pairs === 0 ? null : total;
}

export interface CounterSample {
  sampledAt: Date;
  value: number | null;
}

/**
 * Per-second rate of a token counter between two scrapes, e.g. vllm:generation_tokens_total.
 * null when either value is missing or invalid, or when the samples are not strictly in time order
 * (a duplicate or reordered scrape carries no rate information).
 */
export function tokensPerSecond(prev: CounterSample | null, next: CounterSample | null): number | null {
  if (!prev || !next || !isCounterValue(prev.value) || !isCounterValue(next.value)) return null;
  const seconds = (next.sampledAt.getTime() - prev.sampledAt.getTime()) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  return counterDelta(prev.value, next.value) / seconds;
}

/**
 * Cluster throughput: the sum of each engine's rate. Engines without a usable pair are left out;
 * null when no engine has one, so "no data" is never shown as 0 tokens/s.
 */
export function clusterTokensPerSecond(engines: readonly { prev: CounterSample | null; next: CounterSample | null }[]): number | null {
  let total: number | null = null;
  for (const { prev, next } of engines) {
    const rate = tokensPerSecond(prev, next);
    if (rate !== null) total = (total ?? 0) + rate;
  }
  return total;
}
