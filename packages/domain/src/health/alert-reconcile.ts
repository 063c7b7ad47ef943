import { assertValidDate } from './format';
import { severityRank } from './status';
import type { ReasonSeverity } from './types';

export type AlertDetails = Record<string, string | number | boolean | null>;

/** What the rules say is wrong right now. One live alert per fingerprint. */
export interface AlertCondition {
  fingerprint: string;
  rule: string;
  severity: ReasonSeverity;
  title: string;
  details: AlertDetails;
  clusterId?: string;
  nodeId?: string;
  gpuId?: string;
}

/** An open or acknowledged alert from the store. */
export interface ActiveAlert {
  id: string;
  fingerprint: string;
  severity: ReasonSeverity;
  state: 'open' | 'acknowledged';
  /** Last evaluation that still saw the condition; the hold-down counts from here. */
  lastSeenAt: Date;
}

export interface AlertUpdate {
  id: string;
  severity: ReasonSeverity;
  lastSeenAt: Date;
  /** Severity went up (warning → critical): the caller re-notifies, even when acknowledged. */
  escalated: boolean;
}

export interface AlertReconciliation {
  /** New alerts to insert, state open. */
  open: AlertCondition[];
  /** Alert ids to resolve. */
  resolve: string[];
  /** Live alerts whose condition persists: bump lastSeenAt, set severity. State is left as it is. */
  update: AlertUpdate[];
}

/**
 * A condition must stay absent this long before its alert resolves. Five minutes is thirty 10 s
 * agent reports: enough to ride out a temperature or throttle reading that flickers around its
 * threshold, short enough that a fixed problem clears the board within one coffee.
 */
export const DEFAULT_ALERT_HOLD_DOWN_SECONDS = 300;

export interface ReconcileAlertsInput {
  conditions: readonly AlertCondition[];
  active: readonly ActiveAlert[];
  now: Date;
  holdDownSeconds?: number;
}

// Two rules firing the same fingerprint would otherwise open two alerts; keep the more severe
// (the first one on a tie) so the result never depends on anything but the input.
function dedupeConditions(conditions: readonly AlertCondition[]): AlertCondition[] {
  const byFingerprint = new Map<string, AlertCondition>();
  for (const c of conditions) {
    const seen = byFingerprint.get(c.fingerprint);
    if (!seen || severityRank(c.severity) > severityRank(seen.severity)) byFingerprint.set(c.fingerprint, c);
  }
  return [...byFingerprint.values()];
}

// The store allows one live alert per fingerprint; if it ever holds two, keep the acknowledged one
// (a person already owns it) or else the first, and resolve the rest.
function splitActive(active: readonly ActiveAlert[]): { keep: Map<string, ActiveAlert>; extra: string[] } {
  const keep = new Map<string, ActiveAlert>();
  const extra: string[] = [];
  for (const a of active) {
    const kept = keep.get(a.fingerprint);
    if (!kept) keep.set(a.fingerprint, a);
    else if (kept.state === 'open' && a.state === 'acknowledged') {
      extra.push(kept.id);
      keep.set(a.fingerprint, a);
    } else extra.push(a.id);
  }
  return { keep, extra };
}

/**
 * Turns "what is wrong now" plus "what alerts are live" into store changes, without duplicates:
 * - a condition with a live alert updates it in place (an acknowledged alert stays acknowledged;
 *   a severity change is written, and marked `escalated` when it went up);
 * - a condition without one opens a new alert;
 * - a live alert whose condition is gone resolves only once the condition has been absent for
 *   `holdDownSeconds` since its lastSeenAt. A condition that flaps inside the hold-down finds its
 *   alert still live on return and just updates it, so it is never resolved and reopened per cycle.
 */
export function reconcileAlerts(input: ReconcileAlertsInput): AlertReconciliation {
  assertValidDate(input.now, 'now');
  const holdDownSeconds = input.holdDownSeconds ?? DEFAULT_ALERT_HOLD_DOWN_SECONDS;
  if (!Number.isFinite(holdDownSeconds) || holdDownSeconds < 0) {
    throw new RangeError(`holdDownSeconds must be a non-negative number, got ${holdDownSeconds}`);
  }
  const nowMs = input.now.getTime();
  const { keep, extra } = splitActive(input.active);
  const result: AlertReconciliation = { open: [], resolve: [...extra], update: [] };
  const present = new Set<string>();

  for (const c of dedupeConditions(input.conditions)) {
    present.add(c.fingerprint);
    const live = keep.get(c.fingerprint);
    if (!live) {
      result.open.push(c);
      continue;
    }
    result.update.push({
      id: live.id,
      severity: c.severity,
      lastSeenAt: new Date(nowMs),
      escalated: severityRank(c.severity) > severityRank(live.severity),
    });
  }

  for (const [fingerprint, live] of keep) {
    if (present.has(fingerprint)) continue;
    const absentMs = nowMs - live.lastSeenAt.getTime();
    // An invalid lastSeenAt cannot start a hold-down; resolving is the safe way out of that state.
    if (Number.isNaN(absentMs) || absentMs >= holdDownSeconds * 1000) result.resolve.push(live.id);
  }
  return result;
}
