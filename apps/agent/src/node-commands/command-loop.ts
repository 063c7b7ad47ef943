import { setTimeout as sleep } from 'node:timers/promises';
import {
  MAX_COMMAND_POLL_WAIT_SECONDS,
  ZCommandProgress,
  type TCommandPollResponse,
  type TCommandProgress,
  type TCommandReport,
  type TCommandReportResponse,
  type TDeliveredCommand,
} from '@fleetplane/contracts';
import { COMMAND_HEARTBEAT_SECONDS, commandLane, type NodeCommandLane } from '@fleetplane/domain';
import type { ApiResult } from '../api/client';
import { backoffDelayMs } from '../delivery/backoff';
import type { Logger } from '../logger';
import type { CommandContext, CommandHandler, CommandHandlers } from './handler';
import { CommandJournal, type TJournalEntry } from './journal';

/** The two agent API calls the loop needs (AgentApiClient implements them). */
export interface CommandApi {
  pollCommands(waitSeconds: number, signal?: AbortSignal): Promise<ApiResult<TCommandPollResponse>>;
  reportCommand(commandId: string, report: TCommandReport, signal?: AbortSignal): Promise<ApiResult<TCommandReportResponse>>;
  /** This host's clock minus the server's (deadlines are the server's times); null when not known yet. */
  clockOffsetMs?(): number | null;
}

export interface CommandLoopOptions {
  client: CommandApi;
  handlers: CommandHandlers;
  /** The agent's state directory: the journal lives here. */
  stateDir: string;
  logger: Logger;
  /** Long-poll wait (default and maximum 30 s). */
  pollWaitSeconds?: number;
  /** Progress reports per command at most this often (default 1 s); the latest progress wins. */
  progressIntervalMs?: number;
  /** With no new progress, the latest is re-sent this often as a heartbeat (default a third of the sweeper's period). */
  heartbeatMs?: number;
  /** Retry of polls and outcome reports: first delay and cap, with full jitter (default 500 ms .. 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** On stop, how long to wait for handlers to honour their abort before leaving them (default 10 s). */
  stopTimeoutMs?: number;
}

export interface CommandLoop {
  /** Artifacts that open commands need (prefetch and load): the model cache never evicts them. */
  openDigests(): Set<string>;
  /** Aborts running handlers (their commands are re-run on the next start), stops polling and reporting. */
  stop(): Promise<void>;
}

type StopReason = 'cancelled' | 'shutdown' | 'expired';

interface Tracked {
  cmd: TDeliveredCommand;
  delivery: number;
  lane: NodeCommandLane;
  controller: AbortController;
  reason: StopReason | null;
  started: boolean;
}

/** How many finished command ids the loop remembers so a stale poll answer never starts one again. */
const DONE_MEMORY = 1000;

function commandDigests(cmd: TDeliveredCommand): string[] {
  return cmd.kind === 'prefetch_artifact' || cmd.kind === 'load_artifact' ? [cmd.payload.artifact.digest] : [];
}

/** Progress as the contract bounds it: a handler's long message is cut, not refused. */
function boundedProgress(p: TCommandProgress): TCommandProgress | null {
  const r = ZCommandProgress.safeParse({
    ...p,
    phase: p.phase.slice(0, 64) || 'running',
    ...(p.message !== undefined ? { message: p.message.slice(0, 1024) } : {}),
  });
  return r.success ? r.data : null;
}

function failureMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.trim() || 'The command handler failed without a message').slice(0, 4096);
}

/**
 * Throttled progress for one running command: the newest progress is sent at most every `intervalMs`, one
 * request at a time, and re-sent as a heartbeat when a handler is quiet (the sweeper fails a running
 * command whose agent stays silent). An answer of cancelled or expired aborts the handler.
 */
