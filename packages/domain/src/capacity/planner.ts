import type { KV_CACHE_DTYPES } from '@fleetplane/contracts';
import type { TModelArch } from './model-config';
import type { TEngineKind, TGpuSpec } from './types';

/**
 * VRAM / KV-cache fit planner. Budget per GPU (domain-reference.md §5.3):
 *   weights/GPU + activations + framework overhead + KV(S) x sequences <= VRAM x gpu_memory_utilization
 * KV bytes come from the architecture (V4 hybrid, MLA or GQA), rounded up to the engine's page size.
 */

export type TKvCacheDtype = (typeof KV_CACHE_DTYPES)[number];

/** Bytes per cached element; GGUF q8_0 / q4_0 blocks are 34 / 18 bytes per 32 values. */
export function kvDtypeBytes(dtype: TKvCacheDtype): number {
  switch (dtype) {
    case 'fp8':
    case 'fp8_e4m3':
    case 'fp8_e5m2':
      return 1;
    case 'q8_0':
      return 34 / 32;
    case 'q4_0':
      return 18 / 32;
    default:
      // auto = the model's activation dtype (BF16 for V4).
      return 2;
  }
}

export interface TKvLayerKinds {
  /** Sliding-window-only layers (V4 ratio 0). */
  window: number;
  /** Compressed sparse attention (V4 ratio 4, with the indexer). */
  csa: number;
  /** Heavily compressed attention (V4 ratio 128). */
  hca: number;
  /** MLA / GQA layers with a full per-token cache. */
  full: number;
}

export function countLayerKinds(arch: TModelArch): TKvLayerKinds {
  if (arch.attention !== 'v4_hybrid' || !arch.compressRatios) return { window: 0, csa: 0, hca: 0, full: arch.numLayers };
  const kinds = { window: 0, csa: 0, hca: 0, full: 0 };
  for (const r of arch.compressRatios) {
    if (r === 0) kinds.window += 1;
    else if (r <= 4) kinds.csa += 1;
    else kinds.hca += 1;
  }
  return kinds;
}

/**
 * Bytes of one cached vector: the MLA / V4 latent (or a GQA element), and an indexer key. By default
 * `bytesPerElement` times the width; an engine with its own packed layout passes its rows (`fp8MlaRowBytes`).
 */
export interface TKvRowBytes {
  latent: number;
  indexer: number;
}

function defaultRows(arch: TModelArch, bytesPerElement: number): TKvRowBytes {
  const width = arch.attention === 'mla' ? (arch.kvLoraRank ?? 0) + (arch.qkRopeHeadDim ?? 0) : arch.headDim;
  return { latent: width * bytesPerElement, indexer: (arch.indexHeadDim ?? 0) * bytesPerElement };
}

/**
 * vLLM's FP8 cache for DeepSeek MLA and V4 is not 1 byte per element: FlashMLA's `fp8_ds_mla` row keeps the
 * no-RoPE part in FP8 with its scales and the RoPE part in BF16 ("FP8 = 1, plus scales", domain-reference §5.3).
 * V3's 576-wide latent: 512 + 16 B of scales + 64 x 2 = 656 B. V4's 512-wide vector: 448 FP8 + 64 x 2 BF16 RoPE
 * + 7 UE8M0 scales + 1 pad = 584 B (vLLM deepseek_v4_attention.py `head_bytes`). Indexer keys: FP8 plus a 4 B
 * scale. Null for attention kinds without such a layout (GQA stays 1 byte per element).
 */
export function fp8MlaRowBytes(arch: TModelArch): TKvRowBytes | null {
  const indexer = arch.indexHeadDim ? arch.indexHeadDim + 4 : 0;
  if (arch.attention === 'v4_hybrid') {
    const rope = arch.qkRopeHeadDim ?? 64;
    const nope = arch.headDim - rope;
    return { latent: nope + rope * 2 + Math.floor(nope / 64) + 1, indexer };
  }
  if (arch.attention === 'mla') {
    const nope = arch.kvLoraRank ?? 0;
    const rope = arch.qkRopeHeadDim ?? 0;
    return { latent: nope + (nope / 128) * 4 + rope * 2, indexer };
  }
  return null;
}

