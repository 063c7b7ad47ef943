import { z } from 'zod';

/** Queues are a closed set: one per concern, each with its own concurrency in the worker. */
export const QUEUE_NAMES = ['maintenance', 'health', 'notifications', 'upstream', 'pipeline', 'validation'] as const;
export const ZQueueName = z.enum(QUEUE_NAMES);
export type TQueueName = z.infer<typeof ZQueueName>;

export interface JobDefinition<TName extends string, TSchema extends z.ZodType> {
  queue: TQueueName;
  name: TName;
  schema: TSchema;
  /** Set for repeatable jobs: the worker registers a scheduler with this interval. */
  repeatEveryMs?: number;
  /** Deterministic job id from business keys, so re-enqueueing the same work is a no-op. */
  jobId?: (payload: z.infer<TSchema>) => string;
  attempts?: number;
}

export function defineJob<TName extends string, TSchema extends z.ZodType>(
  def: JobDefinition<TName, TSchema>,
): JobDefinition<TName, TSchema> {
  return def;
}

/** BullMQ job ids must not contain ':'; business keys may (URLs, repo ids), so encode them. */
export function jobIdPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}
