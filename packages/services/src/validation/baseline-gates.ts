import type { TBaselineGate } from '@fleetplane/contracts';
import { getMetricPath, type TMetricsSource } from '@fleetplane/domain';
import { DEFAULT_BASELINE_GATES } from '@fleetplane/validation';

/**
 * Latency differences below this are timer and scheduling noise, not regressions: on a fast endpoint
 * a TPOT of 0.27 ms vs 0.38 ms is "+40%" yet means nothing. The relative limit still rules above it.
 */
export const LATENCY_NOISE_FLOOR_MS = 2;

/**
 * Below this many completed requests at a level, p99 is just the slowest request and one scheduling
 * hiccup decides the gate; such levels are gated on p50 instead (smoke runs 8 requests per level).
 */
export const MIN_REQUESTS_FOR_P99_GATE = 20;

/** The default gates for the checks a suite has, with the latency noise floor applied. */
export function gatesForSuite(checkKeys: Iterable<string>): TBaselineGate[] {
  const keys = new Set(checkKeys);
  return DEFAULT_BASELINE_GATES.filter((g) => keys.has(g.checkKey)).map((g) =>
    g.unit === 'ms' && g.maxRegressionAbs === undefined ? { ...g, maxRegressionAbs: LATENCY_NOISE_FLOOR_MS } : g,
  );
}

function levelsOf(sources: readonly TMetricsSource[], checkKey: string): Record<string, unknown> {
  const levels = getMetricPath(sources.find((s) => s.key === checkKey)?.metrics, 'levels');
  return typeof levels === 'object' && levels !== null ? (levels as Record<string, unknown>) : {};
}

function completed(level: unknown): number {
  const n = getMetricPath(level, 'completed');
  return typeof n === 'number' ? n : 0;
}

/**
 * The gates for one comparison: per-level gates (`levels.*.…`) expanded to the levels both runs
 * have, p99 gates falling back to p50 where either run completed too few requests to measure p99.
 */
export function gatesForComparison(
  checkKeys: Iterable<string>,
  candidate: readonly TMetricsSource[],
  baseline: readonly TMetricsSource[],
): TBaselineGate[] {
  const out: TBaselineGate[] = [];
  for (const g of gatesForSuite(checkKeys)) {
    const cand = levelsOf(candidate, g.checkKey);
    const base = levelsOf(baseline, g.checkKey);
    const common = Object.keys(cand)
      .filter((k) => Object.hasOwn(base, k))
      .sort((a, b) => Number(a) - Number(b));
    // Without common levels compareToBaseline reports the gate as skipped, which says why.
    if (!g.metric.startsWith('levels.*.') || common.length === 0) {
      out.push(g);
      continue;
    }
    for (const level of common) {
      const n = Math.min(completed(cand[level]), completed(base[level]));
      const small = g.metric.endsWith('.p99') && n < MIN_REQUESTS_FOR_P99_GATE;
      const metric = g.metric.replace('*', level).replace(/\.p99$/, small ? '.p50' : '.p99');
      const label = g.label.replace('{*}', level);
      out.push({
        ...g,
        metric,
        label: small ? `${label.replace('p99', 'p50')} (p99 needs ${MIN_REQUESTS_FOR_P99_GATE}+ requests)` : label,
      });
    }
  }
  return out;
}
