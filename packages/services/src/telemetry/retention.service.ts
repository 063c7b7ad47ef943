import { Prisma, type PrismaClient } from '@fleetplane/db';

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

const TABLES = [
  { name: 'gpu_sample', column: 'sampled_at', extra: Prisma.empty, key: 'gpuSamples' },
  { name: 'engine_sample', column: 'sampled_at', extra: Prisma.empty, key: 'engineSamples' },
  { name: 'gpu_rollup', column: 'bucket_start', extra: Prisma.sql`AND resolution = 'minute'`, key: 'minuteRollups' },
  { name: 'gpu_rollup', column: 'bucket_start', extra: Prisma.sql`AND resolution = 'hour'`, key: 'hourRollups' },
  { name: 'cluster_rollup', column: 'bucket_start', extra: Prisma.empty, key: 'clusterRollups' },
  { name: 'ingest_batch', column: 'received_at', extra: Prisma.empty, key: 'ingestBatches' },
  { name: 'xid_event', column: 'occurred_at', extra: Prisma.empty, key: 'xidEvents' },
] as const;

type RetentionKey = (typeof TABLES)[number]['key'];

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
 * Deletes telemetry past its retention in bounded batches (by ctid, so each statement touches at most
 * RETENTION_BATCH_ROWS rows via the time index). gpu_sample is a plain indexed table, not partitioned:
 * see docs/telemetry.md for why.
 */
export async function applyTelemetryRetention(prisma: PrismaClient, opts: { now?: Date; policy?: Partial<RetentionPolicy> } = {}) {
  const policy = { ...DEFAULT_RETENTION, ...opts.policy };
  const limits = cutoffs(opts.now ?? new Date(), policy);
  const deleted = {} as Record<RetentionKey, number>;
  for (const t of TABLES) {
    let total = 0;
    for (let i = 0; i < RETENTION_MAX_BATCHES; i += 1) {
      const table = Prisma.raw(`"${t.name}"`);
      const column = Prisma.raw(`"${t.column}"`);
      const n = await prisma.$executeRaw`
        DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM ${table} WHERE ${column} < ${limits[t.key]} ${t.extra} LIMIT ${RETENTION_BATCH_ROWS}))`;
      total += n;
      if (n < RETENTION_BATCH_ROWS) break;
    }
    deleted[t.key] = total;
  }
  return { deleted, cutoffs: Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, v.toISOString()])) };
}
