import type { TMetricUnit, TVerdict } from '@fleetplane/contracts';
import { formatMetric } from './format';

export interface TLimitOutcome {
  label: string;
  value: number | null;
  limit: number;
  kind: 'max' | 'min';
  ok: boolean;
  /** "TTFT p99 at concurrency 4: 412 ms (limit ≤ 300 ms): fail" */
  text: string;
}

function outcome(label: string, value: number | null, limit: number, kind: 'max' | 'min', unit: TMetricUnit): TLimitOutcome {
  const ok = value !== null && Number.isFinite(value) && (kind === 'max' ? value <= limit : value >= limit);
  const shown = value === null ? 'no data' : formatMetric(value, unit);
  return {
    label,
    value,
    limit,
    kind,
    ok,
    text: `${label}: ${shown} (limit ${kind === 'max' ? '≤' : '≥'} ${formatMetric(limit, unit)}): ${ok ? 'pass' : 'fail'}`,
  };
}

/** A metric that must not exceed a limit; missing data never passes. */
export function atMost(label: string, value: number | null, limit: number, unit: TMetricUnit): TLimitOutcome {
  return outcome(label, value, limit, 'max', unit);
}

/** A metric that must reach a floor; missing data never passes. */
export function atLeast(label: string, value: number | null, limit: number, unit: TMetricUnit): TLimitOutcome {
  return outcome(label, value, limit, 'min', unit);
}

export interface TVerdictInput {
  key: string;
  required: boolean;
  verdict: TVerdict;
}

/**
 * A run passes when every required check passes. Otherwise the worst required outcome wins:
 * fail, then error, then skipped (e.g. cancelled). Optional checks never change the verdict.
 */
export function runVerdict(checks: readonly TVerdictInput[]): TVerdict {
  const required = checks.filter((c) => c.required);
  if (checks.length === 0) return 'skipped';
  if (required.some((c) => c.verdict === 'fail')) return 'fail';
  if (required.some((c) => c.verdict === 'error')) return 'error';
  if (required.some((c) => c.verdict === 'skipped')) return 'skipped';
  return 'pass';
}

/** One plain sentence about a run: "Pass: all 6 required checks passed." or which ones did not. */
export function summariseRun(checks: readonly TVerdictInput[]): string {
  const verdict = runVerdict(checks);
  const required = checks.filter((c) => c.required);
  const optionalBad = checks.filter((c) => !c.required && c.verdict !== 'pass').map((c) => `${c.key} (${c.verdict})`);
  const tail = optionalBad.length ? ` Optional checks not passing: ${optionalBad.join(', ')}.` : '';
  if (verdict === 'pass') return `Pass: all ${required.length} required checks passed.${tail}`;
  const bad = required.filter((c) => c.verdict !== 'pass').map((c) => `${c.key} (${c.verdict})`);
  const head = verdict === 'fail' ? 'Fail' : verdict === 'error' ? 'Error' : 'Skipped';
  return `${head}: ${required.length - bad.length} of ${required.length} required checks passed; not passing: ${bad.join(', ')}.${tail}`;
}
