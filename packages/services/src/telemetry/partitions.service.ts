import type { Prisma, PrismaClient } from '@fleetplane/db';
import { PARTITION_MS, partitionsToCreate, retentionPlan } from '@fleetplane/domain';
import { lockKey } from '../shared/locks.sql';
import { createAndAttachPartition, dropPartition, listPartitions, partitionRows, setLocalLockTimeout, strayHours } from './partitions.sql';

/**
 * The raw telemetry tables, RANGE-partitioned by hour on sampled_at (migration
 * 20261203072000_telemetry_partitions; docs/telemetry.md › Storage). Each has a DEFAULT partition
 * that catches rows whose hour has no partition yet, so ingest never fails for want of one.
 */
export const PARTITIONED_TELEMETRY_TABLES = ['gpu_sample', 'engine_sample'] as const;
export type PartitionedTelemetryTable = (typeof PARTITIONED_TELEMETRY_TABLES)[number];

/** Partitions exist this far ahead: a worker may be down for hours before rows fall into DEFAULT. */
export const PARTITIONS_AHEAD_HOURS = 6;
/**
 * Partition DDL waits at most this long for its lock. DROP and ATTACH need a strong lock on the parent
 * or the DEFAULT partition; a request queued behind a long query would hold up every ingest statement
 * behind it, so the DDL gives up instead and the next run (10 min later) tries again.
 */
export const PARTITION_LOCK_TIMEOUT_MS = 3_000;

export interface EnsurePartitionsResult {
  created: string[];
  /** Rows moved out of DEFAULT into the partition created for their hour. */
  movedRows: number;
}

/**
 * Creates the hourly partitions of [from, to) that are missing, plus one for each hour of
 * [from - `strayBackHours`, to) that has rows waiting in the DEFAULT partition (those rows move into it).
 * Idempotent and safe under concurrent callers: an advisory lock per table serialises them and each
 * re-reads the catalogue under it. One transaction per partition, so a lock taken for one (ATTACH locks
 * the DEFAULT partition, its foreign keys briefly lock gpu / node / cluster) is held for milliseconds.
 */
export async function ensurePartitions(
  prisma: PrismaClient,
  table: PartitionedTelemetryTable,
  range: { from: Date; to: Date; strayFrom?: Date },
): Promise<EnsurePartitionsResult> {
  const result: EnsurePartitionsResult = { created: [], movedRows: 0 };
  const strayFrom = range.strayFrom ?? range.from;
  // Re-planned after each partition: another caller may have created the next one meanwhile.
  for (;;) {
    const step = await prisma.$transaction(
      async (tx) => {
        await setLocalLockTimeout(tx, PARTITION_LOCK_TIMEOUT_MS);
        await lockKey(tx, `fleetplane.partitions.${table}`);
        const existing = await listPartitions(tx, table);
        const dflt = existing.find((p) => p.isDefault);
        const stray = dflt ? await strayHours(tx, dflt.name, strayFrom, range.to) : [];
        const [next] = partitionsToCreate(table, existing, range.from, range.to, stray);
        if (!next) return null;
        const moved = await createAndAttachPartition(tx, table, next, dflt?.name ?? null);
        return { name: next.name, moved };
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    if (!step) return result;
    result.created.push(step.name);
    result.movedRows += step.moved;
  }
}

/**
 * What the worker and web app call at start and the retention job every run: each raw table has its
 * partitions from the previous hour to PARTITIONS_AHEAD_HOURS ahead, and rows that fell into DEFAULT
 * inside the retention window get their hour's partition.
 */
export async function ensureTelemetryPartitions(
  prisma: PrismaClient,
  opts: { now?: Date; aheadHours?: number; rawRetentionHours?: number } = {},
): Promise<Record<PartitionedTelemetryTable, EnsurePartitionsResult>> {
  const now = opts.now ?? new Date();
  const from = new Date(now.getTime() - PARTITION_MS);
  const to = new Date(now.getTime() + (opts.aheadHours ?? PARTITIONS_AHEAD_HOURS) * PARTITION_MS);
  const strayFrom = new Date(now.getTime() - (opts.rawRetentionHours ?? 48) * PARTITION_MS);
  const out = {} as Record<PartitionedTelemetryTable, EnsurePartitionsResult>;
  for (const table of PARTITIONED_TELEMETRY_TABLES) out[table] = await ensurePartitions(prisma, table, { from, to, strayFrom });
  return out;
}

export interface PartitionRetentionResult {
  /** Rows deleted one by one (from DEFAULT and from a wide partition straddling the cutoff). */
  deletedRows: number;
  dropped: { name: string; rowsEstimate: number }[];
  /** Expired partitions whose lock could not be had within PARTITION_LOCK_TIMEOUT_MS: the next run drops them. */
  skipped: string[];
}

function isLockTimeout(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err);
  return /55P03|lock timeout/i.test(text);
}

/**
 * Retention of one partitioned table: expired hourly partitions are dropped whole (the one straddling
 * the cutoff stays until it has fully expired), DEFAULT and a wider straddling partition get a batched
 * row delete (`deleteRows`, the same one the unpartitioned tables use).
 */
export async function applyPartitionRetention(
  prisma: PrismaClient,
  table: PartitionedTelemetryTable,
  cutoff: Date,
  now: Date,
  deleteRows: (relation: Prisma.Sql, column: Prisma.Sql, cutoff: Date) => Promise<number>,
): Promise<PartitionRetentionResult> {
  const plan = retentionPlan(await listPartitions(prisma, table), cutoff, now);
  const result: PartitionRetentionResult = { deletedRows: 0, dropped: [], skipped: [] };
  for (const p of plan.drop) {
    try {
      const rowsEstimate = await prisma.$transaction(async (tx) => {
        await setLocalLockTimeout(tx, PARTITION_LOCK_TIMEOUT_MS);
        return dropPartition(tx, p.name);
      });
      result.dropped.push({ name: p.name, rowsEstimate });
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      result.skipped.push(p.name);
    }
  }
  for (const p of plan.deleteRowsFrom) {
    const { relation, column } = partitionRows(p.name);
    result.deletedRows += await deleteRows(relation, column, cutoff);
  }
  return result;
}
