import { z } from 'zod';
import { defineJob } from './define-job';

/**
 * Every 30 s: expires commands past their deadline, fails running commands whose agent went silent and
 * puts delivered-but-never-started ones back in the queue (sweepNodeCommands). Idempotent: each change is
 * a guarded UPDATE, so two workers sweeping at once change each command once.
 */
export const nodeCommandSweepJob = defineJob({
  queue: 'maintenance',
  name: 'node-command-sweep',
  schema: z.object({}),
  repeatEveryMs: 30_000,
});
