/**
 * Shapes the capacity rules, the fit planner and the cost maths share. Plain data: the catalog rows
 * (GPUs, engines, API prices) are loaded by the services layer and passed in, so everything here stays
 * IO-free and testable with literal objects.
 */

import type { ARTIFACT_FORMATS, CAPACITY_ENGINE_KINDS, GPU_GENERATIONS, GPU_VENDORS } from '@fleetplane/contracts';

export type TGpuGeneration = (typeof GPU_GENERATIONS)[number];
export type TGpuVendor = (typeof GPU_VENDORS)[number];

export interface TGpuSpec {
  /** Catalog key, also what nvidia-smi reports as `name` (e.g. "NVIDIA H200"). */
  model: string;
  vendor: TGpuVendor;
  generation: TGpuGeneration;
  /** Memory as nvidia-smi reports `memory.total` (MiB); for Apple silicon the unified memory. */
  memoryMib: number;
  /** CUDA compute capability ("9.0"); null off NVIDIA. */
  computeCapability: string | null;
  fp8TensorCores: boolean;
  fp4TensorCores: boolean;
  interconnect: string;
  typicalHourlyUsd: number | null;
}

/** Engine kinds the planner knows; TGI and Ollama are here so the rules can say why they are refused. */
export type TEngineKind = (typeof CAPACITY_ENGINE_KINDS)[number];

/** Same values as Prisma's ArtifactFormat. */
export type TArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

export interface TEngineSpec {
  kind: TEngineKind;
  label: string;
  /** true = serves DeepSeek V4; false = known not to; null = no source says either way. */
  servesV4: boolean | null;
  /** Oldest version that serves the V4 preview checkpoints; null = no floor is known. */
  minV4Version: string | null;
  /** Oldest version for the official releases (-0731 / -0813) and the DSpark variants. */
  minV4OfficialVersion: string | null;
  /** Where servesV4 and the floors come from (recipe, cookbook, release note). */
  minV4Source: string;
  formats: TArtifactFormat[];
  /** Oldest version whose Hopper (sm_90) kernels run V4's FP4 experts; null = none known. */
  hopperFp4MinVersion: string | null;
  hopperFp4Source: string;
  /** Container image per GPU generation; missing generation = no image published. */
  images: Partial<Record<TGpuGeneration, string>>;
  /** V4's attention ships as remote code: the engine must be started with --trust-remote-code. */
  needsTrustRemoteCode: boolean;
}

export interface TApiPrice {
  /** Model family slug ("deepseek-v4-flash"). */
  family: string;
  inputPerM: number;
  outputPerM: number;
  cacheHitInputPerM: number;
  /** Day the price was read (ISO date); prices change, the UI shows how old the figure is. */
  asOf: string;
}

/** What the rules need to know about an artifact (a downloaded or quantised checkpoint). */
export interface TArtifactTraits {
  format: TArtifactFormat;
  quantisation: string;
  /** config.json `model_type` when known ("deepseek_v4"). */
  modelType: string | null;
  /** config.json `expert_dtype`; V4 instruct checkpoints are "fp4" (vLLM treats a missing key as fp4). */
  expertDtype: 'fp4' | 'fp8' | null;
  /** Upstream repo name, used to tell preview from the official (-0731 / -0813) and DSpark releases. */
  repoId: string | null;
  /** The artifact's own minimum engine versions (Artifact.requirements, e.g. {"vllm":"0.11.0"}). */
  requirements: Record<string, string>;
}

export interface TEngineChoice {
  kind: TEngineKind;
  /** Null when unknown (a plan before any engine is installed). */
  version: string | null;
}
