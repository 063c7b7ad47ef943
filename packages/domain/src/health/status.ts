import { HEALTH_STATUSES, type HealthReason, type HealthStatus, type ReasonSeverity } from './types';

// "Worst" is one total order used everywhere (GPU → node → cluster, sorting in the UI):
// healthy < unknown < warning < critical < offline.
// unknown ranks above healthy because "we cannot vouch for it" must never hide behind a green
// badge, and below warning because nothing is known to be wrong. offline ranks above critical
// because an offline node hides whatever its GPUs are doing, critical or not.
const STATUS_RANK: Record<HealthStatus, number> = { healthy: 0, unknown: 1, warning: 2, critical: 3, offline: 4 };

export function statusRank(status: HealthStatus): number {
  return STATUS_RANK[status];
}

/** The worst of `statuses` by the order above; `fallback` when the list is empty. */
export function worstStatus<T extends HealthStatus>(statuses: readonly T[], fallback: T): T {
  let worst = fallback;
  let first = true;
  for (const s of statuses) {
    if (first || STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
    first = false;
  }
  return worst;
}

export function severityRank(severity: ReasonSeverity): number {
  return severity === 'critical' ? 2 : 1;
}

/** Status implied by a list of reasons: the worst severity, or healthy when there is none. */
export function statusFromReasons(reasons: readonly HealthReason[]): 'healthy' | ReasonSeverity {
  let status: 'healthy' | ReasonSeverity = 'healthy';
  for (const r of reasons) {
    if (r.severity === 'critical') return 'critical';
    status = 'warning';
  }
  return status;
}

/** Tally per status, every status present (zero when absent) so dashboards need no defaults. */
export function countByHealth(statuses: readonly HealthStatus[]): Record<HealthStatus, number> {
  const counts = Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<HealthStatus, number>;
  for (const s of statuses) {
    if (!(s in counts)) throw new RangeError(`Unknown health status "${String(s)}"`);
    counts[s] += 1;
  }
  return counts;
}
