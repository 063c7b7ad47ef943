import { Queue, type JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { JobDefinition, TQueueName } from '@fleetplane/contracts';
import { redisConnectionOptions } from './connection';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  // Keep finished jobs long enough to deduplicate re-enqueues by jobId and to debug, not forever.
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

export class InvalidJobPayloadError extends Error {
  constructor(jobName: string, message: string) {
    super(`Invalid payload for job ${jobName}: ${message}`);
    this.name = 'InvalidJobPayloadError';
  }
}

/** The only way code enqueues work: payloads are validated against the job's contract first. */
export class JobProducer {
  private readonly queues = new Map<TQueueName, Queue>();

  constructor(
    readonly redisUrl: string,
    readonly prefix = 'fleetplane',
  ) {}

  queue(name: TQueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: redisConnectionOptions(this.redisUrl),
        prefix: this.prefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      // A queue without an error listener can crash the process on a Redis hiccup.
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue<TName extends string, TSchema extends z.ZodType>(
    def: JobDefinition<TName, TSchema>,
    payload: z.input<TSchema>,
    options: JobsOptions = {},
  ) {
    const parsed = def.schema.safeParse(payload);
    if (!parsed.success)
      throw new InvalidJobPayloadError(def.name, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const jobId = options.jobId ?? def.jobId?.(parsed.data);
    return this.queue(def.queue).add(def.name, parsed.data, {
      ...(def.attempts ? { attempts: def.attempts } : {}),
      ...options,
      ...(jobId ? { jobId } : {}),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
