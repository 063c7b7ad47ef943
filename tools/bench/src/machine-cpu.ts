import { readFileSync } from 'node:fs';

/** The machine-wide CPU counters of /proc/stat's first line, in clock ticks; null off Linux. */
export interface MachineCpuTicks {
  total: number;
  idle: number;
  steal: number;
}

export function machineCpuTicks(): MachineCpuTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
    return { total: user! + nice! + system! + idle! + iowait! + irq! + softirq! + steal!, idle: idle! + iowait!, steal: steal! };
  } catch {
    return null;
  }
}

/**
 * How busy the machine was between two readings, and how much of its CPU time the hypervisor gave to
 * other guests ("steal"). On a shared VM, steal is time in which none of our processes could run
 * however idle they were, so it shows up directly in tail latencies.
 */
export function machineCpuBetween(a: MachineCpuTicks | null, b: MachineCpuTicks | null): { busyPct: number; stealPct: number } | null {
  if (!a || !b || b.total <= a.total) return null;
  const total = b.total - a.total;
  return { busyPct: (100 * (total - (b.idle - a.idle) - (b.steal - a.steal))) / total, stealPct: (100 * (b.steal - a.steal)) / total };
}
