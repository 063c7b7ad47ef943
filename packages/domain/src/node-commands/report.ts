import type { TCommandReport, TNodeCommandState } from '@fleetplane/contracts';

export interface ReportTarget {
  state: TNodeCommandState;
  deadlineAt: Date;
}

/**
 * What the control plane does with an agent's report on one of its commands:
 * - `start`: the first `running` report (from queued or delivered: the sweeper may have put a delivered
 *   command back in the queue just before the agent started it); sets startedAt and the heartbeat.
 * - `heartbeat`: another `running` report: new progress, fresh heartbeat.
 * - `finish`: the first terminal outcome; a command the agent finishes without reporting `running`
 *   first passes through running in the same write.
 * - `expire`: the report came after the deadline of a still-open command: it expires now and the agent
 *   is told so (late outcomes are ignored, as ZDeliveredCommand promises).
 * - `ignore`: the command is already terminal. The answer is its state: the first outcome won; a
 *   cancelled or expired command tells the agent to stop.
 */
export type ReportDecision =
  | { action: 'start'; to: 'running' }
  | { action: 'heartbeat'; to: 'running' }
  | { action: 'finish'; to: 'succeeded' | 'failed'; wasStarted: boolean }
  | { action: 'expire'; to: 'expired' }
  | { action: 'ignore'; to: TNodeCommandState };

export function decideReport(target: ReportTarget, report: TCommandReport['state'], now: Date): ReportDecision {
  const { state } = target;
  if (state === 'succeeded' || state === 'failed' || state === 'cancelled' || state === 'expired') return { action: 'ignore', to: state };
  if (target.deadlineAt.getTime() <= now.getTime()) return { action: 'expire', to: 'expired' };
  if (report === 'running') return state === 'running' ? { action: 'heartbeat', to: 'running' } : { action: 'start', to: 'running' };
  return { action: 'finish', to: report, wasStarted: state === 'running' };
}
