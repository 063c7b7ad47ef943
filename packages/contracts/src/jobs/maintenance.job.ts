import { z } from 'zod';
import { defineJob } from './define-job';

/** Deletes expired sessions and marks expired, unused join tokens; proves the worker wiring end to end. */
export const expireCredentialsJob = defineJob({
  queue: 'maintenance',
  name: 'expire-credentials',
  schema: z.object({ now: z.iso.datetime().optional() }),
  repeatEveryMs: 60_000,
});

/** Re-enqueues outbox rows whose dispatch failed (Redis down when the transaction committed). */
export const outboxSweepJob = defineJob({
  queue: 'maintenance',
  name: 'outbox-sweep',
  schema: z.object({}),
  repeatEveryMs: 15_000,
});
