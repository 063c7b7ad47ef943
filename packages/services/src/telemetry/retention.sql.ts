// Batched row deletes for retention: bounded statements by ctid, so none holds locks or bloats WAL for long.
import { Prisma, type PrismaClient } from '@fleetplane/db';

/** Rows deleted per statement: small enough that a delete never holds locks or bloats WAL for long. */
export const RETENTION_BATCH_ROWS = 20_000;
/** Per table and run; whatever is left is deleted by the next run. */
export const RETENTION_MAX_BATCHES = 50;

/**
 * Deletes the rows of one table (or partition) older than `cutoff` in bounded batches: by ctid, so each
 * statement touches at most RETENTION_BATCH_ROWS rows via the time index. `relation` must be a plain
 * table or one partition (ctids are only unique within one). Returns the rows deleted.
 */
export async function deleteExpiredRows(
  prisma: PrismaClient,
  relation: Prisma.Sql,
  column: Prisma.Sql,
  cutoff: Date,
  extra: Prisma.Sql = Prisma.empty,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < RETENTION_MAX_BATCHES; i += 1) {
    const n = await prisma.$executeRaw`
      DELETE FROM ${relation} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${relation} WHERE ${column} < ${cutoff} ${extra} LIMIT ${RETENTION_BATCH_ROWS}))`;
    total += n;
    if (n < RETENTION_BATCH_ROWS) break;
  }
  return total;
}

/** The tables retention deletes by rows (small next to the raw samples, docs/performance.md), and the time column each expires by. */
export const ROW_EXPIRING_TABLES = {
  minuteRollups: { table: 'gpu_rollup', column: 'bucket_start', resolution: 'minute' },
  hourRollups: { table: 'gpu_rollup', column: 'bucket_start', resolution: 'hour' },
  clusterRollups: { table: 'cluster_rollup', column: 'bucket_start', resolution: null },
  ingestBatches: { table: 'ingest_batch', column: 'received_at', resolution: null },
  xidEvents: { table: 'xid_event', column: 'occurred_at', resolution: null },
} as const;
export type RowExpiringKind = keyof typeof ROW_EXPIRING_TABLES;

/** Deletes the rows of one kind in ROW_EXPIRING_TABLES older than `cutoff` (batched, as deleteExpiredRows). */
export function deleteExpired(prisma: PrismaClient, kind: RowExpiringKind, cutoff: Date): Promise<number> {
  const t = ROW_EXPIRING_TABLES[kind];
  return deleteExpiredRows(
    prisma,
    Prisma.raw(`"${t.table}"`),
    Prisma.raw(`"${t.column}"`),
    cutoff,
    // A literal, as the constant it is (from the table above), so the planner sees the value.
    t.resolution ? Prisma.raw(`AND resolution = '${t.resolution}'`) : Prisma.empty,
  );
}
