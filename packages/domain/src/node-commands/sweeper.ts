import type { TNodeCommandState } from '@fleetplane/contracts';

export interface SweepCandidate {
  state: TNodeCommandState;
  deadlineAt: Date;
  deliveredAt: Date | null;
  /** Last report while running (startedAt when none came since). */
  heartbeatAt: Date | null;
}

export interface SweepSettings {
  /**
   * A running command whose agent sent nothing for this long is failed: the agent reports progress (or a
   * bare heartbeat) at least every COMMAND_HEARTBEAT_SECONDS while a handler runs, so silence this long
   * means the agent died and did not come back, or lost its node.
   */
  silentAfterSeconds: number;
  /**
   * A delivered command the agent never started after this long goes back to the queue: the poll's answer
   * was lost (network cut, server restart), so the next poll delivers it again and counts the delivery.
   */
  redeliverAfterSeconds: number;
}

/** The agent's heartbeat period while a handler runs (its progress reports are throttled to this at most). */
export const COMMAND_HEARTBEAT_SECONDS = 15;

export const DEFAULT_SWEEP_SETTINGS: SweepSettings = { silentAfterSeconds: 120, redeliverAfterSeconds: 60 };

export const AGENT_SILENT_ERROR = 'The agent went silent: no report while running';

export type SweepDecision =
  | { action: 'expire'; to: 'expired'; error: string }
  | { action: 'fail_silent'; to: 'failed'; error: string }
  | { action: 'redeliver'; to: 'queued' }
  | null;

/** The sweeper's verdict on one open command; the deadline comes first (an expired command is never failed or redelivered). */
export function sweepDecision(c: SweepCandidate, now: Date, settings: SweepSettings = DEFAULT_SWEEP_SETTINGS): SweepDecision {
  const t = now.getTime();
  if (c.state !== 'queued' && c.state !== 'delivered' && c.state !== 'running') return null;
  if (c.deadlineAt.getTime() <= t)
    return { action: 'expire', to: 'expired', error: `Expired at its deadline (${c.deadlineAt.toISOString()}) while ${c.state}` };
  if (c.state === 'running') {
    const last = c.heartbeatAt?.getTime();
    if (last === undefined || t - last >= settings.silentAfterSeconds * 1000) {
      return { action: 'fail_silent', to: 'failed', error: `${AGENT_SILENT_ERROR} for ${settings.silentAfterSeconds} s` };
    }
    return null;
  }
  if (c.state === 'delivered') {
    const at = c.deliveredAt?.getTime();
    if (at === undefined || t - at >= settings.redeliverAfterSeconds * 1000) return { action: 'redeliver', to: 'queued' };
  }
  return null;
}
