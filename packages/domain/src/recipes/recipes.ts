import type { TRecipeFields, TRecipeTarget } from '@fleetplane/contracts';
import { checkCompatibility, type TCompatVerdict } from '../capacity/compatibility';
import type { TArtifactTraits, TEngineChoice, TEngineSpec, TGpuSpec } from '../capacity/types';
import { canonicalJson, sha256Hex } from '../validation/evidence';

/**
 * Recipes are versioned data. The built-in set below is what a fresh install offers; the services layer
 * records each as version 1 the first time it is needed, and operators add versions or new recipes.
 */
export interface TRecipeDefinition extends TRecipeFields {
  name: string;
}

/** The placeholder the external llama-quantize recipes run; the worker maps it to the real binary. */
export const LLAMA_QUANTIZE_TOOL = 'llama-quantize';

export const BUILTIN_RECIPES: readonly TRecipeDefinition[] = [
  {
    name: 'fp8-block128',
    description: 'FP8 E4M3 with 128x128 block scales (DeepSeek / SGLang layout): the Hopper path for FP4+FP8 upstream checkpoints.',
    outputFormat: 'fp8',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'fp8-block', scaleFormat: 'f32', blockSize: 128 } },
    commandTemplate: [],
    qualityCommand: [],
  },
  {
    name: 'gguf-q8_0',
    description: 'GGUF Q8_0 for llama.cpp.',
    outputFormat: 'gguf',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'gguf', type: 'Q8_0' } },
    commandTemplate: [],
    qualityCommand: [],
  },
  {
    name: 'gguf-q4_0',
    description: 'GGUF Q4_0 for llama.cpp (built in).',
    outputFormat: 'gguf',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'gguf', type: 'Q4_0' } },
    commandTemplate: [],
    qualityCommand: [],
  },
  {
    name: 'gguf-q4_k_m',
    description: 'GGUF Q4_K_M through llama-quantize (K-quants are not built in): a built-in GGUF F16 is quantised by the tool.',
    outputFormat: 'gguf',
    tool: LLAMA_QUANTIZE_TOOL,
    toolVersion: '4242',
    params: {
      inputTarget: { format: 'gguf', type: 'F16' },
      scheme: 'Q4_K_M',
      outputFileName: 'model-Q4_K_M.gguf',
      timeoutSeconds: 6 * 3600,
    },
    commandTemplate: [LLAMA_QUANTIZE_TOOL, '{input_file}', '{output_file}', 'Q4_K_M', '{threads}'],
    qualityCommand: [],
  },
  {
    name: 'mlx-8bit',
    description: 'MLX affine 8-bit, group size 64, for Apple silicon.',
    outputFormat: 'mlx',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'mlx-affine', bits: 8, groupSize: 64 } },
    commandTemplate: [],
    qualityCommand: [],
  },
  {
    name: 'mlx-4bit',
    description: 'MLX affine 4-bit, group size 64, for Apple silicon.',
    outputFormat: 'mlx',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'mlx-affine', bits: 4, groupSize: 64 } },
    commandTemplate: [],
    qualityCommand: [],
  },
  {
    name: 'bf16',
    description: 'BF16, dequantised: for engines or GPUs without FP8/FP4 kernels.',
    outputFormat: 'safetensors',
    tool: 'builtin',
    toolVersion: '1',
    params: { target: { format: 'bf16' } },
    commandTemplate: [],
    qualityCommand: [],
  },
];

export function builtinRecipe(name: string): TRecipeDefinition | null {
  return BUILTIN_RECIPES.find((r) => r.name === name) ?? null;
}

/**
 * The bytes a recipe's digest is taken over: everything that changes what it builds (format, tool, tool
 * version, parameters, commands), keys sorted. Name, version and description are not part of it, so two
 * versions with the same content share a digest and the artifacts built with either are reused.
 */
export function recipeContentForDigest(
  r: Pick<TRecipeFields, 'outputFormat' | 'tool' | 'toolVersion' | 'params' | 'commandTemplate' | 'qualityCommand'>,
): string {
  return canonicalJson({
    outputFormat: r.outputFormat,
    tool: r.tool,
    toolVersion: r.toolVersion,
    params: r.params,
    commandTemplate: r.commandTemplate,
    qualityCommand: r.qualityCommand,
  });
}

/** sha256 of recipeContentForDigest: with the source artifact's digest, the identity of what the recipe builds. */
export function recipeDigest(r: Parameters<typeof recipeContentForDigest>[0]): string {
  return `sha256:${sha256Hex(recipeContentForDigest(r))}`;
}

