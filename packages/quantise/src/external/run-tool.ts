import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expandTemplate } from './command-template';
import { parseLlamaQuantizeProgress, parseToolVersion, type ToolProgress, type ToolVersion } from './tool-output';

// Runs an external converter as a child process in its own process group (detached), so a timeout or a cancel
// can kill the whole tree with kill(-pgid): tools like llm-compressor or a shell wrapper start grandchildren that
// a plain child.kill() would orphan. Output is streamed line by line to the caller (the step log).

export interface RunToolOptions {
  /** argv template, e.g. ["llama-quantize", "{input_file}", "{output_file}", "Q4_K_M", "{threads}"]. */
  template: string[];
  values: Record<string, string | number>;
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  onProgress?: (p: ToolProgress) => void;
  /** How long SIGTERM gets before SIGKILL (default 2 s). */
  killGraceMs?: number;
}

export interface RunToolResult {
  argv: string[];
  exitCode: number;
  durationMs: number;
  /** The last lines of output (both streams), for the step log and error messages. */
  tail: string[];
}

export class ToolFailedError extends Error {
  override name = 'ToolFailedError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signalName: string | null,
    readonly tail: string[],
  ) {
    super(message);
  }
}

export class ToolTimeoutError extends Error {
  override name = 'ToolTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly tail: string[],
  ) {
    super(`the tool did not finish within ${Math.round(timeoutMs / 1000)} s and was killed`);
  }
}

const TAIL_LINES = 40;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

export async function runTool(opts: RunToolOptions): Promise<RunToolResult> {
  const argv = expandTemplate(opts.template, opts.values);
  if (opts.signal?.aborted) throw new DOMException('The tool run was cancelled', 'AbortError');
  const started = Date.now();
  const tail: string[] = [];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  let stopReason: 'timeout' | 'abort' | null = null;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'abort') => {
    if (stopReason || pid === undefined) return;
    stopReason = reason;
    killGroup(pid, 'SIGTERM');
    graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), opts.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onAbort = () => stop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const lineDone: Promise<void>[] = [];
  for (const [stream, name] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ] as const) {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      opts.onLine?.(line, name);
      const p = parseLlamaQuantizeProgress(line);
      if (p) opts.onProgress?.(p);
    });
    lineDone.push(new Promise((resolve) => rl.once('close', () => resolve())));
  }

  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    // Whatever the tool left running in its group goes too (a grandchild holding the pipes open would otherwise
    // keep the streams, and this step, alive).
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    await Promise.all(lineDone);
    const durationMs = Date.now() - started;
    if (stopReason === 'timeout') throw new ToolTimeoutError(opts.timeoutMs, tail);
    if (stopReason === 'abort') throw new DOMException('The tool run was cancelled', 'AbortError');
    if (code !== 0) {
      const last = tail
        .filter((l) => l.trim() !== '')
        .slice(-3)
        .join(' | ');
      throw new ToolFailedError(
        `${argv[0]} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`,
        code,
        signal,
        tail,
      );
    }
    return { argv, exitCode: 0, durationMs, tail };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs `<command> --version` (or other args) and parses what it prints on either stream, whatever its exit code. */
export async function probeToolVersion(
  command: string,
  opts: { args?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolVersion | null> {
  const lines: string[] = [];
  try {
    await runTool({
      template: [command, ...(opts.args ?? ['--version'])],
      values: {},
      timeoutMs: opts.timeoutMs ?? 15_000,
      env: opts.env,
      onLine: (l) => lines.push(l),
    });
  } catch (e) {
    // llama-quantize builds without --version print the usage (and the build banner) and exit 1.
    if (!(e instanceof ToolFailedError)) throw e;
  }
  return parseToolVersion(lines.join('\n'));
}