/** KV bytes of one sequence of `tokens` tokens for the whole model, per layer kind. */
export function kvBytesForSequence(
  arch: TModelArch,
  tokens: number,
  bytesPerElement: number,
  rows: TKvRowBytes | null = null,
): { total: number; byKind: Record<keyof TKvLayerKinds, number> } {
  const byKind = { window: 0, csa: 0, hca: 0, full: 0 };
  if (tokens <= 0) return { total: 0, byKind };
  const row = rows ?? defaultRows(arch, bytesPerElement);
  if (arch.attention === 'v4_hybrid' && arch.compressRatios) {
    const window = Math.min(tokens, arch.slidingWindow ?? 0) * row.latent;
    for (const r of arch.compressRatios) {
      if (r === 0) byKind.window += window;
      else if (r <= 4) byKind.csa += window + Math.ceil(tokens / r) * (row.latent + row.indexer);
      else byKind.hca += window + Math.ceil(tokens / r) * row.latent;
    }
  } else if (arch.attention === 'mla') {
    byKind.full = arch.numLayers * (row.latent + row.indexer) * tokens;
  } else {
    byKind.full = 2 * arch.numLayers * arch.numKeyValueHeads * arch.headDim * bytesPerElement * tokens;
  }
  return { total: byKind.window + byKind.csa + byKind.hca + byKind.full, byKind };
}

/** Marginal KV bytes per extra token (past the sliding window), per layer kind. */
export function kvBytesPerToken(
  arch: TModelArch,
  bytesPerElement: number,
  rows: TKvRowBytes | null = null,
): Record<keyof TKvLayerKinds, number> & { total: number } {
  const per = { window: 0, csa: 0, hca: 0, full: 0 };
  const row = rows ?? defaultRows(arch, bytesPerElement);
  if (arch.attention === 'v4_hybrid' && arch.compressRatios) {
    for (const r of arch.compressRatios) {
      if (r > 0 && r <= 4) per.csa += (row.latent + row.indexer) / r;
      else if (r > 4) per.hca += row.latent / r;
    }
  } else {
    per.full = kvBytesForSequence(arch, 1, bytesPerElement, rows).total;
  }
  return { ...per, total: per.window + per.csa + per.hca + per.full };
}

interface TEngineDefaults {
  /** Page / block size the engine allocates KV in (tokens). */
  blockSize: (arch: TModelArch) => number;
  gpuMemoryUtilization: (gpu: TGpuSpec) => number;
  /** Tokens in one forward step at peak (chunked prefill size / ubatch). */
  batchedTokens: (gpu: TGpuSpec) => number;
  /** CUDA context, NCCL and cuBLAS workspaces, CUDA graphs: per GPU. */
  frameworkBytes: number;
  /** How the KV cache is spread over the GPUs: replicated per tensor-parallel rank, or split by layers. */
  kvSpread: 'tensor_parallel' | 'layer_split';
  defaultKvDtype: (gpu: TGpuSpec) => TKvCacheDtype;
  /** Stores DeepSeek MLA / V4 FP8 caches in FlashMLA's packed rows (vLLM `fp8_ds_mla`), not 1 byte per element. */
  fp8MlaRows: boolean;
}

const GIB = 1024 ** 3;

const TENSOR_PARALLEL_ENGINE: TEngineDefaults = {
  // vLLM's V4 recipe runs --block-size 256 (engines-and-rollouts.md §1.6); the generic default is 16.
  blockSize: (arch) => (arch.attention === 'v4_hybrid' ? 256 : 16),
  // DISAGREE upstream: 0.92 in the current CacheConfig, 0.9 in older releases; take the current one.
  gpuMemoryUtilization: () => 0.92,
  // `vllm serve` resolves --max-num-batched-tokens to 8192 on >= 70 GiB GPUs that are not A100, else 2048.
  batchedTokens: (gpu) => (gpu.memoryMib >= 70 * 1024 && !/A100/.test(gpu.model) ? 8192 : 2048),
  frameworkBytes: 2.5 * GIB,
  kvSpread: 'tensor_parallel',
  defaultKvDtype: (gpu) => (gpu.fp8TensorCores ? 'fp8' : 'auto'),
  fp8MlaRows: true,
};

