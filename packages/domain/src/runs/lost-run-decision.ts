// What the reconciler does with a run Postgres calls queued or running: pure, so every case is
// unit-tested without Redis (lost-run-decision.test.ts).

/** How often a worker writes the heartbeat of the step or check it runs. */
export const UNIT_HEARTBEAT_MS = 3_000;

const TERMINAL_UNIT_STATES = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

/** A pipeline step or a validation check as Postgres has it. */
export interface RunUnit {
  state: string;
  heartbeatAt: Date | null;
}

export interface LostRunFacts {
  /** The run's start message is still in the outbox: the outbox sweep will queue it. */
  outboxPending: boolean;
  /** Redis holds a job of the run that can still move it (waiting, delayed, active, waiting for children). */
  jobLive: boolean;
  cancelRequested: boolean;
  units: readonly RunUnit[];
  /** Times the reconciler already queued this run again. */
  requeues: number;
  maxRequeues: number;
  now: Date;
  /** A running unit whose heartbeat is older than this has no worker on it any more. */
  heartbeatStaleMs: number;
  /** The newest sign of life of the run (created, started, a unit started, beat or ended, its start sent). */
  lastActivityAt: Date;
  /**
   * A run that moved within this long is left alone: its jobs may be on their way (and a test
   * database shared by workers of several queue prefixes never sees one worker take over another's run).
   */
  idleGraceMs: number;
}

export type LostRunAction =
  /** Something will move the run forward by itself. */
  | { action: 'leave'; why: 'outbox_pending' | 'recently_active' | 'job_live' | 'worker_busy' }
  /** Nothing is left to run (every unit ended, or cancel was requested): settle the run's state. */
  | { action: 'settle' }
  /** Its jobs were lost: queue the unfinished units again (same job ids). */
  | { action: 'requeue' }
  /** Its jobs were lost too often: fail it with a reason. */
  | { action: 'fail'; reason: string };

export function isFreshHeartbeat(unit: RunUnit, now: Date, staleMs: number): boolean {
  return unit.state === 'running' && unit.heartbeatAt !== null && now.getTime() - unit.heartbeatAt.getTime() < staleMs;
}

export function decideLostRun(f: LostRunFacts): LostRunAction {
  if (f.outboxPending) return { action: 'leave', why: 'outbox_pending' };
  if (f.now.getTime() - f.lastActivityAt.getTime() < f.idleGraceMs) return { action: 'leave', why: 'recently_active' };
  if (f.jobLive) return { action: 'leave', why: 'job_live' };
  // The job is gone from Redis but a worker still runs it in memory (Redis was emptied under it):
  // starting it again would download or measure twice at once. Wait for it to end or go quiet.
  if (f.units.some((u) => isFreshHeartbeat(u, f.now, f.heartbeatStaleMs))) return { action: 'leave', why: 'worker_busy' };
  if (f.cancelRequested) return { action: 'settle' };
  if (f.units.every((u) => TERMINAL_UNIT_STATES.has(u.state))) return { action: 'settle' };
  if (f.requeues >= f.maxRequeues) {
    return {
      action: 'fail',
      reason: `Its queue jobs were lost ${f.requeues + 1} times (Redis lost its data or a worker died with them), so the reconciler stopped it.`,
    };
  }
  return { action: 'requeue' };
}

/** The newest of the given times (nulls ignored). */
export function latestOf(...dates: ReadonlyArray<Date | null | undefined>): Date {
  let latest = 0;
  for (const d of dates) if (d && d.getTime() > latest) latest = d.getTime();
  return new Date(latest);
}
