import { TERMINAL_NODE_COMMAND_STATES, type TNodeCommandKind, type TNodeCommandState } from '@fleetplane/contracts';

/**
 * The life of a command to a node:
 *
 *   queued ──poll──► delivered ──agent reports running──► running ──► succeeded | failed
 *     ▲                  │
 *     └── sweeper: delivered but never started (the answer to the poll was lost) ──┘
 *
 * and from any open state: cancelled (an operator or the issuer), expired (past its deadline). A running
 * command whose agent stopped reporting is failed by the sweeper. Terminal states never change again:
 * the first terminal outcome wins (at-least-once delivery means the same outcome may arrive twice).
 */
const TRANSITIONS: Record<TNodeCommandState, readonly TNodeCommandState[]> = {
  queued: ['delivered', 'cancelled', 'expired'],
  delivered: ['running', 'queued', 'cancelled', 'expired'],
  running: ['succeeded', 'failed', 'cancelled', 'expired'],
  succeeded: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export function canCommandTransition(from: TNodeCommandState, to: TNodeCommandState): boolean {
  return TRANSITIONS[from].includes(to);
}

export const OPEN_NODE_COMMAND_STATES: readonly TNodeCommandState[] = ['queued', 'delivered', 'running'];

export function isTerminalCommandState(state: TNodeCommandState): boolean {
  return TERMINAL_NODE_COMMAND_STATES.includes(state);
}

export function isOpenCommandState(state: TNodeCommandState): boolean {
  return OPEN_NODE_COMMAND_STATES.includes(state);
}

/**
 * Default time a command may take from issue to outcome. Prefetch moves hundreds of GB at a capped rate;
 * a load includes the prefetch plus a V4-Pro engine start (many minutes); the rest are quick.
 */
export const DEFAULT_COMMAND_TIMEOUT_SECONDS: Record<TNodeCommandKind, number> = {
  prefetch_artifact: 12 * 3600,
  load_artifact: 12 * 3600,
  restart_engine: 2 * 3600,
  stop_engine: 3600,
  evict_artifact: 900,
};

export const MIN_COMMAND_TIMEOUT_SECONDS = 5;
export const MAX_COMMAND_TIMEOUT_SECONDS = 7 * 24 * 3600;

export function commandDeadline(kind: TNodeCommandKind, issuedAt: Date, timeoutSeconds?: number): Date {
  const seconds = timeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS[kind];
  if (!Number.isInteger(seconds) || seconds < MIN_COMMAND_TIMEOUT_SECONDS || seconds > MAX_COMMAND_TIMEOUT_SECONDS) {
    throw new RangeError(`timeoutSeconds must be a whole number from ${MIN_COMMAND_TIMEOUT_SECONDS} to ${MAX_COMMAND_TIMEOUT_SECONDS}`);
  }
  return new Date(issuedAt.getTime() + seconds * 1000);
}
