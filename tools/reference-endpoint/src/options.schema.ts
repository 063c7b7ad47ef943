import { z } from 'zod';
import { ZDegradations } from './degradations.schema';
import { ZEngineLaunch } from './launch-profile';

/** Simulated engine timing: TTFT = ttftBaseMs + prefillMsPer1kTokens × prompt/1000; then one token per itlMs. */
export const ZTiming = z.object({
  ttftBaseMs: z.number().min(0).max(600_000).default(50),
  prefillMsPer1kTokens: z.number().min(0).max(10_000).default(2),
  itlMs: z.number().min(0).max(10_000).default(10),
  /** Tokens per streamed chunk after the first, like vLLM's --stream-interval (default 1: one token per chunk). */
  streamInterval: z.number().int().min(1).max(1024).default(1),
});
export type TTiming = z.infer<typeof ZTiming>;

export const ZReferenceEndpointOptions = z.object({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().default('127.0.0.1'),
  servedModelName: z.string().min(1).default('deepseek-ai/DeepSeek-V4-Flash'),
  /**
   * Which engine to behave like: the reasoning field name and /version (vllm vs the rest), and how it
   * signals readiness while loading (engines-and-rollouts.md §2): vllm and nim refuse connections until
   * loaded (nim then also splits /v1/health/live and /v1/health/ready), sglang and llamacpp answer /health
   * 503 while loading, mlx answers /health 200 at once and holds completions until loaded.
   */
  engine: z.enum(['vllm', 'sglang', 'llamacpp', 'mlx', 'nim']).default('vllm'),
  engineVersion: z.string().min(1).default('0.11.2'),
  maxModelLen: z.number().int().min(256).default(1_048_576),
  degradations: ZDegradations.default({}),
  seed: z.number().int().default(0),
  timing: ZTiming.prefault({}),
  /** When set, /v1/* require `Authorization: Bearer <apiKey>` (vLLM's --api-key). */
  apiKey: z.string().min(1).optional(),
  /** Requests beyond this many running ones wait (vLLM's max_num_seqs); counts as num_requests_waiting. */
  maxNumSeqs: z.number().int().min(1).default(1024),
  /** KV-cache capacity in tokens, for vllm:kv_cache_usage_perc. */
  kvCacheTokens: z.number().int().min(1).optional(),
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  /** The artifact directory it "loads": /v1/models `root`, and the digest from its identity file. */
  artifactDir: z.string().min(1).optional(),
  /** Fault: serve this directory instead (root and digest), i.e. "the engine serves something else". */
  serveArtifactDir: z.string().min(1).optional(),
  /** Simulated model load time before it is ready. */
  loadMs: z.number().int().min(0).max(3_600_000).default(0),
  /** Fault: the load fails with this root cause (the CLI prints vLLM's crash lines and exits 1). */
  failStart: z.string().min(1).optional(),
  /**
   * vLLM's CacheConfig as the `vllm:cache_config_info` labels (vllm and nim only), fixed. Unset: sized at load
   * from `launch` like vLLM's memory profiling (kv-profile.ts), else STAND_IN_CACHE_CONFIG.
   */
  cacheConfig: z.record(z.string(), z.string()).optional(),
  /** The launch flags and GPUs a vLLM-like engine sizes its KV cache from (vllm and nim). */
  launch: ZEngineLaunch.prefault({}),
  /** How many request records the timeline keeps (oldest dropped first). */
  timelineLimit: z.number().int().min(1).default(200_000),
});
export type TReferenceEndpointOptions = z.input<typeof ZReferenceEndpointOptions>;
export type TResolvedOptions = z.infer<typeof ZReferenceEndpointOptions>;

/**
 * The cache config reported when there is nothing to size it from (no config.json, no GPU visible): the
 * stand-in's fixed figure, not one a real engine would compute.
 */
export const STAND_IN_CACHE_CONFIG: Readonly<Record<string, string>> = {
  block_size: '16',
  cache_dtype: 'auto',
  gpu_memory_utilization: '0.9',
  num_gpu_blocks: '65536',
  num_cpu_blocks: '0',
  enable_prefix_caching: 'True',
};
