import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
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
  /** The agent's clock minus the server's, in ms, as the agent last reported it; null/absent when unknown. */
  clockOffsetMs?: number | null;
}

/**
 * A node clock off by more than the skew tolerance: its samples are refused when ahead, misplaced in
 * time when behind, and its kernel-log times are wrong either way. A warning, not critical: the GPUs may be fine.
 */
export function clockSkewReason(clockOffsetMs: number | null | undefined): HealthReason | null {
  if (typeof clockOffsetMs !== 'number' || !Number.isFinite(clockOffsetMs)) return null;
  const seconds = clockOffsetMs / 1000;
  if (Math.abs(seconds) <= MAX_CLOCK_SKEW_SECONDS) return null;
  return {
    code: 'clock_skew',
    severity: 'warning',
    message: `The node's clock is ${formatDuration(Math.abs(seconds))} ${seconds > 0 ? 'ahead of' : 'behind'} the control plane's (tolerance ${formatDuration(MAX_CLOCK_SKEW_SECONDS)}); samples dated ahead are refused. Fix time sync (NTP/chrony) on the node`,
    value: seconds,
    threshold: MAX_CLOCK_SKEW_SECONDS,
  };
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
  const skew = clockSkewReason(input.clockOffsetMs);
  if (silentSeconds > limit) {
    return {
      status: 'offline',
      // A clock far ahead is a likely cause of the silence: every batch it sends is refused.
      reasons: [
        {
          code: 'node_offline',
          severity: 'critical',
          message: `No report for ${formatDuration(silentSeconds)} (> ${MISSED_INTERVALS_BEFORE_OFFLINE} × ${formatNumber(reportIntervalSeconds)} s report interval)`,
          value: silentSeconds,
          threshold: limit,
        },
        ...(skew ? [skew] : []),
      ],
    };
  }
  const status = worstStatus<NodeStatus>(skew ? [...gpuStatuses, 'warning'] : gpuStatuses, 'healthy');
  const reasons: HealthReason[] = skew ? [skew] : [];
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
