// Deterministic number formatting for reason messages: no locale (thousands separators would differ
// between the worker and the browser), at most one decimal.

export function formatNumber(n: number): string {
  const rounded = Math.round(n * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

export function formatPercent(fraction: number): string {
  return `${formatNumber(fraction * 100)}%`;
}

/** 45 → "45 s", 300 → "5 min", 3600 → "60 min", 7200 → "2 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${formatNumber(seconds)} s`;
  if (seconds < 7200) return `${formatNumber(seconds / 60)} min`;
  return `${formatNumber(seconds / 3600)} h`;
}

export function assertValidDate(date: Date, what: string): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new RangeError(`${what} must be a valid Date, got ${String(date)}`);
  }
}
