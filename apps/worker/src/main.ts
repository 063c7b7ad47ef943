// The worker process: BullMQ consumers only, no HTTP server. SIGTERM/SIGINT close it gracefully.
import { ConfigError, createLogger, loadConfig } from '@fleetplane/config';
import { startWorkerApp } from './worker-app';

const log = createLogger('worker');

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      log.fatal(e.message);
      process.exit(2);
    }
    throw e;
  }
  const app = await startWorkerApp({
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    queuePrefix: config.FLEETPLANE_QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    log,
    pipeline: { tools: { 'llama-quantize': config.LLAMA_QUANTIZE_PATH } },
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    app.close().then(
      () => {
        log.info('worker stopped');
        // Every queue, worker, FlowProducer and connection is closed now, so Node exits by itself.
        // If something is still open after 5 s, name it and exit non-zero (the boot test checks this).
        const leak = setTimeout(() => {
          log.error({ resources: process.getActiveResourcesInfo() }, 'handles still open after close; exiting');
          process.exit(1);
        }, 5_000);
        leak.unref();
        process.exitCode = 0;
      },
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
main().catch((err: unknown) => {
  log.fatal({ err }, 'worker failed to start');
  process.exit(1);
});
