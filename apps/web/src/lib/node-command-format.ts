import { formatBytes } from './utils';

/** The parts of a command's `progress` (an agent report, JSON) the dashboard reads; anything else is ignored. */
interface ProgressLike {
  phase?: unknown;
  message?: unknown;
  bytesDone?: unknown;
  bytesTotal?: unknown;
  bytesPerSecond?: unknown;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/**
 * A command's progress as one line: "phase · 1.2 GB / 4.0 GB (30%) · 50 MB/s". The progress field is
 * whatever the agent last reported (validated on the way in), so every part is optional here: a restart
 * reports only a phase, a prefetch reports bytes.
 */
export function commandProgressText(progress: Record<string, unknown> | null | undefined): string | null {
  if (!progress) return null;
  const p = progress as ProgressLike;
  const parts: string[] = [];
  if (typeof p.phase === 'string' && p.phase) parts.push(p.phase.replace(/_/g, ' '));
  const done = num(p.bytesDone);
  const total = num(p.bytesTotal);
  if (done !== null && total)
    parts.push(`${formatBytes(done)} / ${formatBytes(total)} (${Math.min(100, Math.floor((done / total) * 100))}%)`);
  else if (done !== null) parts.push(formatBytes(done));
  const rate = num(p.bytesPerSecond);
  if (rate) parts.push(`${formatBytes(rate)}/s`);
  if (typeof p.message === 'string' && p.message) parts.push(p.message);
  return parts.length ? parts.join(' · ') : null;
}

/** What a finished command moved ("4.0 GB moved"), or null when it reported no bytes. */
export function commandBytesMoved(progress: Record<string, unknown> | null | undefined): string | null {
  const done = num(((progress ?? {}) as ProgressLike).bytesDone);
  return done ? `${formatBytes(done)} moved` : null;
}

/** The percentage for a progress bar, or null when the agent did not report a total. */
export function commandProgressPercent(progress: Record<string, unknown> | null | undefined): number | null {
  const p = (progress ?? {}) as ProgressLike;
  const done = num(p.bytesDone);
  const total = num(p.bytesTotal);
  if (done === null || !total) return null;
  return Math.min(100, Math.floor((done / total) * 100));
}

/**
 * Where a command came from, as a label and (when the issuer has a page) a link. Issuers write `origin`
 * as `<kind>:<id>` (`rollout:<id>`, `pipeline:<run id>`, `pipeline_step:<step id>`) or a bare word (`operator`,
 * with the issuing user on the row).
 */
export function commandOrigin(origin: string, issuedBy: { name: string; email: string } | null): { label: string; href: string | null } {
  const sep = origin.indexOf(':');
  const kind = sep > 0 ? origin.slice(0, sep) : origin;
  const id = sep > 0 ? origin.slice(sep + 1) : '';
  if (kind === 'rollout' && id) return { label: `rollout ${id.slice(0, 8)}`, href: `/rollouts/${encodeURIComponent(id)}` };
  if ((kind === 'pipeline' || kind === 'pipeline_run') && id)
    return { label: `pipeline run ${id.slice(0, 8)}`, href: `/pipelines/${encodeURIComponent(id)}` };
  // A step id does not name its run, so there is no page to link; the label still says where it came from.
  if (kind === 'pipeline_step' && id) return { label: `pipeline step ${id.slice(0, 8)}`, href: null };
  if (issuedBy) return { label: issuedBy.name || issuedBy.email, href: null };
  return { label: origin, href: null };
}

/** How long a command took (or has taken so far), from when the agent started it, else when it was issued. */
export function commandDuration(
  c: { issuedAt: Date | string; startedAt: Date | string | null; finishedAt: Date | string | null },
  now = Date.now(),
): string {
  const from = new Date(c.startedAt ?? c.issuedAt).getTime();
  const to = c.finishedAt ? new Date(c.finishedAt).getTime() : now;
  const s = Math.max(0, Math.round((to - from) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