export const ENGINE_DEFAULTS: Record<TEngineKind, TEngineDefaults> = {
  vllm: TENSOR_PARALLEL_ENGINE,
  nim: TENSOR_PARALLEL_ENGINE,
  tgi: { ...TENSOR_PARALLEL_ENGINE, fp8MlaRows: false },
  // SGLang pages KV one token at a time by default (--page-size 1) and reserves --mem-fraction-static 0.9.
  sglang: {
    ...TENSOR_PARALLEL_ENGINE,
    blockSize: () => 1,
    gpuMemoryUtilization: () => 0.9,
    defaultKvDtype: (gpu) => (gpu.fp8TensorCores ? 'fp8_e4m3' : 'auto'),
    fp8MlaRows: false,
  },
  // llama.cpp pads the context to 256, splits layers over GPUs (-sm layer) and caches f16 by default.
  llamacpp: {
    blockSize: () => 256,
    gpuMemoryUtilization: () => 0.95,
    batchedTokens: () => 512,
    frameworkBytes: 0.5 * GIB,
    kvSpread: 'layer_split',
    defaultKvDtype: () => 'fp16',
    fp8MlaRows: false,
  },
  ollama: {
    blockSize: () => 256,
    gpuMemoryUtilization: () => 0.95,
    batchedTokens: () => 512,
    frameworkBytes: 0.5 * GIB,
    kvSpread: 'layer_split',
    defaultKvDtype: () => 'fp16',
    fp8MlaRows: false,
  },
  // macOS wires about 3/4 of unified memory for the GPU by default (raise with sysctl iogpu.wired_limit_mb).
  mlx: {
    blockSize: () => 1,
    gpuMemoryUtilization: () => 0.75,
    batchedTokens: () => 2048,
    frameworkBytes: 1 * GIB,
    kvSpread: 'layer_split',
    defaultKvDtype: () => 'auto',
    fp8MlaRows: false,
  },
};

/** Peak allocator growth over the live tensors of one forward step (PyTorch caching allocator, fragmentation). */
const ACTIVATION_PEAK_FACTOR = 2;

/** BF16 activations of one token through one layer: residual + norms, Q/O heads, the FFN it visits. */
export function activationBytesPerToken(arch: TModelArch): number {
  const ffnPaths = arch.numRoutedExperts ? (arch.numExpertsPerToken ?? 1) : 1;
  const elements = 4 * arch.hiddenSize + 2 * arch.numAttentionHeads * arch.headDim + 3 * ffnPaths * arch.ffnIntermediateSize;
  return elements * 2;
}

export interface TPlanInput {
  arch: TModelArch;
  /** The artifact's real byte size (sum of its files). */
  weightsBytes: number;
  gpu: TGpuSpec | null;
  gpuCount: number;
  engine: TEngineKind;
  /** Tokens per sequence (prompt + output). */
  contextTokens: number;
  concurrency: number;
  kvCacheDtype?: TKvCacheDtype | null;
  tensorParallelSize?: number | null;
  gpuMemoryUtilization?: number | null;
}

export type TLimitingFactor = 'weights' | 'activations' | 'kv_cache';

export interface TFitPlan {
  fits: boolean;
  limitingFactor: TLimitingFactor;
  /** Plain-language summary of the verdict. */
  summary: string;
  tensorParallelSize: number;
  kvCacheDtype: TKvCacheDtype;
  blockSize: number;
  gpuMemoryUtilization: number;
  perGpu: {
    vramBytes: number;
    usableBytes: number;
    weightsBytes: number;
    activationBytes: number;
    frameworkBytes: number;
    /** What is left for the KV cache after weights, activations and overhead (may be negative). */
    kvBudgetBytes: number;
    /** KV the requested context x concurrency needs on this GPU. */
    kvRequiredBytes: number;
    /** kvBudget - kvRequired: positive is headroom, negative is the shortfall. */
    marginBytes: number;
  };
  /** The whole request across GPUs, for the published-budget comparison. */
  totalRequiredBytes: number;
  kvBytesPerToken: Record<keyof TKvLayerKinds, number> & { total: number };
  layerKinds: TKvLayerKinds;
  /** KV bytes of one sequence at the page-rounded context, whole model. */
  kvBytesPerSequence: number;
  /** Tokens the KV budget holds (across concurrent sequences, at this context's per-token cost). */
  kvCapacityTokens: number;
  maxConcurrentSequences: number;
  /** Longest context one sequence can have with this budget (page-aligned, capped at the model maximum). */
  maxContextForOneSequence: number;
  /** Fewest GPUs (power of two up to gpuCount) that fit the request; null if none does. */
  minimumGpus: number | null;
  suggested: {
    maxModelLen: number;
    maxNumSeqs: number;
    kvCacheDtype: TKvCacheDtype;
    tensorParallelSize: number;
    gpuMemoryUtilization: number;
  };
  warnings: string[];
}

export type TPlanResult = { ok: true; plan: TFitPlan } | { ok: false; errors: string[] };

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}

function formatGib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

