import { z } from 'zod';
import { PIPELINE_STAGES } from '../upstream/pipeline.schema';
import { defineJob, jobIdPart } from './define-job';

/**
 * Advances a run: fans out the first stage that has waiting steps as a BullMQ flow (sent through the outbox so it
 * survives a Redis outage; the reconciler sends it again when Redis lost the jobs).
 */
export const startPipelineRunJob = defineJob({
  queue: 'pipeline',
  name: 'start-run',
  schema: z.object({ runId: z.string().min(1), generation: z.number().int().nonnegative().default(0) }),
  jobId: (p) => `start-${jobIdPart(p.runId)}-${p.generation}`,
  attempts: 5,
});

/** One step of a run (a child in the run's flow). */
export const runPipelineStepJob = defineJob({
  queue: 'pipeline',
  name: 'run-step',
  schema: z.object({ runId: z.string().min(1), stepId: z.string().min(1) }),
  attempts: 3,
});

/**
 * Parent of one stage's flow (the stage barrier): runs once every step of the stage ended, settles what the steps
 * could not record, and starts the next stage or ends the run.
 */
export const finalizePipelineRunJob = defineJob({
  queue: 'pipeline',
  name: 'finalize-run',
  schema: z.object({
    runId: z.string().min(1),
    generation: z.number().int().nonnegative().default(0),
    stage: z.enum(PIPELINE_STAGES).default('download'),
  }),
  attempts: 3,
});
