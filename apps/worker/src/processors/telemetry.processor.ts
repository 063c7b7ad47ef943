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
      if (Object.values(result.deleted).some((n) => n > 0)) log.info(result.deleted, 'deleted telemetry past retention');
      return result;
    });
}
