import { z } from 'zod';
import { ZDegradations } from './degradations.schema';

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
  engine: z.enum(['vllm', 'sglang']).default('vllm'),
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
  /** How many request records the timeline keeps (oldest dropped first). */
  timelineLimit: z.number().int().min(1).default(200_000),
});
export type TReferenceEndpointOptions = z.input<typeof ZReferenceEndpointOptions>;
export type TResolvedOptions = z.infer<typeof ZReferenceEndpointOptions>;
