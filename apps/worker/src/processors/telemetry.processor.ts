import { telemetryRetentionJob, telemetryRollupJob } from '@fleetplane/contracts';
import { loadConfig } from '@fleetplane/config';
import { applyTelemetryRetention, runTelemetryRollup } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerTelemetry(registry: ProcessorRegistry) {
  registry
    .register(telemetryRollupJob, async (payload, _job, { prisma, log }) => {
      const range = payload.from && payload.to ? { from: new Date(payload.from), to: new Date(payload.to) } : undefined;
      const result = await runTelemetryRollup(prisma, { range, rawRetentionHours: loadConfig().TELEMETRY_RAW_RETENTION_HOURS });
      if (result.minuteBuckets || range) log.info(result, range ? 'rollup backfill' : 'rolled up telemetry');
      return result;
    })
    .register(telemetryRetentionJob, async (payload, _job, { prisma, log }) => {
      const result = await applyTelemetryRetention(prisma, {
        now: payload.now ? new Date(payload.now) : undefined,
        policy: { rawHours: loadConfig().TELEMETRY_RAW_RETENTION_HOURS },
      });
      const partitions = Object.entries(result.partitions).map(([table, p]) => ({
        table,
        created: p.created.length,
        movedFromDefault: p.movedRows,
        dropped: p.dropped.map((d) => d.name),
        droppedRowsEstimate: p.dropped.reduce((n, d) => n + d.rowsEstimate, 0),
        skipped: p.skipped,
      }));
      const changed = partitions.filter((p) => p.created || p.movedFromDefault || p.dropped.length || p.skipped.length);
      if (Object.values(result.deleted).some((n) => n > 0) || changed.length) {
        log.info({ deleted: result.deleted, partitions: changed }, 'applied telemetry retention');
      }
      // An expired partition whose lock was busy is dropped by the next run; say so in case it keeps happening.
      for (const p of partitions)
        if (p.skipped.length) log.warn({ table: p.table, partitions: p.skipped }, 'expired partitions left for the next run: lock busy');
      return result;
    });
}
