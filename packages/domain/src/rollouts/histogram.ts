/**
 * Histogram quantiles from Prometheus classic (cumulative) buckets, as Prometheus' own `BucketQuantile`
 * computes them, so a p99 here matches `histogram_quantile(0.99, ...)` on the same numbers.
 *
 * A bucket is `{ le, count }` with `le` its upper bound (Infinity for `+Inf`) and `count` cumulative.
 */
import { counterIncrease } from '../health/counters';

export interface HistogramBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of cumulative buckets. NaN when it is undefined (fewer than 2 buckets, no `+Inf` bucket,
 * a total of 0, q NaN). A quantile that falls in the `+Inf` bucket saturates at the highest finite bound.
 */
export function bucketQuantile(q: number, input: readonly HistogramBucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Sort by bound and merge duplicate bounds (the same `le` from two series that were not summed).
  const merged = new Map<number, number>();
  for (const b of input) merged.set(b.le, (merged.get(b.le) ?? 0) + b.count);
  const buckets = [...merged.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  if (buckets.length < 2) return NaN;
  if (buckets[buckets.length - 1]!.le !== Infinity) return NaN;
  // Cumulative counts can dip through float noise or a scrape between two series: force them monotonic.
  for (let i = 1; i < buckets.length; i++) if (buckets[i]!.count < buckets[i - 1]!.count) buckets[i]!.count = buckets[i - 1]!.count;
  const total = buckets[buckets.length - 1]!.count;
  if (total === 0) return NaN;
  const rank = q * total;
  let b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  if (b < 0) b = buckets.length - 1;
  const start = b === 0 ? 0 : buckets[b - 1]!.le;
  const end = buckets[b]!.le;
  const countPrev = b === 0 ? 0 : buckets[b - 1]!.count;
  const countHere = buckets[b]!.count;
  if (countHere === countPrev) return end;
  return start + (end - start) * ((rank - countPrev) / (countHere - countPrev));
}

/**
 * Per-bucket increase of one series' cumulative histogram across scrapes (each bucket is a counter), the
 * input `bucketQuantile` needs for "p99 over the window". Scrapes whose bucket layout differs from the
 * newest one are left out (an engine restarted with other `--bucket-*` flags).
 */
export function histogramIncrease(scrapes: readonly (readonly HistogramBucket[])[]): HistogramBucket[] | null {
  if (scrapes.length < 2) return null;
  const layout = scrapes[scrapes.length - 1]!.map((b) => b.le).join(',');
  const same = scrapes.filter((s) => s.map((b) => b.le).join(',') === layout);
  if (same.length < 2) return null;
  const bounds = same[same.length - 1]!.map((b) => b.le);
  return bounds.map((le, i) => ({ le, count: counterIncrease(same.map((s) => s[i]!.count)) ?? 0 }));
}

/** Adds bucket sets of several nodes by bound (the `sum by (le)` before `histogram_quantile`). */
export function sumHistograms(sets: readonly (readonly HistogramBucket[])[]): HistogramBucket[] {
  const byLe = new Map<number, number>();
  for (const set of sets) for (const b of set) byLe.set(b.le, (byLe.get(b.le) ?? 0) + b.count);
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}
