import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '@fleetplane/contracts';
import { redisConnectionOptions } from './connection';
import { InvalidJobPayloadError, JobProducer } from './producer';

const producer = new JobProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `fptest-${randomBytes(4).toString('hex')}`);
afterAll(async () => {
  await producer.queue('maintenance').obliterate({ force: true });
  await producer.close();
});

const probeJob = defineJob({
  queue: 'maintenance',
  name: 'probe',
  schema: z.object({ clusterId: z.string().min(1), attempt: z.number().int() }),
  jobId: (p) => `probe-${p.clusterId}`,
});

describe('JobProducer (real Redis)', () => {
  it('refuses a payload that breaks the job contract, enqueueing nothing', async () => {
    await expect(producer.enqueue(probeJob, { clusterId: '', attempt: 1.5 } as never)).rejects.toBeInstanceOf(InvalidJobPayloadError);
    expect(await producer.queue('maintenance').count()).toBe(0);
  });

  it('deduplicates by the deterministic job id', async () => {
    const a = await producer.enqueue(probeJob, { clusterId: 'c1', attempt: 1 });
    const b = await producer.enqueue(probeJob, { clusterId: 'c1', attempt: 2 });
    expect(a.id).toBe('probe-c1');
    expect(b.id).toBe('probe-c1');
    expect(await producer.queue('maintenance').getJobCounts('waiting')).toEqual({ waiting: 1 });
    const job = await producer.queue('maintenance').getJob('probe-c1');
    expect(job?.data).toEqual({ clusterId: 'c1', attempt: 1 });
    expect(job?.opts.attempts).toBe(5);
  });
});

describe('redisConnectionOptions', () => {
  it('reads host, port, credentials, database and TLS from the URL', () => {
    expect(redisConnectionOptions('rediss://user:p%40ss@redis.internal:6380/2')).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
    expect(redisConnectionOptions('redis://127.0.0.1:6379')).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0, tls: undefined });
  });
});
