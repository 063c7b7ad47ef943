/** Process and statistics helpers shared by the benchmarks (Linux /proc). */
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
