/**
 * Descriptive statistics exactly as vLLM's benchmark reports them: numpy's default percentile
 * ("linear" interpolation), np.mean, np.median and np.std (population, ddof = 0).
 */

/** numpy's lerp: it switches form at t >= 0.5 so that results at the upper end stay exact. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((x, y) => x - y);
}

function assertFinite(values: readonly number[]): void {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`Statistics need finite numbers, got ${v}`);
}

/** Percentile p (0–100) of values with numpy's default linear interpolation; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`Percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return null;
  assertFinite(values);
  return percentileOfSorted(sortedCopy(values), p);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return lerp(sorted[lo]!, sorted[hi]!, h - lo);
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  assertFinite(values);
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

/** Standard deviation; ddof 0 (np.std's default) unless told otherwise. */
export function stddev(values: readonly number[], ddof: 0 | 1 = 0): number | null {
  const m = mean(values);
  if (m === null || values.length - ddof <= 0) return null;
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - ddof));
}

/** Key under which a percentile is reported: 99 → "p99", 99.9 → "p99_9" (no dots, so metric paths stay unambiguous). */
export function percentileKey(p: number): string {
  return `p${String(Number(p.toFixed(6))).replace('.', '_')}`;
}

export interface TDistribution {
  count: number;
  mean: number | null;
  median: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Keyed by percentileKey, e.g. { p50, p90, p99 }. */
  percentiles: Record<string, number | null>;
}

/**
 * Mean, median, std and the requested percentiles of one metric. vLLM substitutes 0 for an empty
 * list; we report null instead so that "no data" can never pass a latency limit.
 */
export function distribution(values: readonly number[], percentiles: readonly number[] = [50, 90, 99]): TDistribution {
  assertFinite(values);
  const sorted = sortedCopy(values);
  const pcts: Record<string, number | null> = {};
  for (const p of percentiles) {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`Percentile must be within 0..100, got ${p}`);
    pcts[percentileKey(p)] = sorted.length ? percentileOfSorted(sorted, p) : null;
  }
  return {
    count: sorted.length,
    mean: mean(sorted),
    median: sorted.length ? percentileOfSorted(sorted, 50) : null,
    std: stddev(sorted),
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
    percentiles: pcts,
  };
}
