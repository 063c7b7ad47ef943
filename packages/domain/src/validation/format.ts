import type { TMetricUnit } from '@fleetplane/contracts';

function trim(n: number, digits: number): string {
  return n.toFixed(digits);
}

/** A value in its unit for explanations: "412 ms", "41.2 ms", "95.0%", "1234.5 tok/s". */
export function formatMetric(value: number | null, unit: TMetricUnit): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return `${trim(value, Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)} ms`;
    case 'ratio':
      return `${trim(value * 100, 1)}%`;
    case 'percent':
      return `${trim(value, 1)}%`;
    case 'tok/s':
      return `${trim(value, 1)} tok/s`;
    case 'req/s':
      return `${trim(value, 2)} req/s`;
    case 'count':
      return Number.isInteger(value) ? String(value) : trim(value, 2);
  }
}

/** A signed difference in a unit: "+32 ms", "−2.0 points" (ratios differ in points). */
export function formatDelta(delta: number, unit: TMetricUnit): string {
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  const abs = Math.abs(delta);
  if (unit === 'ratio') return `${sign}${trim(abs * 100, 1)} points`;
  return `${sign}${formatMetric(abs, unit)}`;
}

/** "+8.4%" */
export function formatPct(pct: number): string {
  const sign = pct > 0 ? '+' : pct < 0 ? '−' : '±';
  return `${sign}${trim(Math.abs(pct), 1)}%`;
}

/** "+10%" without needless decimals for limits people typed. */
export function formatLimitPct(pct: number, sign: '+' | '−'): string {
  return `${sign}${Number.isInteger(pct) ? pct : trim(pct, 1)}%`;
}