export function validatePlanInput(input: TPlanInput): string[] {
  const errors: string[] = [];
  if (!input.gpu) errors.push('Unknown GPU model: add it to the GPU catalog or pick one from the list');
  if (!Number.isInteger(input.gpuCount) || input.gpuCount < 1)
    errors.push(`GPU count must be a whole number of at least 1 (got ${input.gpuCount})`);
  if (!Number.isFinite(input.weightsBytes) || input.weightsBytes <= 0)
    errors.push('The artifact has no byte size: the planner sizes weights from the real files');
  if (!Number.isInteger(input.contextTokens) || input.contextTokens < 1)
    errors.push(`Context must be a whole number of tokens, at least 1 (got ${input.contextTokens})`);
  else if (input.contextTokens > input.arch.maxPositionEmbeddings)
    errors.push(
      `Context ${input.contextTokens} tokens is above the model's maximum of ${input.arch.maxPositionEmbeddings} (max_position_embeddings)`,
    );
  if (!Number.isInteger(input.concurrency) || input.concurrency < 1)
    errors.push(`Concurrency must be a whole number of sequences, at least 1 (got ${input.concurrency})`);
  const tp = input.tensorParallelSize;
  if (tp != null && (!Number.isInteger(tp) || tp < 1 || tp > input.gpuCount))
    errors.push(`Tensor parallel size must be between 1 and the GPU count ${input.gpuCount} (got ${tp})`);
  const util = input.gpuMemoryUtilization;
  if (util != null && !(util > 0 && util <= 1)) errors.push(`gpu_memory_utilization must be above 0 and at most 1 (got ${util})`);
  return errors;
}

interface TBudget {
  usable: number;
  weights: number;
  activations: number;
  framework: number;
  kvBudget: number;
  kvShare: number;
}

function budgetFor(input: TPlanInput, gpu: TGpuSpec, gpus: number, util: number): TBudget {
  const defaults = ENGINE_DEFAULTS[input.engine];
  const usable = gpu.memoryMib * 1024 * 1024 * util;
  // TP+EP (and llama.cpp's layer split) spread the weights evenly over the GPUs.
  const weights = input.weightsBytes / gpus;
  const perTokenAct = activationBytesPerToken(input.arch);
  const shardedAct =
    (defaults.batchedTokens(gpu) * perTokenAct * ACTIVATION_PEAK_FACTOR) / (defaults.kvSpread === 'tensor_parallel' ? gpus : 1);
  const logits = input.concurrency * input.arch.vocabSize * 4;
  const activations = shardedAct + logits;
  const framework = defaults.frameworkBytes;
  // MLA / V4 keep one latent KV vector per token, replicated on every TP rank; GQA splits its heads.
  let kvShare = 1;
  if (defaults.kvSpread === 'layer_split') kvShare = 1 / gpus;
  else if (input.arch.attention === 'gqa') kvShare = Math.ceil(input.arch.numKeyValueHeads / gpus) / input.arch.numKeyValueHeads;
  return { usable, weights, activations, framework, kvBudget: usable - weights - activations - framework, kvShare };
}

