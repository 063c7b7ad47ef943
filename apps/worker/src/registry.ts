import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import type { JobDefinition, TQueueName } from '@fleetplane/contracts';
import type { Logger } from '@fleetplane/config';
import type { PrismaClient } from '@fleetplane/db';
import type { JobProducer } from '@fleetplane/queue';
import type { ReconcileOptions } from '@fleetplane/services';

export interface WorkerDeps {
  prisma: PrismaClient;
  producer: JobProducer;
  log: Logger;
  /** Timing of the lost-job reconciler (tests shorten it). */
  reconcile?: ReconcileOptions;
}

type Handler = (payload: unknown, job: Job, deps: WorkerDeps) => Promise<unknown>;

interface Registered {
  def: JobDefinition<string, z.ZodType>;
  handler: Handler;
}

/** Job name -> typed handler. The payload is parsed against the job's contract before the handler sees it. */
export class ProcessorRegistry {
  private readonly byQueue = new Map<TQueueName, Map<string, Registered>>();
  private readonly closers: Array<() => Promise<void>> = [];

  /** Resources processors open lazily (e.g. a FlowProducer) are closed by `close()` at shutdown. */
  onClose(fn: () => Promise<void>): this {
    this.closers.push(fn);
    return this;
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.closers.map((fn) => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  register<TName extends string, TSchema extends z.ZodType>(
    def: JobDefinition<TName, TSchema>,
    handler: (payload: z.output<TSchema>, job: Job, deps: WorkerDeps) => Promise<unknown>,
  ): this {
    const jobs = this.byQueue.get(def.queue) ?? new Map<string, Registered>();
    jobs.set(def.name, { def: def as unknown as JobDefinition<string, z.ZodType>, handler: handler as Handler });
    this.byQueue.set(def.queue, jobs);
    return this;
  }

  queues(): TQueueName[] {
    return [...this.byQueue.keys()];
  }

  definitions(): JobDefinition<string, z.ZodType>[] {
    return [...this.byQueue.values()].flatMap((m) => [...m.values()].map((r) => r.def));
  }

  processorFor(queue: TQueueName, deps: WorkerDeps) {
    const jobs = this.byQueue.get(queue) ?? new Map<string, Registered>();
    return async (job: Job) => {
      const registered = jobs.get(job.name);
      // Retrying cannot fix an unknown job or a malformed payload: fail it for good.
      if (!registered) throw new UnrecoverableError(`No processor for job "${job.name}" on queue "${queue}"`);
      const parsed = registered.def.schema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `Invalid payload for ${job.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      return registered.handler(parsed.data, job, { ...deps, log: deps.log.child({ queue, job: job.name, jobId: job.id }) });
    };
  }
}
