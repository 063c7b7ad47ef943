import type { JobDefinition } from '@fleetplane/contracts';
import type { z } from 'zod';
import type { JobProducer } from './producer';

type RepeatableDefinition = Pick<JobDefinition<string, z.ZodType>, 'queue' | 'name' | 'repeatEveryMs'>;

/**
 * Makes sure every repeatable job has its BullMQ job scheduler, creating the missing ones. Schedulers
 * live only in Redis: a Redis that restarts without its data (no persistence, a failover to an empty
 * replica, FLUSHALL) drops them, and nothing would run again until the worker restarts. The worker
 * calls this at start and then every few seconds; an existing scheduler costs one read and is not
 * touched (upserting would move its next run). Returns the names it (re)created or refreshed.
 */
export async function ensureJobSchedulers(
  producer: JobProducer,
  definitions: readonly RepeatableDefinition[],
  opts: { /** Upsert every scheduler (at worker start: a changed interval takes effect). */ refreshAll?: boolean } = {},
): Promise<string[]> {
  const created: string[] = [];
  for (const def of definitions) {
    if (!def.repeatEveryMs) continue;
    const queue = producer.queue(def.queue);
    if (!opts.refreshAll && (await queue.getJobScheduler(def.name))) continue;
    await queue.upsertJobScheduler(def.name, { every: def.repeatEveryMs }, { name: def.name, data: {} });
    created.push(def.name);
  }
  return created;
}
