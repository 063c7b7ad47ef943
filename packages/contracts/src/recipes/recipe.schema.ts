import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';

/** What a built-in conversion writes (packages/quantise ConversionTarget, same shapes). */
export const ZRecipeTarget = z.discriminatedUnion('format', [
  z.object({
    format: z.literal('fp8-block'),
    scaleFormat: z.enum(['f32', 'ue8m0']).default('f32'),
    blockSize: z.literal(128).default(128),
  }),
  z.object({ format: z.literal('gguf'), type: z.enum(['F16', 'BF16', 'Q8_0', 'Q4_0']) }),
  z.object({
    format: z.literal('mlx-affine'),
    bits: z.union([z.literal(4), z.literal(8)]),
    groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).default(64),
  }),
  z.object({ format: z.literal('bf16') }),
]);
export type TRecipeTarget = z.infer<typeof ZRecipeTarget>;

export const ZQualityThresholds = z.object({
  maxRelRmse: z.number().positive().max(10).optional(),
  minSnrDb: z.number().min(-100).max(200).optional(),
  maxAbsError: z.number().positive().optional(),
});
export type TQualityThresholds = z.infer<typeof ZQualityThresholds>;

/**
 * A recipe's parameters. Built-in recipes name `target`; external ones may name `inputTarget`, a built-in
 * conversion the tool reads (llama-quantize takes a GGUF F16), plus template values and a timeout.
 */
export const ZRecipeParams = z.object({
  target: ZRecipeTarget.optional(),
  inputTarget: ZRecipeTarget.optional(),
  /** The K-quant / scheme the external tool is asked for (e.g. "Q4_K_M"); also the artifact's label. */
  scheme: z.string().trim().min(1).max(40).optional(),
  ignoredModules: z.array(z.string().trim().min(1).max(120)).max(64).optional(),
  maxShardBytes: z.number().int().min(1_048_576).optional(),
  thresholds: ZQualityThresholds.optional(),
  /** Extra {placeholder} values for the command templates (e.g. imatrix path, calibration data reference). */
  values: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), z.union([z.string().max(500), z.number()])).optional(),
  outputFileName: z.string().trim().min(1).max(200).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
});
export type TRecipeParams = z.infer<typeof ZRecipeParams>;

export const RECIPE_OUTPUT_FORMATS = ['fp8', 'gguf', 'mlx', 'safetensors', 'awq'] as const;

const ZRecipeName = z
  .string()
  .trim()
  .min(2)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_.-]*[a-z0-9]$/, 'Use lower-case letters, digits, dots, dashes and underscores');

const ZArgv = z.array(z.string().max(500)).max(64);

export const ZRecipeFields = z
  .object({
    description: z.string().trim().max(2000).default(''),
    outputFormat: z.enum(RECIPE_OUTPUT_FORMATS),
    /** "builtin" or the external tool's name. */
    tool: z.string().trim().min(1).max(63).default('builtin'),
    toolVersion: z.string().trim().min(1).max(80),
    params: ZRecipeParams,
    commandTemplate: ZArgv.default([]),
    qualityCommand: ZArgv.default([]),
  })
  .superRefine((r, ctx) => {
    if (r.tool === 'builtin') {
      if (!r.params.target) ctx.addIssue({ code: 'custom', path: ['params', 'target'], message: 'A built-in recipe names its target' });
      if (r.commandTemplate.length) ctx.addIssue({ code: 'custom', path: ['commandTemplate'], message: 'Built-in recipes run no command' });
    } else if (r.commandTemplate.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['commandTemplate'], message: 'An external recipe needs a command template' });
    }
  });
export type TRecipeFields = z.infer<typeof ZRecipeFields>;

export const ZCreateRecipeInput = z.object({ name: ZRecipeName }).and(ZRecipeFields);
export type TCreateRecipeInput = z.input<typeof ZCreateRecipeInput>;

/** Editing a recipe: a new version of the same name; artifacts keep the version they were built with. */
export const ZNewRecipeVersionInput = ZCreateRecipeInput;
export type TNewRecipeVersionInput = z.input<typeof ZNewRecipeVersionInput>;

export const ZRecipeListInput = listInput(['name', 'createdAt'] as const, 'name');
export type TRecipeListInput = z.input<typeof ZRecipeListInput>;

export const ZRecipeVersionsInput = z.object({ name: ZRecipeName });

/** Recipes a (tracked repo, cluster) builds; an empty list goes back to the defaults derived from the cluster. */
export const ZSetBuildTargetsInput = z.object({
  trackedRepoId: ZId,
  clusterId: ZId,
  recipeNames: z.array(ZRecipeName).max(16),
});
export type TSetBuildTargetsInput = z.input<typeof ZSetBuildTargetsInput>;

/** Progress of a quantise step, written to pipeline_step.progress. */
export const ZQuantiseProgress = z.object({
  tensorsDone: z.number().int().nonnegative(),
  tensorsTotal: z.number().int().nonnegative(),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
});
export type TQuantiseProgress = z.infer<typeof ZQuantiseProgress>;
