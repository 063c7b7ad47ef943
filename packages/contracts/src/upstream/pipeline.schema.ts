import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';

export const PIPELINE_RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const ZPipelineRunState = z.enum(PIPELINE_RUN_STATES);
export type TPipelineRunState = z.infer<typeof ZPipelineRunState>;

export const PIPELINE_STEP_STATES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export const ZPipelineStepState = z.enum(PIPELINE_STEP_STATES);
export type TPipelineStepState = z.infer<typeof ZPipelineStepState>;

/** Stages in order. Only download runs today; the others are drawn as "not available yet". */
export const PIPELINE_STAGES = ['download', 'quantise', 'validate'] as const;
export const AVAILABLE_STAGES: readonly (typeof PIPELINE_STAGES)[number][] = ['download'];

export const DOWNLOAD_ONLY_SUMMARY = 'Download verified. Quantise and validate stages are not available yet; the run stops here.';

export const ZStepProgress = z.object({
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  filesDone: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative(),
  currentFiles: z.array(z.string()),
});
export type TStepProgress = z.infer<typeof ZStepProgress>;

export const ZStartPipelineInput = z.object({
  revisionId: ZId,
  /** A cluster id, or "default" for the shared artifact store. */
  targetKey: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[\w-]+$/, 'Letters, digits, - and _ only')
    .default('default'),
});
export type TStartPipelineInput = z.input<typeof ZStartPipelineInput>;

export const ZRunListInput = listInput(['createdAt', 'finishedAt', 'state'] as const, 'createdAt').extend({
  sortDir: z.enum(['asc', 'desc']).default('desc'),
  state: ZPipelineRunState.optional(),
  revisionId: ZId.optional(),
  trackedRepoId: ZId.optional(),
});
export type TRunListInput = z.input<typeof ZRunListInput>;

export const ZRetryStepInput = z.object({ stepId: ZId });
