import { z } from 'zod';
import { defineJob, jobIdPart } from './define-job';

const ZRollupRange = z
  .object({
    /** Backfill: recompute the minute and hour buckets of [from, to) instead of the recent window. */
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
  })
  .refine((v) => (v.from === undefined) === (v.to === undefined), { message: 'Give both from and to, or neither', path: ['to'] })
  .refine((v) => !v.from || !v.to || Date.parse(v.from) < Date.parse(v.to), { message: '"from" must be before "to"', path: ['from'] });

/**
 * Minute rollups from raw GPU samples and hour rollups from minute rollups. The repeatable run
 * covers the last few minutes; ingest enqueues a backfill range when an agent replays old samples.
 */
export const telemetryRollupJob = defineJob({
  queue: 'maintenance',
  name: 'telemetry-rollup',
  schema: ZRollupRange,
  repeatEveryMs: 60_000,
});

/**
 * Creates the raw tables' hourly partitions ahead, drops those past TELEMETRY_RAW_RETENTION_HOURS and
 * deletes rollups, idempotency records and XIDs past their windows in batches.
 */
export const telemetryRetentionJob = defineJob({
  queue: 'maintenance',
  name: 'telemetry-retention',
  schema: z.object({ now: z.iso.datetime().optional() }),
  repeatEveryMs: 10 * 60_000,
});

/**
 * One backfill per node, sample hour and minute of arrival: a replayed backlog that arrives over a
 * minute or two collapses into a few jobs, and data arriving later for the same hour gets its own.
 */
export function rollupBackfillJobId(nodeId: string, hourStart: Date, receivedAt: Date): string {
  const minute = Math.floor(receivedAt.getTime() / 60_000);
  return `rollup-backfill-${jobIdPart(nodeId)}-${hourStart.getTime()}-${minute}`;
}
