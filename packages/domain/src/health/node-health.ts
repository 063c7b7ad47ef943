import { assertValidDate, formatDuration, formatNumber } from './format';
import { worstStatus } from './status';
import type { ClusterStatus, GpuStatus, HealthReason, HealthResult, NodeStatus } from './types';

/** A node is offline once it has missed this many report intervals in a row. */
export const MISSED_INTERVALS_BEFORE_OFFLINE = 3;

export interface EvaluateNodeHealthInput {
  lastSeenAt: Date | null;
  reportIntervalSeconds: number;
  now: Date;
  gpuStatuses: readonly GpuStatus[];
}

export type NodeHealth = HealthResult<NodeStatus>;

function gpuReason(status: 'critical' | 'warning' | 'unknown', count: number, total: number): HealthReason {
  const code = status === 'critical' ? 'gpu_critical' : status === 'warning' ? 'gpu_warning' : 'gpu_unknown';
  const what = status === 'unknown' ? 'without data' : status;
  return {
    code,
    severity: status === 'critical' ? 'critical' : 'warning',
    message: `${count} of ${total} GPU${total === 1 ? '' : 's'} ${what}`,
    value: count,
  };
}

/**
 * Node health: `unknown` before its first report; `offline` when now − lastSeenAt is more than
 * 3 × the report interval (strictly: exactly three missed intervals is still online, so one late
 * heartbeat never flips it); otherwise the worst status of its GPUs. A reporting node without GPUs
 * (an Apple/MLX host, or an agent that sees none) is healthy: liveness is all we can judge there.
 */
export function evaluateNodeHealth(input: EvaluateNodeHealthInput): NodeHealth {
  assertValidDate(input.now, 'now');
  const { lastSeenAt, reportIntervalSeconds, now, gpuStatuses } = input;
  if (!Number.isFinite(reportIntervalSeconds) || reportIntervalSeconds <= 0) {
    throw new RangeError(`reportIntervalSeconds must be a positive number of seconds, got ${reportIntervalSeconds}`);
  }
  if (lastSeenAt === null) {
    return {
      status: 'unknown',
      reasons: [{ code: 'node_never_seen', severity: 'warning', message: 'The agent on this node has not reported yet' }],
    };
  }
  assertValidDate(lastSeenAt, 'lastSeenAt');
  const silentSeconds = (now.getTime() - lastSeenAt.getTime()) / 1000;
  const limit = MISSED_INTERVALS_BEFORE_OFFLINE * reportIntervalSeconds;
  if (silentSeconds > limit) {
    return {
      status: 'offline',
      reasons: [
        {
          code: 'node_offline',
          severity: 'critical',
          message: `No report for ${formatDuration(silentSeconds)} (> ${MISSED_INTERVALS_BEFORE_OFFLINE} × ${formatNumber(reportIntervalSeconds)} s report interval)`,
          value: silentSeconds,
          threshold: limit,
        },
      ],
    };
  }
  const status = worstStatus<NodeStatus>(gpuStatuses, 'healthy');
  const reasons: HealthReason[] = [];
  for (const s of ['critical', 'warning', 'unknown'] as const) {
    const count = gpuStatuses.filter((g) => g === s).length;
    if (count > 0) reasons.push(gpuReason(s, count, gpuStatuses.length));
  }
  return { status, reasons };
}

export interface ClusterRollupOptions {
  /** Share of offline nodes at which the cluster turns critical. */
  offlineCriticalFraction?: number;
}

/** Half the nodes gone means at least half the serving capacity gone, and likely a whole replica. */
export const DEFAULT_OFFLINE_CRITICAL_FRACTION = 0.5;

/**
 * Cluster health from its nodes' statuses:
 * - no nodes → unknown; every node offline → offline (we see nothing, so we claim nothing more).
 * - any node critical → critical: one failed GPU stops a tensor-parallel engine, so the replica is down.
 * - offline nodes ≥ `offlineCriticalFraction` of the nodes → critical.
 * - some nodes offline below that → warning: the cluster still serves, with less capacity
 *   (one offline node of four is a warning, two of four are critical).
 * - otherwise the worst remaining status (warning > unknown > healthy).
 */
export function rollUpClusterHealth(nodeStatuses: readonly NodeStatus[], options: ClusterRollupOptions = {}): ClusterStatus {
  const fraction = options.offlineCriticalFraction ?? DEFAULT_OFFLINE_CRITICAL_FRACTION;
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new RangeError(`offlineCriticalFraction must be in (0, 1], got ${fraction}`);
  }
  if (nodeStatuses.length === 0) return 'unknown';
  const offline = nodeStatuses.filter((s) => s === 'offline').length;
  if (offline === nodeStatuses.length) return 'offline';
  if (nodeStatuses.includes('critical')) return 'critical';
  if (offline / nodeStatuses.length >= fraction) return 'critical';
  if (offline > 0) return 'warning';
  return worstStatus<ClusterStatus>(nodeStatuses, 'healthy');
}
