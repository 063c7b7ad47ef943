import { z } from 'zod';
import { defineJob } from './define-job';

/**
 * Evaluates every GPU, node and cluster, writes their health and reconciles alerts. A failed run is
 * not retried: the next tick, ten seconds later, evaluates fresher data anyway.
 */
export const evaluateHealthJob = defineJob({
  queue: 'health',
  name: 'evaluate-health',
  schema: z.object({ now: z.iso.datetime().optional() }),
  repeatEveryMs: 10_000,
  attempts: 1,
});
