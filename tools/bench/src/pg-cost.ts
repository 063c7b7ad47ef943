/**
 * What one database cost Postgres during a benchmark window, on a Postgres server other databases share.
 *
 * - CPU: the backends connected to the benchmark's database (pg_stat_activity), polled every second so
 *   connections opened during the window count too; a backend that exits loses at most its last second.
 *   Counting every process named `postgres` on the machine instead also counts other databases' work
 *   (other test runs on a shared server) and was what bench:fleet did before.
 * - Statements: pg_stat_statements differences for this database (when the server preloads it): calls,
 *   execution and planning time and rows per statement, without resetting anyone else's counters.
 */
import type { PrismaClient } from '@fleetplane/db';
import { cpuSeconds } from './proc';

export interface DatabaseCpuMeter {
  /** CPU seconds of this database's backends since start(). */
  stop(): Promise<number>;
}

export async function startDatabaseCpuMeter(prisma: PrismaClient, pollMs = 1000): Promise<DatabaseCpuMeter> {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const poll = async (initial: boolean) => {
    const rows = await prisma.$queryRaw<
      { pid: number }[]
    >`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
    for (const { pid } of rows) {
      const own = cpuSeconds(pid).own;
      if (!first.has(pid)) first.set(pid, initial ? own : 0);
      last.set(pid, Math.max(own, last.get(pid) ?? 0));
    }
  };
  await poll(true);
  let polling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(() => poll(false)).catch(() => undefined);
  }, pollMs);
  return {
    async stop() {
      clearInterval(timer);
      await polling;
      await poll(false);
      let total = 0;
      for (const [pid, end] of last) total += end - (first.get(pid) ?? 0);
      return total;
    },
  };
}

export interface StatementCost {
  query: string;
  calls: number;
  execMs: number;
  planMs: number;
  rows: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
  sharedBlksDirtied: number;
  walBytes: number;
}

interface StatRow {
  queryid: string;
  toplevel: boolean;
  query: string;
  calls: number;
  exec_ms: number;
  plan_ms: number;
  rows: number;
  hit: number;
  read: number;
  dirtied: number;
  wal: number;
}

export interface StatementMeter {
  /** Per-statement cost since start(), most execution time first; null when pg_stat_statements is not loaded. */
  stop(): Promise<StatementCost[] | null>;
}

/** Snapshots pg_stat_statements for the current database (creating the extension when the server preloads the library). */
export async function startStatementMeter(prisma: PrismaClient): Promise<StatementMeter> {
  const [setting] = await prisma.$queryRaw<{ preload: string }[]>`SELECT current_setting('shared_preload_libraries') AS preload`;
  if (!setting!.preload.split(',').some((l) => l.trim() === 'pg_stat_statements')) return { stop: async () => null };
  await prisma.$executeRawUnsafe('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const snapshot = () =>
    prisma.$queryRaw<StatRow[]>`
      SELECT queryid::text, toplevel, query, calls::float8 AS calls, total_exec_time AS exec_ms, total_plan_time AS plan_ms,
             rows::float8 AS rows, shared_blks_hit::float8 AS hit, shared_blks_read::float8 AS read,
             shared_blks_dirtied::float8 AS dirtied, wal_bytes::float8 AS wal
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`;
  const key = (r: StatRow) => `${r.queryid}/${r.toplevel}`;
  const before = new Map((await snapshot()).map((r) => [key(r), r]));
  return {
    async stop() {
      const out: StatementCost[] = [];
      for (const r of await snapshot()) {
        const b = before.get(key(r));
        const calls = r.calls - (b?.calls ?? 0);
        if (calls <= 0 || !r.toplevel) continue;
        out.push({
          query: r.query.replace(/\s+/g, ' ').trim(),
          calls,
          execMs: r.exec_ms - (b?.exec_ms ?? 0),
          planMs: r.plan_ms - (b?.plan_ms ?? 0),
          rows: r.rows - (b?.rows ?? 0),
          sharedBlksHit: r.hit - (b?.hit ?? 0),
          sharedBlksRead: r.read - (b?.read ?? 0),
          sharedBlksDirtied: r.dirtied - (b?.dirtied ?? 0),
          walBytes: r.wal - (b?.wal ?? 0),
        });
      }
      return out.sort((a, b) => b.execMs + b.planMs - (a.execMs + a.planMs));
    },
  };
}
