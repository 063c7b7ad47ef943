import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';

export const PIPELINE_RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const ZPipelineRunState = z.enum(PIPELINE_RUN_STATES);
export type TPipelineRunState = z.infer<typeof ZPipelineRunState>;

export const PIPELINE_STEP_STATES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export const ZPipelineStepState = z.enum(PIPELINE_STEP_STATES);
export type TPipelineStepState = z.infer<typeof ZPipelineStepState>;

/** Stages in order (planPipelineRun in domain decides which steps each gets). */
export const PIPELINE_STAGES = ['download', 'quantise', 'validate'] as const;
export type TPipelineStage = (typeof PIPELINE_STAGES)[number];
export const AVAILABLE_STAGES: readonly TPipelineStage[] = ['download', 'quantise', 'validate'];

/** Summary of a run with no cluster target: it only downloads (quantise and validate build for a cluster). */
export const DOWNLOAD_ONLY_SUMMARY = 'Download verified. The run has no cluster target, so nothing is quantised or validated.';

/** What the plan asked of one step (pipeline_step.spec). */
export const ZPipelineStepSpec = z.object({
  /** quantise: the recipe version it builds with. */
  recipeId: z.string().optional(),
  recipeName: z.string().optional(),
  recipeVersion: z.number().int().optional(),
  recipeDigest: z.string().optional(),
  /** quantise: convert the downloaded checkpoint, or copy the new tokenizer files over the last artifact. */
  mode: z.enum(['convert', 'copy-tokenizer']).optional(),
  /** copy-tokenizer: the artifact built with this recipe from the previous revision. */
  baseArtifactId: z.string().optional(),
  /** validate: the cluster, and the step whose artifact it validates. */
  clusterId: z.string().optional(),
  candidate: z.object({ kind: z.enum(PIPELINE_STAGES), targetKey: z.string() }).optional(),
});
export type TPipelineStepSpec = z.infer<typeof ZPipelineStepSpec>;

export const ZStepProgress = z.object({
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  filesDone: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative(),
  currentFiles: z.array(z.string()),
});
/** Download progress (quantise steps write ZQuantiseProgress from contracts/recipes). */
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
