import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';
import { ZVerdict } from '../validation/check-result.schema';

export const RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const ZRunState = z.enum(RUN_STATES);
export type TRunState = z.infer<typeof ZRunState>;

export const ZValidationRunListInput = listInput(['createdAt', 'state', 'verdict', 'finishedAt'] as const, 'createdAt').extend({
  sortDir: z.enum(['asc', 'desc']).default('desc'),
  clusterId: ZId.optional(),
  suiteName: z.string().trim().min(1).max(63).optional(),
  state: ZRunState.optional(),
  verdict: ZVerdict.optional(),
});
export type TValidationRunListInput = z.input<typeof ZValidationRunListInput>;

export const ZStartValidationRunInput = z.object({
  clusterId: ZId,
  /** Suite name; the newest version is used. */
  suiteName: z.string().trim().min(1, 'Choose a suite').max(63),
  /** Defaults to the artifact of the cluster's active deployment. */
  artifactId: ZId.optional(),
  /** Defaults to the latest passing run of the same suite on the same cluster; null = compare with nothing. */
  baselineRunId: ZId.nullable().optional(),
});
export type TStartValidationRunInput = z.input<typeof ZStartValidationRunInput>;

/** What a run records about the system under test when it starts (stored in validation_run.context). */
export const ZValidationRunContext = z.object({
  engine: z.string(),
  engineVersion: z.string(),
  servedModelName: z.string(),
  endpointUrl: z.string(),
  /** From the artifact's requirements for this engine, when it states one. */
  minEngineVersion: z.string().nullable().default(null),
  maxContextTokens: z.number().int(),
  concurrencyCap: z.number().int(),
  artifactDigest: z.string().nullable(),
  gpuUuids: z.array(z.string()),
  suite: z.object({ name: z.string(), version: z.number().int() }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  baseline: z.unknown().optional(),
});
export type TValidationRunContext = z.infer<typeof ZValidationRunContext>;
