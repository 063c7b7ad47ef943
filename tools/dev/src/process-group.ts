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
  child: ChildProcess;
  critical: boolean;
}

/** Children started by `npm start`: their output is prefixed, and one Ctrl-C stops them all. */
export class ProcessGroup {
  private readonly children: Managed[] = [];
  private stopping = false;
  onCriticalExit: (name: string, code: number | null) => void = () => undefined;

  start(name: string, command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; critical?: boolean; quiet?: boolean } = {}): ChildProcess {
    const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const colour = COLOURS[this.children.length % COLOURS.length];
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (opts.quiet && !/error|fatal|warn/i.test(line)) return;
        process.stdout.write(`${colour}${name.padEnd(8)}${RESET} ${formatLogLine(line)}\n`);
      });
    }
    const managed = { name, child, critical: opts.critical ?? true };
    this.children.push(managed);
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      process.stdout.write(`${colour}${name.padEnd(8)}${RESET} exited (${signal ?? code})\n`);
      if (managed.critical) this.onCriticalExit(name, code);
    });
    return child;
  }

  /** SIGTERM everyone, wait up to `graceMs`, then SIGKILL the rest. */
  async stopAll(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const alive = this.children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
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
