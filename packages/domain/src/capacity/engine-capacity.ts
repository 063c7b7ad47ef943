import { KV_CACHE_DTYPES } from '@fleetplane/contracts';
import type { TKvCacheDtype } from './planner';

/**
 * The engine's own KV-cache capacity, as vLLM (and NIM, which runs vLLM) publishes it: the
 * `vllm:cache_config_info` gauge carries every CacheConfig field as a string label, after the engine has
 * profiled memory. `num_gpu_blocks` x `block_size` is how many tokens the engine can hold in its paged KV
 * cache. The label set varies by version, so only the fields used here are read, and each is checked.
 */
export interface TEngineKvReport {
  numGpuBlocks: number;
  blockSize: number;
  /** numGpuBlocks x blockSize. */
  tokens: number;
  /** The cache dtype the engine runs with, when it is one the planner knows. */
  cacheDtype: TKvCacheDtype | null;
  gpuMemoryUtilization: number | null;
}

function positiveInt(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Null when the labels do not say (no engine yet, SGLang / llama.cpp, or `num_gpu_blocks="None"` before profiling). */
export function parseEngineKvReport(labels: Readonly<Record<string, string>> | null | undefined): TEngineKvReport | null {
  if (!labels) return null;
  const numGpuBlocks = positiveInt(labels.num_gpu_blocks);
  const blockSize = positiveInt(labels.block_size);
  if (numGpuBlocks === null || blockSize === null) return null;
  // vLLM rewrites an FP8 cache for DeepSeek MLA / V4 to FlashMLA's packed `fp8_ds_mla` layout: still an FP8 cache.
  const raw = labels.cache_dtype?.trim();
  const dtype = raw === 'fp8_ds_mla' ? 'fp8' : raw;
  const util = labels.gpu_memory_utilization === undefined ? NaN : Number(labels.gpu_memory_utilization);
  return {
    numGpuBlocks,
    blockSize,
    tokens: numGpuBlocks * blockSize,
    cacheDtype: (KV_CACHE_DTYPES as readonly string[]).includes(dtype ?? '') ? (dtype as TKvCacheDtype) : null,
    gpuMemoryUtilization: Number.isFinite(util) && util > 0 && util <= 1 ? util : null,
  };
}

export interface TKvCapacityComparison {
  engineTokens: number;
  plannedTokens: number;
  /** (planned - engine) / engine: positive when the planner promised more than the engine has. */
  errorFraction: number;
  /** |error| within the tolerance the planner is held to (10 %, as against published figures). */
  withinTolerance: boolean;
  summary: string;
}

export const KV_PLAN_TOLERANCE = 0.1;

export function compareKvCapacity(plannedTokens: number, engine: TEngineKvReport): TKvCapacityComparison {
  const errorFraction = (plannedTokens - engine.tokens) / engine.tokens;
  const withinTolerance = Math.abs(errorFraction) <= KV_PLAN_TOLERANCE;
  const pct = `${errorFraction >= 0 ? '+' : '−'}${Math.abs(errorFraction * 100).toFixed(1)} %`;
  const summary = withinTolerance
    ? `The planner's estimate is within ${KV_PLAN_TOLERANCE * 100} % of what the engine allocated (${pct})`
    : errorFraction > 0
      ? `The planner over-estimates this node's KV cache by ${pct.slice(1)}: plan contexts and concurrency from the engine's figure`
      : `The planner under-estimates this node's KV cache by ${pct.slice(1)}: the engine has more room than planned`;
  return { engineTokens: engine.tokens, plannedTokens, errorFraction, withinTolerance, summary };
}