class ProgressPump {
  private latest: TCommandProgress;
  private dirty = true;
  private lastSentAt = 0;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly id: string,
    first: TCommandProgress,
    private readonly o: { client: CommandApi; intervalMs: number; heartbeatMs: number; log: Logger; onStop: (reason: StopReason) => void },
  ) {
    this.latest = first;
    this.schedule(0);
  }

  push(p: TCommandProgress): void {
    if (this.closed) return;
    const bounded = boundedProgress(p);
    if (!bounded) return;
    this.latest = bounded;
    this.dirty = true;
    this.schedule(Math.max(0, this.lastSentAt + this.o.intervalMs - Date.now()));
  }

  /** No more progress; resolves when a report in flight settled (so it never lands after the outcome). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.inflight) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.send(), delayMs);
    this.timer.unref();
  }

  private send(): void {
    this.timer = null;
    if (this.closed) return;
    this.dirty = false;
    this.lastSentAt = Date.now();
    this.inflight = this.o.client
      .reportCommand(this.id, { state: 'running', progress: this.latest })
      .then((r) => {
        if (r.kind === 'ok') {
          if (r.body.state === 'cancelled' || r.body.state === 'expired') this.o.onStop(r.body.state);
        } else if (r.kind === 'rejected' && r.status === 404) {
          // Not this node's command any more (deleted with its node): nobody will take its outcome.
          this.o.onStop('cancelled');
        } else {
          this.o.log.debug({ commandId: this.id, result: r.kind, message: r.message }, 'progress report not taken; the next one follows');
        }
      })
      .finally(() => {
        this.inflight = null;
        if (this.closed) return;
        this.schedule(this.dirty ? Math.max(0, this.lastSentAt + this.o.intervalMs - Date.now()) : this.o.heartbeatMs);
      });
  }
}

/**
 * Runs the control plane's commands to this node (docs/node-commands.md). Long-polls the node's open
 * commands; runs each with its handler, one at a time per lane (engine, cache); aborts a handler when its
 * command disappears from the poll answer or a report is answered cancelled/expired, at its deadline, and
 * on shutdown; reports throttled progress and then the outcome, retrying it with backoff until the control
 * plane has it (the first outcome wins there). The journal makes this survive kill -9: a command that was
 * running is run again with delivery + 1, an outcome that was not acknowledged is reported again.
 */
