// The worker as main.ts starts it (startWorkerApp: every queue, every processor), in its own process
// so a test can kill -9 it mid-job; crash-recovery timings come from the environment so the test
// need not wait the production 30–90 s for a lost job to be handed on.
import { createLogger } from '@fleetplane/config';
import { startWorkerApp } from '../worker-app';

const env = process.env;
const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
if (!env.DATABASE_URL || !env.REDIS_URL || !env.FLEETPLANE_QUEUE_PREFIX)
  throw new Error('DATABASE_URL, REDIS_URL and FLEETPLANE_QUEUE_PREFIX are required');
const log = createLogger('worker-child', 'info');
const app = await startWorkerApp({
  databaseUrl: env.DATABASE_URL,
  redisUrl: env.REDIS_URL,
  queuePrefix: env.FLEETPLANE_QUEUE_PREFIX,
  concurrency: 4,
  log,
  lockDurationMs: num('TEST_LOCK_DURATION_MS'),
  stalledIntervalMs: num('TEST_STALLED_INTERVAL_MS'),
  maxStalledCount: num('TEST_MAX_STALLED_COUNT'),
  maintenanceIntervalMs: num('TEST_MAINTENANCE_INTERVAL_MS'),
  reconcile: { heartbeatStaleMs: num('TEST_HEARTBEAT_STALE_MS'), idleGraceMs: num('TEST_RECONCILE_IDLE_GRACE_MS') },
});
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
