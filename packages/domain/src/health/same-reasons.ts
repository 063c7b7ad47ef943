import type { HealthReason } from './types';

const FIELDS = ['code', 'severity', 'message', 'value', 'threshold'] as const;

function canonical(reasons: unknown): string | null {
  if (reasons === null || reasons === undefined) return '[]';
  if (!Array.isArray(reasons)) return null;
  return JSON.stringify(
    reasons.map((r: unknown) => {
      if (typeof r !== 'object' || r === null) return r;
      const o = r as Record<string, unknown>;
      // Fixed field order: Postgres returns jsonb objects with their keys re-ordered (shorter first), so the
      // stored copy of a reason never stringifies like the freshly computed one.
      const known = FIELDS.map((f) => o[f] ?? null);
      const other = Object.keys(o)
        .filter((k) => !(FIELDS as readonly string[]).includes(k))
        .sort()
        .map((k) => [k, o[k]]);
      return other.length > 0 ? [...known, other] : known;
    }),
  );
}

/**
 * Whether a stored verdict's reasons (JSON read back from the database, or null) say the same as freshly
 * computed ones: same reasons in the same order with the same fields, whatever order each object's keys
 * come back in. An absent value/threshold equals a null one.
 */
export function sameHealthReasons(stored: unknown, fresh: readonly HealthReason[]): boolean {
  const a = canonical(stored);
  return a !== null && a === canonical(fresh);
}
