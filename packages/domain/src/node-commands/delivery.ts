import { MAX_COMMAND_POLL_WAIT_SECONDS, type TNodeCommandState } from '@fleetplane/contracts';

/** The part of a command row the delivery rules look at. */
export interface OpenCommandView {
  id: string;
  state: TNodeCommandState;
  deadlineAt: Date;
}

/** At most this many commands in one poll answer (ZCommandPollResponse's bound). */
export const MAX_COMMANDS_PER_POLL = 100;

export interface PollPlan {
  /** Queued commands this poll hands over: each becomes `delivered` and counts one more delivery. */
  deliver: string[];
  /** Everything the agent is told about: its node's open commands not past their deadline, oldest first. */
  visible: string[];
  /**
   * Answer now instead of waiting: there is something new to deliver; or the agent asked not to wait
   * (waitSeconds = 0: it just started or lost its connection, and must learn its open commands at once,
   * including ones delivered before whose answer it never got); or the poll was woken by a change the
   * agent must see (a command cancelled or expired: it is missing from the answer, so the agent stops it).
   */
  respondNow: boolean;
}

/**
 * What one poll does with the node's open commands (given oldest first). A delivered or running command is
 * shown again without counting a new delivery: the agent recognises it by id (its journal survives a
 * restart), and a command missing from the answer tells the agent to stop working on it (cancelled or
 * expired meanwhile). Only a queued command (new, or put back by the sweeper after a delivery the agent
 * never acted on) is a new delivery.
 */
export function planPoll(open: readonly OpenCommandView[], waitSeconds: number, now: Date, woken = false): PollPlan {
  const live = open.filter(
    (c) => c.deadlineAt.getTime() > now.getTime() && (c.state === 'queued' || c.state === 'delivered' || c.state === 'running'),
  );
  const visible = live.slice(0, MAX_COMMANDS_PER_POLL);
  const deliver = visible.filter((c) => c.state === 'queued').map((c) => c.id);
  return { deliver, visible: visible.map((c) => c.id), respondNow: deliver.length > 0 || waitSeconds <= 0 || woken };
}

/**
 * The agent's `waitSeconds`: absent means "answer at once"; above the maximum it is cut to the maximum;
 * anything that is not a number from 0 up is refused (null) rather than guessed at.
 */
export function parsePollWait(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined || raw.trim() === '') return 0;
  if (!/^\d+(\.\d+)?$/.test(raw.trim())) return null;
  return Math.min(Math.floor(Number(raw)), MAX_COMMAND_POLL_WAIT_SECONDS);
}
