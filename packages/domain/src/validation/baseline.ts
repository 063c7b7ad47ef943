import type { TBaselineComparison, TBaselineGate, TGateResult, TVerdict } from '@fleetplane/contracts';
import { formatDelta, formatLimitPct, formatMetric, formatPct } from './format';
import { stddev } from './stats';

/** The part of a check result a baseline comparison reads. */
export interface TMetricsSource {
  key: string;
  metrics: Record<string, unknown>;
}

export function getMetricPath(metrics: unknown, path: string): unknown {
  let cur: unknown = metrics;
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Concrete paths for a path with `*` segments: every key present in both metric objects. */
export function expandMetricPath(a: unknown, b: unknown, path: string): { path: string; wildcards: string[] }[] {
  const segs = path.split('.');
  const out: { path: string; wildcards: string[] }[] = [];
  const walk = (x: unknown, y: unknown, i: number, done: string[], wild: string[]): void => {
    if (i === segs.length) {
      out.push({ path: done.join('.'), wildcards: wild });
      return;
    }
    const seg = segs[i]!;
    if (seg !== '*') {
      walk(getMetricPath(x, seg), getMetricPath(y, seg), i + 1, [...done, seg], wild);
      return;
    }
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) return;
    const keys = Object.keys(x).filter((k) => Object.hasOwn(y, k));
    const numeric = keys.every((k) => /^\d+(\.\d+)?$/.test(k));
    keys.sort(numeric ? (p, q) => Number(p) - Number(q) : undefined);
    for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], i + 1, [...done, k], [...wild, k]);
  };
  walk(a, b, 0, [], []);
  return out;
}

function asNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function gateLabel(label: string, wildcards: readonly string[]): string {
  if (wildcards.length === 0) return label;
  if (label.includes('{*}')) {
    let i = 0;
    return label.replace(/\{\*\}/g, () => wildcards[Math.min(i++, wildcards.length - 1)]!);
  }
  return `${label} [${wildcards.join(', ')}]`;
}

/**
 * Judges one concrete metric. Regression = how much worse the candidate is (positive = worse).
 * Allowed = the larger of |baseline| × pct/100 and abs, plus k × the sample std dev of the
 * baseline's repeats when a noise metric is given.
 */
export function evaluateGate(input: {
  gate: TBaselineGate;
  metric: string;
  wildcards?: readonly string[];
  baseline: number | null;
  candidate: number | null;
  noiseValues?: readonly number[] | null;
}): TGateResult {
  const { gate, baseline, candidate } = input;
  const label = gateLabel(gate.label, input.wildcards ?? []);
  const common = { label, checkKey: gate.checkKey, metric: input.metric, required: gate.required, baseline, candidate };
  if (baseline === null || candidate === null) {
    const missing =
      baseline === null && candidate === null
        ? 'neither run has it'
        : baseline === null
          ? 'the baseline has no value'
          : 'the candidate has no value';
    return {
      ...common,
      delta: null,
      deltaPct: null,
      allowed: null,
      noise: null,
      verdict: 'skipped',
      explanation: `${label}: not compared, ${missing}`,
    };
  }
  const delta = candidate - baseline;
  const deltaPct = baseline !== 0 ? (delta / Math.abs(baseline)) * 100 : null;
  const regression = gate.better === 'lower' ? delta : -delta;
  const noise =
    input.noiseValues && input.noiseValues.length > 1 ? gate.noiseK * (stddev(input.noiseValues, 1) ?? 0) : gate.noiseMetric ? 0 : null;
  const pctAllowance = gate.maxRegressionPct !== undefined ? (Math.abs(baseline) * gate.maxRegressionPct) / 100 : -Infinity;
  const absAllowance = gate.maxRegressionAbs ?? -Infinity;
  const allowed = Math.max(pctAllowance, absAllowance) + (noise ?? 0);
  // A relative epsilon keeps "exactly at the limit" passing despite floating-point noise.
  const ok = regression <= allowed + 1e-9 * Math.max(1, Math.abs(baseline));
  const verdict: TVerdict = ok ? 'pass' : 'fail';

  const worse = gate.better === 'lower' ? '+' : '−';
  const limits: string[] = [];
  if (gate.maxRegressionPct !== undefined) limits.push(formatLimitPct(gate.maxRegressionPct, worse));
  if (gate.maxRegressionAbs !== undefined)
    limits.push(formatDelta(gate.better === 'lower' ? gate.maxRegressionAbs : -gate.maxRegressionAbs, gate.unit));
  let limitText = `limit ${limits.join(' or ')}`;
  if (noise !== null && gate.noiseMetric) limitText += ` + noise ${formatDelta(noise, gate.unit).replace(/^[+±]/, '')}`;
  const deltaParts: string[] = [];
  if (gate.maxRegressionAbs !== undefined || deltaPct === null) deltaParts.push(formatDelta(delta, gate.unit));
  if (gate.maxRegressionPct !== undefined && deltaPct !== null) deltaParts.push(formatPct(deltaPct));
  const explanation = `${label} ${formatMetric(candidate, gate.unit)} vs baseline ${formatMetric(baseline, gate.unit)} (${deltaParts.join(', ')}, ${limitText}): ${verdict}`;
  return { ...common, delta, deltaPct, allowed, noise, verdict, explanation };
}

export function compareToBaseline(input: {
  candidate: readonly TMetricsSource[];
  baseline: readonly TMetricsSource[];
  gates: readonly TBaselineGate[];
  baselineRunId?: string | null;
}): TBaselineComparison {
  const results: TGateResult[] = [];
  for (const gate of input.gates) {
    const cand = input.candidate.find((c) => c.key === gate.checkKey);
    const base = input.baseline.find((c) => c.key === gate.checkKey);
    const noiseRaw = gate.noiseMetric && base ? getMetricPath(base.metrics, gate.noiseMetric) : null;
    const noiseValues = Array.isArray(noiseRaw) ? noiseRaw.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)) : null;
    const concrete = gate.metric.includes('*')
      ? expandMetricPath(base?.metrics, cand?.metrics, gate.metric)
      : [{ path: gate.metric, wildcards: [] }];
    if (concrete.length === 0) {
      results.push(evaluateGate({ gate, metric: gate.metric, baseline: null, candidate: null }));
      continue;
    }
    for (const { path, wildcards } of concrete) {
      results.push(
        evaluateGate({
          gate,
          metric: path,
          wildcards,
          baseline: base ? asNumber(getMetricPath(base.metrics, path)) : null,
          candidate: cand ? asNumber(getMetricPath(cand.metrics, path)) : null,
          noiseValues,
        }),
      );
    }
  }
  const failed = results.filter((r) => r.required && r.verdict === 'fail');
  const compared = results.filter((r) => r.verdict !== 'skipped');
  const verdict: TVerdict = failed.length ? 'fail' : compared.length ? 'pass' : 'skipped';
  const summary =
    verdict === 'pass'
      ? `Within baseline limits on all ${compared.length} compared metrics.`
      : verdict === 'skipped'
        ? 'Nothing to compare: the baseline and candidate share no gated metric.'
        : `Worse than the baseline beyond the limit on ${failed.length} of ${compared.length} compared metrics: ${failed.map((f) => f.label).join(', ')}.`;
  return { baselineRunId: input.baselineRunId ?? null, verdict, gates: results, summary };
}
