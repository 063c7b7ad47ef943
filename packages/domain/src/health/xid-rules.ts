import { formatDuration } from './format';
import type { THealthThresholds } from './thresholds.schema';
import type { HealthReason, XidObservation } from './types';
import { describeXidEvent, type XidInfo } from './xid-catalogue';

export interface XidGroup {
  info: XidInfo;
  /** Kernel lines seen in the window. */
  lines: number;
  /** Lines collapsed into faults: one fault prints a burst of lines within milliseconds. */
  incidents: number;
  lastAt: Date;
}

/** Number of bursts in `timesMs` (any order): a gap longer than `gapMs` starts a new incident. */
export function countIncidents(timesMs: readonly number[], gapMs: number): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  let incidents = 0;
  let prev = Number.NEGATIVE_INFINITY;
  for (const t of sorted) {
    if (t - prev > gapMs) incidents += 1;
    prev = t;
  }
  return incidents;
}

export interface XidWindowOptions {
  now: Date;
  /** The GPU being judged; observations naming another GPU are ignored. null: keep all. */
  gpuUuid: string | null;
  thresholds: THealthThresholds;
}

/**
 * Groups the window's XIDs by code, newest group first. Observations in the future (agent clock
 * ahead of ours) are kept: dropping a critical XID over clock skew would be worse than counting it.
 */
export function groupXids(xids: readonly XidObservation[], opts: XidWindowOptions): XidGroup[] {
  const from = opts.now.getTime() - opts.thresholds.xidWindowSeconds * 1000;
  // Keyed by code and severity: a fatal and a non-fatal NVLink5 line of one code are different faults.
  const groups = new Map<string, { info: XidInfo; times: number[] }>();
  for (const x of xids) {
    const at = x.occurredAt.getTime();
    if (Number.isNaN(at) || at < from) continue;
    if (opts.gpuUuid !== null && x.gpuUuid !== null && x.gpuUuid !== opts.gpuUuid) continue;
    const info = describeXidEvent(x.xid, x.message);
    const key = `${info.code}:${info.severity}`;
    const group = groups.get(key) ?? { info, times: [] };
    group.times.push(at);
    groups.set(key, group);
  }
  const gapMs = opts.thresholds.xidIncidentGapSeconds * 1000;
  return [...groups.values()]
    .map(({ info, times: ts }) => ({
      info,
      lines: ts.length,
      incidents: countIncidents(ts, gapMs),
      lastAt: new Date(ts.reduce((a, b) => Math.max(a, b))),
    }))
    .sort((a, b) => b.lastAt.getTime() - a.lastAt.getTime() || a.info.code - b.info.code);
}

function label(g: XidGroup): string {
  const lines = g.lines > g.incidents ? ` (${g.lines} lines)` : '';
  const times = g.incidents === 1 ? '1 incident' : `${g.incidents} incidents`;
  return `XID ${g.info.code} (${g.info.meaning}), ${times}${lines}`;
}

/**
 * At most one reason per code: xid_critical for critical XIDs, xid_repeated for application-level
 * XIDs that keep coming back, xid_warning for everything else (including unknown codes and a
 * one-off application-level XID).
 */
export function xidReasons(xids: readonly XidObservation[], opts: XidWindowOptions): HealthReason[] {
  const groups = groupXids(xids, opts);
  const window = formatDuration(opts.thresholds.xidWindowSeconds);
  const repeat = opts.thresholds.appXidRepeatCount;
  const critical = groups.filter((g) => g.info.severity === 'critical');
  const repeated = groups.filter((g) => g.info.severity !== 'critical' && g.info.appLevel && g.incidents >= repeat);
  const other = groups.filter((g) => !critical.includes(g) && !repeated.includes(g));
  const reasons: HealthReason[] = [];

  const [latestCritical] = critical;
  if (latestCritical) {
    reasons.push({
      code: 'xid_critical',
      severity: 'critical',
      message:
        `Critical XID in the last ${window}: ${critical.map(label).join('; ')}. ` +
        `Latest XID ${latestCritical.info.code} at ${latestCritical.lastAt.toISOString()}: ${latestCritical.info.action}`,
      value: latestCritical.info.code,
    });
  }
  if (repeated.length > 0) {
    const most = repeated.reduce((m, g) => Math.max(m, g.incidents), 0);
    reasons.push({
      code: 'xid_repeated',
      severity: 'warning',
      message:
        `Repeated application-level XID in the last ${window}: ${repeated.map(label).join('; ')} (≥ ${repeat} incidents). ` +
        'Usually the application, but repeats on one GPU can point at the hardware',
      value: most,
      threshold: repeat,
    });
  }
  const [latestOther] = other;
  if (latestOther) {
    reasons.push({
      code: 'xid_warning',
      severity: 'warning',
      message:
        `XID in the last ${window}: ${other.map(label).join('; ')}. ` + `Latest XID ${latestOther.info.code}: ${latestOther.info.action}`,
      value: latestOther.info.code,
    });
  }
  return reasons;
}
