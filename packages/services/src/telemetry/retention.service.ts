import type { PrismaClient } from '@fleetplane/db';
import { deleteExpired, deleteExpiredRows, ROW_EXPIRING_TABLES, type RowExpiringKind } from './retention.sql';
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

/** Raw samples live in hourly partitions, dropped whole (partitions.service.ts). */
const PARTITIONED = [
  { name: 'gpu_sample', key: 'gpuSamples' },
  { name: 'engine_sample', key: 'engineSamples' },
] as const satisfies readonly { name: PartitionedTelemetryTable; key: string }[];

type RetentionKey = (typeof PARTITIONED)[number]['key'] | RowExpiringKind;

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
  for (const kind of Object.keys(ROW_EXPIRING_TABLES) as RowExpiringKind[]) deleted[kind] = await deleteExpired(prisma, kind, limits[kind]);
  return {
    deleted,
    partitions,
    cutoffs: Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, v.toISOString()])) as Record<RetentionKey, string>,
  };
}