/** The quantisation label an artifact built by the recipe gets (before the files are read). */
export function recipeQuantisationLabel(r: Pick<TRecipeFields, 'params' | 'outputFormat'>): string {
  if (r.params.scheme) return r.params.scheme;
  const t: TRecipeTarget | undefined = r.params.target;
  if (!t) return r.outputFormat.toUpperCase();
  switch (t.format) {
    case 'fp8-block':
      return 'FP8';
    case 'gguf':
      return t.type;
    case 'mlx-affine':
      return `MLX-${t.bits}bit`;
    case 'bf16':
      return 'BF16';
  }
}

/** What the compatibility rules see of an artifact the recipe would build. */
export function recipeOutputTraits(r: Pick<TRecipeFields, 'params' | 'outputFormat'>): TArtifactTraits {
  return {
    format: r.outputFormat,
    quantisation: recipeQuantisationLabel(r),
    modelType: 'deepseek_v4',
    expertDtype: r.outputFormat === 'fp8' ? 'fp8' : null,
    repoId: null,
    requirements: {},
  };
}

/**
 * Does GGUF carry the tokenizer inside the weights file? Yes: a tokenizer-only revision must rebuild a GGUF.
 * Safetensors-style outputs (FP8, MLX, BF16, AWQ) keep tokenizer files beside the weights, so they can be
 * copied over the last artifact instead (the tokenizer-only rule in docs/pipelines.md).
 */
export function recipeCopiesTokenizerFiles(r: Pick<TRecipeFields, 'outputFormat'>): boolean {
  return r.outputFormat !== 'gguf';
}

export interface TClusterTraits {
  engine: TEngineChoice;
  engineSpec: TEngineSpec | null;
  /** The cluster's (most common) GPU from the catalog; null when unknown. */
  gpu: TGpuSpec | null;
}

export interface TBuildTargetVerdict {
  ok: boolean;
  /** The failing rules' reasons (empty when ok, or when the GPU is unknown and nothing could be checked). */
  failures: TCompatVerdict[];
  reason: string;
}

/** Can the cluster serve what the recipe builds? The capacity rules decide; a failure names the rule's reason. */
export function checkBuildTarget(
  recipe: Pick<TRecipeFields, 'params' | 'outputFormat'> & { name: string },
  cluster: TClusterTraits,
): TBuildTargetVerdict {
  if (!cluster.gpu) return { ok: true, failures: [], reason: 'the cluster has no GPU in the catalog; not checked' };
  const report = checkCompatibility({
    artifact: recipeOutputTraits(recipe),
    gpu: cluster.gpu,
    engine: cluster.engine,
    engineSpec: cluster.engineSpec,
    trustRemoteCode: null,
  });
  // The engine version floor and image rules are about the serving stack, not about what is built: a cluster on
  // an old engine still gets its artifacts built (the rollout refuses to deploy them until it is upgraded).
  const failures = report.failures.filter(
    (f) => f.rule !== 'engine_version_floor' && f.rule !== 'engine_image' && f.rule !== 'engine_serves_v4',
  );
  return failures.length === 0
    ? { ok: true, failures: [], reason: `${recipe.name} can be served by this cluster` }
    : { ok: false, failures, reason: `${recipe.name} cannot be served by this cluster: ${failures.map((f) => f.reason).join('; ')}` };
}

/**
 * The recipes a cluster gets when an operator chose none (issue 13): llama.cpp -> GGUF Q8_0 + Q4_K_M; MLX -> MLX
 * 8-bit; vLLM / SGLang / NIM on GPUs without FP4 tensor cores (Ampere..Hopper) -> FP8 block-128, since V4 ships FP4
 * experts + FP8 weights; Blackwell serves the upstream checkpoint as is (no build). Each candidate still has to
 * pass the compatibility rules (an Ampere cluster has no FP8 tensor cores: it gets nothing by default).
 */
export function defaultRecipeNames(cluster: TClusterTraits): { names: string[]; notes: string[] } {
  const kind = cluster.engine.kind;
  let candidates: string[];
  if (kind === 'llamacpp' || kind === 'ollama') candidates = ['gguf-q8_0', 'gguf-q4_k_m'];
  else if (kind === 'mlx') candidates = ['mlx-8bit'];
  else if (cluster.gpu && cluster.gpu.fp4TensorCores) candidates = [];
  else candidates = ['fp8-block128'];
  const names: string[] = [];
  const notes: string[] = [];
  for (const name of candidates) {
    const recipe = builtinRecipe(name)!;
    const verdict = checkBuildTarget(recipe, cluster);
    if (verdict.ok) names.push(name);
    else notes.push(verdict.reason);
  }
  if (candidates.length === 0)
    notes.push('The GPUs have FP4 tensor cores: the upstream checkpoint is served as is, nothing is built by default');
  return { names, notes };
}