export function planFit(input: TPlanInput): TPlanResult {
  const errors = validatePlanInput(input);
  if (errors.length > 0) return { ok: false, errors };
  const gpu = input.gpu!;
  const defaults = ENGINE_DEFAULTS[input.engine];
  const tp = input.tensorParallelSize ?? input.gpuCount;
  const util = input.gpuMemoryUtilization ?? defaults.gpuMemoryUtilization(gpu);
  const kvDtype = input.kvCacheDtype ?? defaults.defaultKvDtype(gpu);
  const b = kvDtypeBytes(kvDtype);
  const rows = defaults.fp8MlaRows && b === 1 ? fp8MlaRowBytes(input.arch) : null;
  const blockSize = defaults.blockSize(input.arch);
  const arch = input.arch;
  const warnings: string[] = [];

  const seqTokens = roundUp(input.contextTokens, blockSize);
  const perSeq = kvBytesForSequence(arch, seqTokens, b, rows).total;
  const budget = budgetFor(input, gpu, tp, util);
  const perSeqPerGpu = perSeq * budget.kvShare;
  const kvRequired = perSeqPerGpu * input.concurrency;
  const kvBudget = budget.kvBudget;
  const maxSeqs = kvBudget > 0 && perSeqPerGpu > 0 ? Math.floor(kvBudget / perSeqPerGpu) : 0;
  const kvCapacityTokens =
    kvBudget > 0 && perSeqPerGpu > 0 ? Math.floor(((kvBudget / perSeqPerGpu) * seqTokens) / blockSize) * blockSize : 0;

  // Longest single sequence: KV grows monotonically with length, so bisect over pages.
  let maxContext = 0;
  if (kvBudget > 0) {
    let lo = 0;
    let hi = Math.ceil(arch.maxPositionEmbeddings / blockSize);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (kvBytesForSequence(arch, mid * blockSize, b, rows).total * budget.kvShare <= kvBudget) lo = mid;
      else hi = mid - 1;
    }
    maxContext = Math.min(lo * blockSize, arch.maxPositionEmbeddings);
  }

  const weightsFit = budget.weights <= budget.usable;
  const staticFits = kvBudget > 0;
  const fits = staticFits && maxSeqs >= input.concurrency;
  const limitingFactor: TLimitingFactor = !weightsFit ? 'weights' : !staticFits ? 'activations' : 'kv_cache';

  let minimumGpus: number | null = null;
  for (let n = 1; n <= input.gpuCount; n *= 2) {
    const bn = budgetFor(input, gpu, n, util);
    if (bn.kvBudget > 0 && bn.kvBudget >= perSeq * bn.kvShare * input.concurrency) {
      minimumGpus = n;
      break;
    }
  }
  if (minimumGpus === null && fits) minimumGpus = tp;

  if (input.engine === 'llamacpp' || input.engine === 'ollama') {
    if (kvDtype.startsWith('fp8') || kvDtype === 'bf16') warnings.push(`llama.cpp caches f16, q8_0 or q4_0, not ${kvDtype}`);
  }
  if (kvDtype.startsWith('fp8') && !gpu.fp8TensorCores)
    warnings.push(`${gpu.model} has no FP8 support: an fp8 KV cache needs Ada, Hopper or newer`);
  if (arch.attention === 'v4_hybrid' && input.contextTokens < 393216) {
    // V4's "Think Max" mode needs --max-model-len >= 393216 (vLLM recipe); say so only when it is below.
    warnings.push('Think Max reasoning needs a max-model-len of at least 393216 (vLLM recipe)');
  }

  // Not even one sequence at the requested context: suggest the longest that fits, if any does.
  const suggestedMaxModelLen = maxSeqs === 0 && maxContext >= blockSize ? maxContext : Math.min(seqTokens, arch.maxPositionEmbeddings);
  const suggested = {
    maxModelLen: suggestedMaxModelLen,
    maxNumSeqs: Math.max(1, Math.min(input.concurrency, maxSeqs)),
    kvCacheDtype: kvDtype,
    tensorParallelSize: tp,
    gpuMemoryUtilization: util,
  };

  const margin = kvBudget - kvRequired;
  let summary: string;
  if (!weightsFit)
    summary = `Does not fit: the weights alone need ${formatGib(budget.weights)} per GPU, above the ${formatGib(budget.usable)} usable on each ${gpu.model} (x${tp}).`;
  else if (!staticFits)
    summary = `Does not fit: weights ${formatGib(budget.weights)} + activations ${formatGib(budget.activations)} + overhead ${formatGib(budget.framework)} per GPU leave no room for the KV cache in ${formatGib(budget.usable)}.`;
  else if (!fits)
    summary = `Does not fit at this concurrency: ${input.concurrency} sequences of ${input.contextTokens} tokens need ${formatGib(kvRequired)} of KV per GPU, ${formatGib(kvBudget)} is free; ${maxSeqs} fit${maxSeqs === 0 ? ` (one sequence fits up to ${maxContext} tokens)` : ''}.`;
  else
    summary = `Fits with ${formatGib(margin)} of KV headroom per GPU: up to ${maxSeqs} concurrent sequences of ${input.contextTokens} tokens.`;

  return {
    ok: true,
    plan: {
      fits,
      limitingFactor,
      summary,
      tensorParallelSize: tp,
      kvCacheDtype: kvDtype,
      blockSize,
      gpuMemoryUtilization: util,
      perGpu: {
        vramBytes: gpu.memoryMib * 1024 * 1024,
        usableBytes: budget.usable,
        weightsBytes: budget.weights,
        activationBytes: budget.activations,
        frameworkBytes: budget.framework,
        kvBudgetBytes: kvBudget,
        kvRequiredBytes: kvRequired,
        marginBytes: margin,
      },
      totalRequiredBytes: input.weightsBytes + (budget.activations + budget.framework + kvRequired) * tp,
      kvBytesPerToken: kvBytesPerToken(arch, b, rows),
      layerKinds: countLayerKinds(arch),
      kvBytesPerSequence: perSeq,
      kvCapacityTokens,
      maxConcurrentSequences: maxSeqs,
      maxContextForOneSequence: maxContext,
      minimumGpus,
      suggested,
      warnings,
    },
  };
}
