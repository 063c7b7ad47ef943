import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

const COLOURS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m', '\x1b[34m', '\x1b[91m'];
const RESET = '\x1b[0m';
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Shows a pino JSON line as "LEVEL msg key=value"; other lines pass through unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, msg, time: _t, pid: _p, hostname: _h, service: _s, name: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const extras = Object.entries(rest)
      .filter(([, v]) => v !== undefined && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    return `${LEVELS[level as number] ?? String(level)} ${String(msg ?? '')}${extras ? ` ${extras}` : ''}`;
  } catch {
    return line;
  }
}

interface Managed {
  name: string;
  command: string;
  args: string[];
  opts: StartOptions;
  colour: string;
  child: ChildProcess;
  /** Restarts since the child last ran long enough to count as healthy. */
  failures: number;
  restarts: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Only lines that look like warnings or errors are shown. */
  quiet?: boolean;
}

export interface RestartPolicy {
  /** Delay before the first restart; doubled for every further crash in a row. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child that ran at least this long before exiting counts as healthy: the backoff starts over. */
  healthyAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 60_000 };

/** Exponential backoff: 1 s, 2 s, 4 s … up to the cap, so a child that cannot start does not spin. */
export function restartDelayMs(failuresInARow: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  const exponent = Math.max(0, failuresInARow - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(exponent, 30));
}

/**
 * Children started by `npm start`: their output is prefixed, a child that dies (worker, web, a demo
 * agent) is started again with backoff instead of taking the whole stack down, and one Ctrl-C
 * (stopAll) stops them all without restarting any.
 */
export class ProcessGroup {
  private readonly children = new Map<string, Managed>();
  private stopping = false;
  /** Told about every unexpected exit and the restart that follows (the launcher prints it). */
  onRestart: (name: string, exit: string, delayMs: number, restart: number) => void = () => undefined;

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  start(name: string, command: string, args: string[], opts: StartOptions = {}): ChildProcess {
    if (this.children.has(name)) throw new Error(`A child named ${name} is already supervised`);
    const managed: Managed = {
      name,
      command,
      args,
      opts,
      colour: COLOURS[this.children.size % COLOURS.length]!,
      child: undefined as unknown as ChildProcess,
      failures: 0,
      restarts: 0,
      startedAt: 0,
    };
    this.children.set(name, managed);
    this.spawn(managed);
    return managed.child;
  }

  /** The live process of a supervised child (a new one after every restart). */
  current(name: string): ChildProcess | undefined {
    return this.children.get(name)?.child;
  }

  restartCount(name: string): number {
    return this.children.get(name)?.restarts ?? 0;
  }

  private spawn(managed: Managed) {
    const { name, colour, opts } = managed;
    const child = spawn(managed.command, managed.args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    managed.child = child;
    managed.startedAt = Date.now();
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (opts.quiet && !/error|fatal|warn/i.test(line)) return;
        process.stdout.write(`${colour}${name.padEnd(8)}${RESET} ${formatLogLine(line)}\n`);
      });
    }
    // A command that cannot be spawned at all (ENOENT, EACCES) ends up here and in 'exit' handling below.
    child.on('error', (err) => process.stdout.write(`${colour}${name.padEnd(8)}${RESET} could not run: ${err.message}\n`));
    child.once('close', (code, signal) => {
      if (this.stopping) return;
      const ranMs = Date.now() - managed.startedAt;
      managed.failures = ranMs >= this.policy.healthyAfterMs ? 1 : managed.failures + 1;
      const delay = restartDelayMs(managed.failures, this.policy);
      const exit = signal ? `signal ${signal}` : `code ${code}`;
      managed.restarts += 1;
      this.onRestart(name, exit, delay, managed.restarts);
      managed.restartTimer = setTimeout(() => {
        managed.restartTimer = undefined;
        if (!this.stopping) this.spawn(managed);
      }, delay);
    });
  }

  /** SIGTERM everyone, wait up to `graceMs`, then SIGKILL the rest. Nothing is restarted afterwards. */
  async stopAll(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    for (const c of this.children.values()) clearTimeout(c.restartTimer);
    const alive = [...this.children.values()].filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              c.child.kill('SIGKILL');
              resolve();
            }, graceMs);
            c.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
