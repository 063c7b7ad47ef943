import { z } from 'zod';
import { defineJob } from './define-job';

/**
 * Advances every active rollout one step (issue commands, read their outcome, run an analysis check, roll
 * back). Repeatable and idempotent: each rollout is advanced under a row lock from its stored state, so a
 * tick that dies half-way, a second worker or a Redis restart repeat nothing. Not retried: the next tick
 * comes five seconds later anyway.
 */
export const rolloutTickJob = defineJob({
  queue: 'maintenance',
  name: 'rollout-tick',
  schema: z.object({ now: z.iso.datetime().optional() }),
  repeatEveryMs: 5_000,
  attempts: 1,
});
