// Download limits shared by every worker process through Redis, so a cluster's caps hold however many
// workers run its download steps. Time comes from Redis (TIME) so the processes' clocks never matter.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { BandwidthBudget, FileSlots } from '@fleetplane/hub';

/** The commands these need: any ioredis client (BullMQ's own connection will do). */
export type DownloadLimitsRedis = Pick<Redis, 'eval' | 'zrem'>;

/** A held slot is a lease renewed while its download runs: a killed worker's slot frees within this. */
export const SLOT_LEASE_MS = 30_000;

// KEYS[1] slot set; ARGV: capacity, holder id, lease ms. Drops lapsed leases, then admits when below capacity.
const ACQUIRE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0`;

// KEYS[1] slot set; ARGV: holder id, lease ms.
const RENEW_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0`;

// KEYS[1] bucket hash; ARGV: rate (bytes/s), burst (bytes), bytes taken. Returns the ms to wait.
// Takers may go into debt and then wait for their share, as the in-process BandwidthLimiter does.
const TAKE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) / 1000 * rate) - tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
if tokens < 0 then return math.ceil(-tokens / rate * 1000) end
return 0`;

/**
 * A counting semaphore across processes: a sorted set of leases. Waiters poll (with jitter) rather than
 * queue, so admission is not first-come-first-served across processes; the capacity is read on every
 * attempt, so an operator's change applies to the next file.
 */
export class RedisFileSlots implements FileSlots {
  constructor(
    private readonly redis: DownloadLimitsRedis,
    private readonly key: string,
    private capacity: number,
    private readonly pollMs = 200,
  ) {}

  setCapacity(n: number): void {
    this.capacity = n;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    const holder = randomUUID();
    for (;;) {
      signal?.throwIfAborted();
      if ((await this.redis.eval(ACQUIRE_SLOT, 1, this.key, this.capacity, holder, SLOT_LEASE_MS)) === 1) break;
      await sleep(this.pollMs * (0.5 + Math.random()), undefined, { signal });
    }
    const renew = setInterval(
      () => void this.redis.eval(RENEW_SLOT, 1, this.key, holder, SLOT_LEASE_MS).catch(() => undefined),
      SLOT_LEASE_MS / 3,
    );
    renew.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      void this.redis.zrem(this.key, holder).catch(() => undefined);
    };
  }
}

/** A token bucket across processes; the rate is read on every take, so a change applies at once. */
export class RedisBandwidthBudget implements BandwidthBudget {
  constructor(
    private readonly redis: DownloadLimitsRedis,
    private readonly key: string,
    private bytesPerSecond: number,
  ) {}

  setRate(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const rate = this.bytesPerSecond;
    const waitMs = Number(await this.redis.eval(TAKE_TOKENS, 1, this.key, rate, Math.max(64 * 1024, rate / 4), bytes));
    if (waitMs > 0) await sleep(waitMs, undefined, { signal });
  }
}