export async function startCommandLoop(o: CommandLoopOptions): Promise<CommandLoop> {
  const log = o.logger;
  const { journal, warning } = await CommandJournal.open(o.stateDir);
  if (warning) log.warn(warning);
  const pollWait = Math.min(Math.max(0, o.pollWaitSeconds ?? MAX_COMMAND_POLL_WAIT_SECONDS), MAX_COMMAND_POLL_WAIT_SECONDS);
  const progressIntervalMs = o.progressIntervalMs ?? 1000;
  const heartbeatMs = o.heartbeatMs ?? (COMMAND_HEARTBEAT_SECONDS * 1000) / 3;
  const retryBaseMs = o.retryBaseMs ?? 500;
  const retryMaxMs = o.retryMaxMs ?? 30_000;
  const stopping = new AbortController();

  const tracked = new Map<string, Tracked>();
  const lanes: Record<NodeCommandLane, Tracked[]> = { engine: [], cache: [] };
  const laneBusy: Record<NodeCommandLane, Promise<void> | null> = { engine: null, cache: null };
  const reporting = new Map<string, Promise<void>>();
  const done = new Set<string>();

  const remember = (id: string) => {
    done.add(id);
    if (done.size > DONE_MEMORY) done.delete(done.values().next().value as string);
  };

  const stopCommand = (t: Tracked, reason: StopReason) => {
    if (t.controller.signal.aborted) return;
    t.reason = reason;
    log.info({ commandId: t.cmd.id, kind: t.cmd.kind, reason }, 'stopping command');
    t.controller.abort(new Error(`Command ${reason}`));
  };

  /** Reports a journalled outcome until the control plane answers; then forgets the command. */
  const reportOutcome = (entry: Extract<TJournalEntry, { status: 'finished' }>): void => {
    if (reporting.has(entry.id)) return;
    const run = (async () => {
      for (let attempt = 0; !stopping.signal.aborted; attempt += 1) {
        const r = await o.client.reportCommand(entry.id, entry.outcome, stopping.signal);
        if (stopping.signal.aborted) return; // still journalled: reported on the next start
        if (r.kind === 'ok') {
          const level = r.body.state === entry.outcome.state ? 'info' : 'warn';
          log[level](
            { commandId: entry.id, kind: entry.kind, delivery: entry.delivery, outcome: entry.outcome.state, state: r.body.state },
            r.body.state === entry.outcome.state ? 'command outcome reported' : 'the control plane kept another outcome for this command',
          );
          break;
        }
        if (r.kind === 'rejected') {
          log.error(
            { commandId: entry.id, status: r.status, message: r.message },
            'the control plane refused the command outcome; dropping it',
          );
          break;
        }
        const delay = (r.kind === 'retry' ? r.retryAfterMs : null) ?? backoffDelayMs(attempt, retryBaseMs, retryMaxMs);
        log.warn({ commandId: entry.id, result: r.kind, message: r.message, retryInMs: delay }, 'command outcome not delivered yet');
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
      remember(entry.id);
      await journal.remove(entry.id);
    })()
      .catch((err: unknown) => log.error({ commandId: entry.id, err: (err as Error).message }, 'reporting the command outcome failed'))
      .finally(() => reporting.delete(entry.id));
    reporting.set(entry.id, run);
  };

  const execute = async (t: Tracked): Promise<void> => {
    const { cmd } = t;
    if (t.controller.signal.aborted || stopping.signal.aborted) {
      tracked.delete(cmd.id);
      return;
    }
    t.started = true;
    await journal.put({
      status: 'running',
      id: cmd.id,
      kind: cmd.kind,
      delivery: t.delivery,
      startedAt: new Date().toISOString(),
      digests: commandDigests(cmd),
    });
    log.info({ commandId: cmd.id, kind: cmd.kind, delivery: t.delivery }, 'running command');
    const pump = new ProgressPump(
      cmd.id,
      { phase: 'started', message: t.delivery > 1 ? `Delivery ${t.delivery}: resuming` : 'Started' },
      { client: o.client, intervalMs: progressIntervalMs, heartbeatMs, log, onStop: (reason) => stopCommand(t, reason) },
    );
    // The deadline is the server's time: shift it by the clock offset so a skewed host still stops on time.
    const deadlineMs = Date.parse(cmd.deadlineAt) + (o.client.clockOffsetMs?.() ?? 0) - Date.now();
    const deadline = setTimeout(() => stopCommand(t, 'expired'), Math.min(Math.max(0, deadlineMs), 2 ** 31 - 1));
    deadline.unref();
    const ctx: CommandContext = { commandId: cmd.id, delivery: t.delivery, signal: t.controller.signal, progress: (p) => pump.push(p) };
    let outcome: TCommandReport | null = null;
    try {
      const handler = o.handlers[cmd.kind] as CommandHandler<typeof cmd.kind> | undefined;
      if (!handler) throw new Error(`This agent has no handler for ${cmd.kind} commands`);
      const result = await handler(cmd.payload as never, ctx);
      outcome = { state: 'succeeded', result };
    } catch (err) {
      if (t.reason === 'shutdown') {
        // Left as running in the journal: the next start runs it again with delivery + 1.
        log.info({ commandId: cmd.id, kind: cmd.kind }, 'command interrupted by shutdown; it runs again on the next start');
      } else if (t.reason) {
        log.info({ commandId: cmd.id, kind: cmd.kind, reason: t.reason }, 'command stopped');
      } else {
        outcome = { state: 'failed', error: failureMessage(err) };
      }
    } finally {
      clearTimeout(deadline);
      await pump.close();
      tracked.delete(cmd.id);
    }
    if (outcome) {
      const entry = {
        status: 'finished' as const,
        id: cmd.id,
        kind: cmd.kind,
        delivery: t.delivery,
        finishedAt: new Date().toISOString(),
        outcome,
      };
      // Journalled before the first report attempt: a kill -9 from here on re-reports, never re-runs.
      await journal.put(entry);
      log.info({ commandId: cmd.id, kind: cmd.kind, outcome: outcome.state }, 'command finished');
      reportOutcome(entry);
    } else if (t.reason !== 'shutdown') {
      remember(cmd.id);
      await journal.remove(cmd.id);
    }
  };

  const drainLane = (lane: NodeCommandLane) => {
    if (laneBusy[lane]) return;
    laneBusy[lane] = (async () => {
      for (let next = lanes[lane].shift(); next; next = lanes[lane].shift()) {
        await execute(next).catch((err: unknown) =>
          log.error({ commandId: next!.cmd.id, err: (err as Error).message }, 'running the command failed in the agent'),
        );
      }
    })().finally(() => {
      laneBusy[lane] = null;
      if (lanes[lane].length > 0 && !stopping.signal.aborted) drainLane(lane);
    });
  };

  /** One poll answer: the node's open commands. Absent ones stop; new ones queue; journalled outcomes are re-reported. */
  const onPoll = (commands: TDeliveredCommand[]) => {
    const visible = new Set(commands.map((c) => c.id));
    for (const t of tracked.values()) {
      if (!visible.has(t.cmd.id)) {
        // Cancelled or expired on the control plane (an open command is always in the answer).
        stopCommand(t, 'cancelled');
        if (!t.started) {
          tracked.delete(t.cmd.id);
          lanes[t.lane] = lanes[t.lane].filter((q) => q !== t);
        }
      }
    }
    for (const entry of journal.list()) {
      if (entry.status === 'running' && !tracked.has(entry.id) && !visible.has(entry.id)) {
        log.info({ commandId: entry.id, kind: entry.kind }, 'a command interrupted by a restart was cancelled or expired meanwhile');
        void journal.remove(entry.id);
      }
    }
    for (const cmd of commands) {
      if (tracked.has(cmd.id) || reporting.has(cmd.id) || done.has(cmd.id)) continue;
      const entry = journal.get(cmd.id);
      if (entry?.status === 'finished') {
        reportOutcome(entry);
        continue;
      }
      const delivery = entry?.status === 'running' ? Math.max(cmd.delivery, entry.delivery + 1) : cmd.delivery;
      const t: Tracked = { cmd, delivery, lane: commandLane(cmd.kind), controller: new AbortController(), reason: null, started: false };
      tracked.set(cmd.id, t);
      lanes[t.lane].push(t);
      drainLane(t.lane);
    }
  };

  const pollLoop = (async () => {
    // The first poll does not wait: the agent learns at once what is open, including commands it was
    // running when it died and ones cancelled meanwhile. After a failed poll the same holds.
    let wait = 0;
    for (let attempt = 0; !stopping.signal.aborted;) {
      const r = await o.client.pollCommands(wait, stopping.signal);
      if (stopping.signal.aborted) break;
      if (r.kind === 'ok') {
        attempt = 0;
        wait = pollWait;
        onPoll(r.body.commands);
        continue;
      }
      wait = 0;
      const delay = r.kind === 'retry' && r.retryAfterMs !== null ? r.retryAfterMs : backoffDelayMs(attempt, retryBaseMs, retryMaxMs);
      attempt += 1;
      const message = r.kind === 'unauthorized' ? `the server refused this node's credential (${r.message})` : r.message;
      log[attempt === 1 ? 'warn' : 'debug']({ result: r.kind, message, retryInMs: delay }, 'command poll failed');
      await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  // Outcomes finished before a restart and never acknowledged: reported at once, without waiting for a poll.
  for (const entry of journal.list()) if (entry.status === 'finished') reportOutcome(entry);

  return {
    openDigests() {
      const digests = new Set<string>();
      for (const t of tracked.values()) for (const d of commandDigests(t.cmd)) digests.add(d);
      for (const e of journal.list()) if (e.status === 'running') for (const d of e.digests) digests.add(d);
      return digests;
    },
    async stop() {
      stopping.abort();
      for (const t of tracked.values()) stopCommand(t, 'shutdown');
      const settled = Promise.all([pollLoop, laneBusy.engine, laneBusy.cache, ...reporting.values()]);
      const timeout = sleep(o.stopTimeoutMs ?? 10_000, 'timeout' as const, { ref: false });
      if ((await Promise.race([settled.then(() => 'ok' as const), timeout])) === 'timeout') {
        log.warn('command handlers did not stop in time; their commands run again on the next start');
      }
    },
  };
}
