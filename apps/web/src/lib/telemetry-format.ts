// Display helpers for telemetry: null is "not reported" and renders as an em dash, never as 0.

export function fmtPercent(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)}%`;
}

export function fmtFraction(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(0)}%`;
}

export function fmtWatts(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} kW` : `${Math.round(v)} W`;
}

export function fmtRate(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k/s` : `${v.toFixed(v >= 10 ? 0 : 1)}/s`;
}

export function fmtGiB(mib: number | null | undefined): string {
  return mib === null || mib === undefined ? '—' : `${(mib / 1024).toFixed(mib >= 10_240 ? 0 : 1)} GiB`;
}

export function fmtTime(d: Date | string): string {
  return new Date(d).toISOString().slice(11, 19);
}

/** Utilisation 0–100 to a bar colour that does not mean health (health has its own palette). */
export function barWidth(v: number | null | undefined, max = 100): string {
  if (v === null || v === undefined || !Number.isFinite(v) || max <= 0) return '0%';
  return `${Math.min(100, Math.max(0, (v / max) * 100))}%`;
}
