// Wakes long-polling agents (and in-process waiters for one command) when a command changes, through
// Postgres LISTEN/NOTIFY: the change and its NOTIFY commit together, so any web replica learns of it at
// once without polling the table. One dedicated connection per process; if it drops, waiters fall back to
// a short poll until it is back, and every waiter is woken on reconnect (notifications sent while it was
// down are lost, so everyone re-reads).
import { listenForCommandChanges, newCommandListenerConnection, type CommandListenerConnection } from './command-channel.sql';

/** While the listener is down, waiters re-read this often instead of waiting for a notification. */
export const FALLBACK_POLL_MS = 2_000;

function parsePayload(payload: string | undefined): { agentVisible: boolean; nodeId: string; commandId: string; state: string } | null {
  if (!payload) return null;
  const [flag, nodeId, commandId, state] = payload.split('|');
  if (!nodeId || !commandId || !state) return null;
  return { agentVisible: flag === '1', nodeId, commandId, state };
}

export interface NotifierLogger {
  warn(obj: object, msg: string): void;
}

/** One registration: created before reading the table so a notification between the read and the wait is not missed. */
export interface CommandWatch {
  /** Resolves true when woken, false when `ms` passed (or the signal aborted). */
  wait(ms: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * True when no notification at all about the watched node or command arrived since registration (not even
   * one that does not wake, such as the agent's own outcome report) and the listener was up the whole time:
   * what was read after registering is still what the table holds, up to changes that send no NOTIFY.
   */
  unchanged(): boolean;
  dispose(): void;
}

class Watch implements CommandWatch {
  fired = false;
  private touched = false;
  private wake: (() => void) | null = null;
  constructor(
    private readonly remove: (w: Watch) => void,
    private readonly listenedThroughout: () => boolean,
  ) {}

  fire() {
    this.fired = true;
    this.wake?.();
  }

  /** A change the watcher need not wake for, but that makes an earlier read stale. */
  touch() {
    this.touched = true;
  }

  unchanged(): boolean {
    return !this.fired && !this.touched && this.listenedThroughout();
  }

  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.fired) return Promise.resolve(true);
    if (signal?.aborted || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = null;
        resolve(woken);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done(true);
    });
  }

  dispose() {
    this.remove(this);
  }
}

export class NodeCommandNotifier {
  private client: CommandListenerConnection | null = null;
  private listening = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 500;
  /** Changes whenever listening starts or stops: a watch registered in another epoch may have missed notifications. */
  private epoch = 0;
  private readonly byNode = new Map<string, Set<Watch>>();
  private readonly byCommand = new Map<string, Set<Watch>>();

  constructor(
    private readonly connectionString: string,
    private readonly log?: NotifierLogger,
  ) {}

  /** True while LISTEN is active; when false, waiters should not wait longer than FALLBACK_POLL_MS. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Longest wait that still notices a change: the whole wait while listening, a short poll otherwise. */
  waitBudget(remainingMs: number): number {
    return this.listening ? remainingMs : Math.min(remainingMs, FALLBACK_POLL_MS);
  }

  start(): this {
    if (!this.client && !this.closed && !this.retryTimer) void this.connect();
    return this;
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    const client = newCommandListenerConnection(this.connectionString);
    this.client = client;
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.listening = false;
      this.epoch += 1;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.log?.warn(
        { err: err?.message },
        `command listener lost; agents fall back to ${FALLBACK_POLL_MS / 1000} s polls until it is back`,
      );
      this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      const n = parsePayload(msg.payload);
      if (!n) return;
      const nodeWatches = this.byNode.get(n.nodeId);
      if (n.agentVisible) this.fireAll(nodeWatches);
      else if (nodeWatches) for (const w of nodeWatches) w.touch();
      this.fireAll(this.byCommand.get(n.commandId));
    });
    try {
      await listenForCommandChanges(client);
      if (this.client !== client) return;
      this.listening = true;
      this.epoch += 1;
      this.retryMs = 500;
      // Whatever changed while we were not listening went unheard: everyone re-reads.
      for (const set of this.byNode.values()) this.fireAll(set);
      for (const set of this.byCommand.values()) this.fireAll(set);
    } catch (e) {
      lost(e as Error);
    }
  }

  private fireAll(set: Set<Watch> | undefined) {
    if (!set) return;
    for (const w of set) w.fire();
  }

  private watch(map: Map<string, Set<Watch>>, key: string): CommandWatch {
    const epoch = this.listening ? this.epoch : -1;
    const w = new Watch(
      (self) => {
        const set = map.get(key);
        if (!set) return;
        set.delete(self);
        if (set.size === 0) map.delete(key);
      },
      () => this.listening && this.epoch === epoch,
    );
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(w);
    return w;
  }

  /** Woken by agent-visible changes to the node's commands. */
  watchNode(nodeId: string): CommandWatch {
    return this.watch(this.byNode, nodeId);
  }

  /** Woken by any state change of one command. */
  watchCommand(commandId: string): CommandWatch {
    return this.watch(this.byCommand, commandId);
  }

  /** Waiters currently registered (for tests and /metrics). */
  get waiting(): number {
    let n = 0;
    for (const s of this.byNode.values()) n += s.size;
    for (const s of this.byCommand.values()) n += s.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    this.listening = false;
    this.epoch += 1;
    for (const set of this.byNode.values()) this.fireAll(set);
    for (const set of this.byCommand.values()) this.fireAll(set);
    await client?.end().catch(() => undefined);
  }
}

const g = globalThis as unknown as { __fleetplaneCommandNotifiers?: Map<string, NodeCommandNotifier> };

/** One listener per database URL and process (Next.js loads route modules more than once; globalThis does not). */
export function nodeCommandNotifier(connectionString: string, log?: NotifierLogger): NodeCommandNotifier {
  const all = (g.__fleetplaneCommandNotifiers ??= new Map());
  let n = all.get(connectionString);
  if (!n) {
    n = new NodeCommandNotifier(connectionString, log).start();
    all.set(connectionString, n);
  }
  return n;
}

/** Any listener this process already runs (waitForNodeCommand uses it to wake early; it polls without one). */
export function anyNodeCommandNotifier(): NodeCommandNotifier | null {
  const all = g.__fleetplaneCommandNotifiers;
  if (!all) return null;
  for (const n of all.values()) return n;
  return null;
}

export async function closeNodeCommandNotifiers(): Promise<void> {
  const all = g.__fleetplaneCommandNotifiers;
  if (!all) return;
  const list = [...all.values()];
  all.clear();
  await Promise.all(list.map((n) => n.close()));
}
