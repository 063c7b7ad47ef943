import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { JobProducer } from './producer';
import { ensureJobSchedulers } from './schedulers';

const producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
afterAll(async () => {
  await producer.queue('maintenance').obliterate({ force: true });
  await producer.close();
});

const defs = [
  { queue: 'maintenance' as const, name: 'probe-a', repeatEveryMs: 60_000 },
  { queue: 'maintenance' as const, name: 'probe-b', repeatEveryMs: 30_000 },
  { queue: 'maintenance' as const, name: 'not-repeatable' },
];

describe('ensureJobSchedulers (real Redis)', () => {
  it('creates the missing schedulers only, and re-creates one that Redis lost', async () => {
    expect(await ensureJobSchedulers(producer, defs)).toEqual(['probe-a', 'probe-b']);
    const queue = producer.queue('maintenance');
    expect((await queue.getJobScheduler('probe-a'))?.every).toBe(60_000);
    // Present ones are only read, never moved.
    expect(await ensureJobSchedulers(producer, defs)).toEqual([]);
    // As after a Redis that came back without its data (for this scheduler).
    await queue.removeJobScheduler('probe-b');
    expect(await ensureJobSchedulers(producer, defs)).toEqual(['probe-b']);
    expect((await queue.getJobScheduler('probe-b'))?.every).toBe(30_000);
  });

  it('refreshAll upserts every scheduler, so a changed interval takes effect at worker start', async () => {
    const changed = [{ ...defs[0]!, repeatEveryMs: 90_000 }];
    expect(await ensureJobSchedulers(producer, changed)).toEqual([]);
    expect((await producer.queue('maintenance').getJobScheduler('probe-a'))?.every).toBe(60_000);
    expect(await ensureJobSchedulers(producer, changed, { refreshAll: true })).toEqual(['probe-a']);
    expect((await producer.queue('maintenance').getJobScheduler('probe-a'))?.every).toBe(90_000);
  });
});
