import { Prisma, type PrismaClient } from '@fleetplane/db';
import {
  applyPartitionRetention,
  ensureTelemetryPartitions,
  type EnsurePartitionsResult,
  type PartitionedTelemetryTable,
  type PartitionRetentionResult,
} from './partitions.service';

export interface RetentionPolicy {
  /** TELEMETRY_RAW_RETENTION_HOURS: raw GPU and engine samples. */
  rawHours: number;
  minuteRollupDays: number;
  hourRollupDays: number;
  /** Idempotency records only need to outlive the longest agent backlog (the agent's disk queue holds hours). */
  ingestBatchDays: number;
  xidEventDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  rawHours: 48,
  minuteRollupDays: 14,
  hourRollupDays: 365,
  ingestBatchDays: 7,
  xidEventDays: 90,
};

/** Rows deleted per statement: small enough that a delete never holds locks or bloats WAL for long. */
export const RETENTION_BATCH_ROWS = 20_000;
/** Per table and run; whatever is left is deleted by the next run. */
export const RETENTION_MAX_BATCHES = 50;

/** Raw samples live in hourly partitions, dropped whole (partitions.service.ts). */
const PARTITIONED = [
  { name: 'gpu_sample', key: 'gpuSamples' },
  { name: 'engine_sample', key: 'engineSamples' },
] as const satisfies readonly { name: PartitionedTelemetryTable; key: string }[];

/** Everything else is deleted by rows: these tables are small next to the raw samples (docs/performance.md). */
const UNPARTITIONED = [
  { name: 'gpu_rollup', column: 'bucket_start', extra: Prisma.sql`AND resolution = 'minute'`, key: 'minuteRollups' },
  { name: 'gpu_rollup', column: 'bucket_start', extra: Prisma.sql`AND resolution = 'hour'`, key: 'hourRollups' },
  { name: 'cluster_rollup', column: 'bucket_start', extra: Prisma.empty, key: 'clusterRollups' },
  { name: 'ingest_batch', column: 'received_at', extra: Prisma.empty, key: 'ingestBatches' },
  { name: 'xid_event', column: 'occurred_at', extra: Prisma.empty, key: 'xidEvents' },
] as const;

type RetentionKey = (typeof PARTITIONED)[number]['key'] | (typeof UNPARTITIONED)[number]['key'];

function cutoffs(now: Date, p: RetentionPolicy): Record<RetentionKey, Date> {
  const hours = (h: number) => new Date(now.getTime() - h * 3_600_000);
  return {
    gpuSamples: hours(p.rawHours),
    engineSamples: hours(p.rawHours),
    minuteRollups: hours(p.minuteRollupDays * 24),
    hourRollups: hours(p.hourRollupDays * 24),
    // Only minute buckets are written per cluster; they live as long as the GPU minute rollups.
    clusterRollups: hours(p.minuteRollupDays * 24),
    ingestBatches: hours(p.ingestBatchDays * 24),
    xidEvents: hours(p.xidEventDays * 24),
  };
}

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

export interface RetentionResult {
  /** Rows deleted by statement, per kind. Raw samples in dropped partitions are counted in `partitions`. */
  deleted: Record<RetentionKey, number>;
  partitions: Record<PartitionedTelemetryTable, PartitionRetentionResult & Pick<EnsurePartitionsResult, 'created' | 'movedRows'>>;
  cutoffs: Record<RetentionKey, string>;
}

/**
 * The telemetry-retention job (every 10 min): first makes sure the raw tables have their partitions
 * ahead (and moves rows that fell into DEFAULT into theirs), then drops the raw partitions past
 * TELEMETRY_RAW_RETENTION_HOURS and deletes rollups, idempotency records and XIDs past their windows.
 */
export async function applyTelemetryRetention(
  prisma: PrismaClient,
  opts: { now?: Date; policy?: Partial<RetentionPolicy> } = {},
): Promise<RetentionResult> {
  const policy = { ...DEFAULT_RETENTION, ...opts.policy };
  const now = opts.now ?? new Date();
  const limits = cutoffs(now, policy);
  const ensured = await ensureTelemetryPartitions(prisma, { now, rawRetentionHours: policy.rawHours });
  const deleted = {} as Record<RetentionKey, number>;
  const partitions = {} as RetentionResult['partitions'];
  for (const t of PARTITIONED) {
    const r = await applyPartitionRetention(prisma, t.name, limits[t.key], now, (relation, column, cutoff) =>
      deleteExpiredRows(prisma, relation, column, cutoff),
    );
    deleted[t.key] = r.deletedRows;
    partitions[t.name] = { ...r, created: ensured[t.name].created, movedRows: ensured[t.name].movedRows };
  }
  for (const t of UNPARTITIONED) {
    deleted[t.key] = await deleteExpiredRows(prisma, Prisma.raw(`"${t.name}"`), Prisma.raw(`"${t.column}"`), limits[t.key], t.extra);
  }
  return {
    deleted,
    partitions,
    cutoffs: Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, v.toISOString()])) as Record<RetentionKey, string>,
  };
}
