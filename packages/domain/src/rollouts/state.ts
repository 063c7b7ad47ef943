import { TERMINAL_ROLLOUT_STATES, type TRolloutState } from '@fleetplane/contracts';

/** Every move the rollout engine or an operator may make; anything else is a bug or a stale request. */
const TRANSITIONS: Record<TRolloutState, readonly TRolloutState[]> = {
  pending: ['prefetching', 'paused', 'rolling_back', 'aborted', 'failed'],
  prefetching: ['canary', 'paused', 'rolling_back', 'aborted', 'failed'],
  canary: ['analysing', 'paused', 'rolling_back'],
  analysing: ['waves', 'succeeded', 'paused', 'rolling_back'],
  waves: ['analysing', 'paused', 'rolling_back'],
  paused: ['pending', 'prefetching', 'canary', 'analysing', 'waves', 'rolling_back', 'aborted'],
  rolling_back: ['rolled_back', 'aborted', 'failed'],
  succeeded: [],
  rolled_back: [],
  aborted: [],
  failed: [],
};

export function canTransition(from: TRolloutState, to: TRolloutState): boolean {
  return TRANSITIONS[from].includes(to);
}

export const isTerminalRollout = (s: TRolloutState) => TERMINAL_ROLLOUT_STATES.includes(s);

export type RolloutAction = 'pause' | 'resume' | 'promote' | 'abort';

/**
 * What an operator's action does from a state, or why it cannot. Promote (Argo `promote`) ends the current
 * analysis window as passed: from `analysing`, or from `paused` when it was paused while analysing.
 * Abort rolls every touched node back and ends `aborted`.
 */
export function operatorAction(
  state: TRolloutState,
  pausedFrom: TRolloutState | null,
  action: RolloutAction,
): { ok: true; to: TRolloutState } | { ok: false; why: string } {
  if (isTerminalRollout(state)) return { ok: false, why: `the rollout has already ended (${state})` };
  if (state === 'rolling_back') return { ok: false, why: 'the rollout is rolling back' };
  switch (action) {
    case 'pause':
      return state === 'paused' ? { ok: false, why: 'the rollout is already paused' } : { ok: true, to: 'paused' };
    case 'resume':
      return state === 'paused' && pausedFrom ? { ok: true, to: pausedFrom } : { ok: false, why: 'the rollout is not paused' };
    case 'promote':
      if (state === 'analysing' || (state === 'paused' && pausedFrom === 'analysing')) return { ok: true, to: 'analysing' };
      return { ok: false, why: 'only a rollout in an analysis window can be promoted' };
    case 'abort':
      return { ok: true, to: 'rolling_back' };
  }
}

export interface RolloutRefusalFacts {
  proposalState: string;
  approvedEnough: boolean;
  approvalReasons: readonly string[];
  /** Compatibility / fit problems of the artifact for this cluster (empty: fits, or not checked). */
  unfitReasons: readonly string[];
  activeRolloutId: string | null;
  nodeCount: number;
  /** Rolling back to an earlier deployment skips the approval checks (its evidence was approved). */
  kind: 'upgrade' | 'rollback';
}

/** Reasons come as sentences from other features; they are joined into one, so their full stops go. */
const trimStop = (s: string) => s.trim().replace(/\.+$/, '');

/** Why a rollout may not start; empty when it may. Each reason is a sentence an operator can act on. */
export function rolloutRefusals(f: RolloutRefusalFacts): string[] {
  const out: string[] = [];
  if (f.activeRolloutId) out.push(`the cluster already has a rollout in progress (${f.activeRolloutId}); one at a time`);
  if (f.kind === 'upgrade') {
    if (f.proposalState !== 'approved') out.push(`the proposal is ${f.proposalState.replace(/_/g, ' ')}, not approved`);
    if (!f.approvedEnough)
      out.push(`not enough valid approvals${f.approvalReasons.length ? `: ${f.approvalReasons.map(trimStop).join('; ')}` : ''}`);
  }
  for (const r of f.unfitReasons) out.push(`the artifact does not fit this cluster: ${trimStop(r)}`);
  if (f.nodeCount === 0) out.push('the cluster has no nodes to roll out to');
  return out;
}
