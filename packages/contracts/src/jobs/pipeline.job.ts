import { z } from 'zod';
import { defineJob, jobIdPart } from './define-job';

/** Builds the BullMQ flow of a run (sent through the outbox so it survives a Redis outage). */
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

/** Parent of the flow: settles the run's state from its steps once they are done. */
export const finalizePipelineRunJob = defineJob({
  queue: 'pipeline',
  name: 'finalize-run',
  schema: z.object({ runId: z.string().min(1) }),
  attempts: 3,
});
