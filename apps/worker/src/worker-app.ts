import { Worker } from 'bullmq';
import type { TQueueName } from '@fleetplane/contracts';
import { loadConfig, type Logger } from '@fleetplane/config';
import { createPrismaClient, pingDatabase } from '@fleetplane/db';
import { Redis } from 'ioredis';
import { ensureJobSchedulers, JobProducer, readRedisSettings, redisConnectionOptions, redisSettingsWarnings } from '@fleetplane/queue';
import { registerMaintenance } from './processors/maintenance.processor';
import { registerTelemetry } from './processors/telemetry.processor';
import { registerHealth } from './processors/health.processor';
import { registerNotifications } from './processors/notifications.processor';
import { registerValidation } from './processors/validation.processor';
import { registerUpstream } from './processors/upstream.processor';
import { registerPipelines, type PipelineOptions } from './processors/pipelines.processor';
import { ensureTelemetryPartitions, reconcileLostJobs, syncSuites, type ReconcileOptions } from '@fleetplane/services';
import { registerRollouts } from './processors/rollouts.processor';
import { ProcessorRegistry } from './registry';

export interface WorkerAppOptions {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  concurrency: number;
  log: Logger;
  /** Per-queue concurrency overrides (e.g. one pipeline job at a time per worker). */
  concurrencyByQueue?: Partial<Record<TQueueName, number>>;
  /**
   * Crash recovery timing (tests shorten it). A job's lock lives lockDurationMs and is renewed while
   * its worker lives; a job whose lock lapsed is found by the stalled check (every stalledIntervalMs)
   * and handed to another worker, at most maxStalledCount times, after which it fails. Defaults:
   * 30 s, 30 s, 2: a job of a killed worker runs again 30–90 s later.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /**
   * Every this often (default 15 s) an in-process timer re-creates missing job schedulers and runs
   * the lost-job reconciler. A timer, not a repeatable job: it keeps running when Redis came back
   * empty and every repeatable job with it is gone.
   */
  maintenanceIntervalMs?: number;
  /** Reconciler timing (tests shorten the heartbeat staleness). */
  reconcile?: ReconcileOptions;
  /** Pipeline step options (the external tools quantise recipes run). */
  pipeline?: PipelineOptions;
}

/** Warns about Redis settings that lose jobs; a managed Redis that refuses CONFIG and INFO gives no warning. */
async function warnAboutRedisSettings(redisUrl: string, log: Logger) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5_000, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (const warning of redisSettingsWarnings(await readRedisSettings(redis))) log.warn(warning);
  } catch (err) {
    log.debug({ err }, 'could not read the Redis settings');
  } finally {
    redis.disconnect();
  }
}

export function buildRegistry(pipeline: PipelineOptions = {}): ProcessorRegistry {
  const registry = new ProcessorRegistry();
  registerMaintenance(registry);
  registerTelemetry(registry);
  registerHealth(registry);
  registerNotifications(registry);
  registerValidation(registry);
  registerUpstream(registry);
  registerPipelines(registry, pipeline);
  registerRollouts(registry);
  return registry;
}

export async function startWorkerApp(opts: WorkerAppOptions) {
  const prisma = createPrismaClient(opts.databaseUrl, { max: 5 });
  await pingDatabase(prisma);
  // Built-in validation suites as versioned rows; a changed definition becomes a new version.
  await syncSuites(prisma);
  // Raw telemetry partitions from the previous hour to six hours ahead. Rows never wait for this (they
  // land in the DEFAULT partition meanwhile), so a failure is logged and the retention job retries.
  await Promise.resolve()
    .then(() => ensureTelemetryPartitions(prisma, { rawRetentionHours: loadConfig().TELEMETRY_RAW_RETENTION_HOURS }))
    .catch((err: unknown) => opts.log.warn({ err }, 'could not create telemetry partitions ahead; the retention job will retry'));
  const producer = new JobProducer(opts.redisUrl, opts.queuePrefix);
  const registry = buildRegistry(opts.pipeline);
  const deps = { prisma, producer, log: opts.log, reconcile: opts.reconcile };
  const connection = redisConnectionOptions(opts.redisUrl);

  const workers = registry.queues().map((queue) => {
    const worker = new Worker(queue, registry.processorFor(queue, deps), {
      connection,
      prefix: opts.queuePrefix,
      concurrency: opts.concurrencyByQueue?.[queue] ?? opts.concurrency,
      // A job whose worker died (kill -9) is picked up again once its lock lapses (see the options).
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: opts.maxStalledCount ?? 2,
    });
    // Without an error listener a Redis hiccup could take the process down.
    worker.on('error', (err) => opts.log.error({ err, queue }, 'worker error'));
    worker.on('failed', (job, err) =>
      opts.log.warn({ queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'),
    );
    worker.on('completed', (job) => opts.log.debug({ queue, job: job.name, jobId: job.id }, 'job completed'));
    return worker;
  });

  await warnAboutRedisSettings(opts.redisUrl, opts.log);
  // Repeatable jobs: upserting a scheduler is idempotent, so every worker replica may do it.
  const repeatable = registry.definitions().filter((def) => def.repeatEveryMs);
  await ensureJobSchedulers(producer, repeatable, { refreshAll: true });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  opts.log.info({ queues: registry.queues(), prefix: opts.queuePrefix }, 'worker ready');

  // Redis that comes back empty (restart without persistence, failover to an empty replica) loses the
  // schedulers and every queued job: this timer notices and repairs both without a worker restart.
  let maintenance: Promise<void> | undefined;
  const maintain = async () => {
    try {
      const recreated = await ensureJobSchedulers(producer, repeatable);
      if (recreated.length) opts.log.warn({ recreated }, 'job schedulers were missing (Redis lost its data?); re-created them');
      const result = await reconcileLostJobs({ prisma, producer }, opts.reconcile);
      if (result.requeued.length || result.failed.length || result.settled.length)
        opts.log.warn(result, 'reconciled runs whose jobs were gone');
    } catch (err) {
      // Redis or Postgres away: the next tick tries again.
      opts.log.warn({ err: (err as Error).message }, 'maintenance tick failed');
    }
  };
  const timer = setInterval(() => {
    maintenance ??= maintain().finally(() => (maintenance = undefined));
  }, opts.maintenanceIntervalMs ?? 15_000);

  let closing: Promise<void> | undefined;
  return {
    workers,
    registry,
    close(): Promise<void> {
      closing ??= (async () => {
        clearInterval(timer);
        await maintenance;
        // Let running jobs finish (BullMQ waits for them), then drop connections.
        await Promise.all(workers.map((w) => w.close()));
        // Then what the processors opened themselves (the pipeline FlowProducer).
        await registry.close();
        await producer.close();
        await prisma.$disconnect();
      })();
      return closing;
    },
  };
}
