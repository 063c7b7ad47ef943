import { z } from 'zod';
import { defineJob } from './define-job';

const ZRunPayload = z.object({ runId: z.string().min(1).max(64) });

/**
 * Starts a run: records its context and adds the BullMQ flow (one child per check under a finalising
 * parent). Enqueued through the outbox in the transaction that creates the run.
 */
export const startValidationRunJob = defineJob({
  queue: 'validation',
  name: 'validation-start',
  schema: ZRunPayload,
  jobId: (p) => `vstart-${p.runId}`,
});

/** Runs one check of a run; retried after a crash (stalled job) and overwrites its own result row. */
export const validationCheckJob = defineJob({
  queue: 'validation',
  name: 'validation-check',
  schema: ZRunPayload.extend({ checkKey: z.string().min(1).max(64) }),
});

/** The flow parent: runs once every check job is done or failed, and seals the verdict and evidence. */
export const finaliseValidationRunJob = defineJob({
  queue: 'validation',
  name: 'validation-finalise',
  schema: ZRunPayload,
});

/** Fails runs whose jobs are gone (lost Redis data, removed flow) so a run never stays running forever. */
export const sweepValidationRunsJob = defineJob({
  queue: 'validation',
  name: 'validation-sweep',
  schema: z.object({}),
  repeatEveryMs: 60_000,
  attempts: 1,
});
