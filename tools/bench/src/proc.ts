/** Process and statistics helpers shared by the benchmarks (Linux /proc). */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A memory field of /proc/<pid>/status in kB (VmHWM = peak RSS, VmRSS = now); 0 when the process is gone. */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and all its descendants (Next may fork workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i += 1) {
    const p = out[i]!;
    try {
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // exited
    }
  }
  return out;
}

/** utime+stime (and children's) of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = 100; // CLK_TCK on Linux
    const n = (i: number) => Number(fields[i - 3]);
    return { own: (n(14) + n(15)) / tick, children: (n(16) + n(17)) / tick };
  } catch {
    return { own: 0, children: 0 };
  }
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** SIGTERM a process tree (children first), then SIGKILL what is left after `graceMs`. */
export async function stopTree(pid: number, graceMs = 1500): Promise<void> {
  const tree = processTree(pid).reverse();
  const signal = (sig: NodeJS.Signals) => {
    for (const p of tree) {
      try {
        process.kill(p, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  await new Promise((r) => setTimeout(r, graceMs));
  signal('SIGKILL');
}

/** The lines a child process writes to stdout, as they come. */
export function lines(child: ChildProcess): AsyncIterable<string> {
  let buffer = '';
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      queue.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
    wake?.();
  });
  child.on('close', () => {
    ended = true;
    wake?.();
  });
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length) yield queue.shift()!;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

/** The next line, or an error naming `what` when the process exited first. */
export async function firstLine(it: AsyncIterator<string>, what: string): Promise<string> {
  const r = await it.next();
  if (r.done) throw new Error(`${what} exited before answering`);
  return r.value;
}

/** CPU seconds of a process and everything it forked (the web server and its workers). */
export function treeCpu(pid: number): number {
  return processTree(pid).reduce((n, p) => n + cpuSeconds(p).own, 0);
}

/**
 * CPU seconds used by a set of processes that changes while it is measured (the Postgres backends of one
 * database come and go with the connection pools). Sampled every `everyMs`: a process first seen after the
 * first sample counts from zero, one that exits counts up to its last sample (at most `everyMs` is lost).
 * Unlike cpuSecondsByName this leaves out other databases' backends on a shared server.
 */
export function meterCpuOf(listPids: () => Promise<number[]>, everyMs = 250): { stop(): Promise<number> } {
  const base = new Map<number, number>();
  const last = new Map<number, number>();
  let first = true;
  const sample = async () => {
    for (const pid of await listPids()) {
      const cpu = cpuSeconds(pid).own;
      if (!base.has(pid)) base.set(pid, first ? cpu : 0);
      if (cpu > 0) last.set(pid, cpu);
    }
    first = false;
  };
  let running = sample();
  const timer = setInterval(() => {
    running = running.then(sample);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await sample();
      let total = 0;
      for (const [pid, cpu] of last) total += Math.max(0, cpu - (base.get(pid) ?? 0));
      return total;
    },
  };
}
