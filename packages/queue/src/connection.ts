import type { ConnectionOptions } from 'bullmq';

/**
 * Plain ioredis options rather than a shared instance: BullMQ then sets maxRetriesPerRequest: null
 * for workers itself, and each Queue/Worker owns (and closes) its own connection.
 */
export function redisConnectionOptions(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}
