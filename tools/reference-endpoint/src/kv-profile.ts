import { z } from 'zod';

/**
 * How many KV-cache blocks the stand-in engine allocates, computed the way vLLM does at start-up, so the
 * `vllm:cache_config_info` it publishes is the figure a real engine would publish for the same checkpoint,
 * flags and GPUs.
 *
 * Deliberately written from vLLM's source and NOT from Fleetplane's capacity planner (packages/domain
 * planner.ts): the node page compares the two, which would prove nothing if one were computed from the other.
 * What was read (vllm-project/vllm, main, December 2026):
 * - `vllm/v1/worker/gpu_worker.py` `Worker.determine_available_memory` and `vllm/utils/mem_utils.py`
 *   `memory_profiling`: requested = total GPU memory x gpu_memory_utilization; non-KV memory = weights
 *   (`model_memory_usage`) + the torch peak of a dummy forward of `max_num_batched_tokens` tokens plus the
 *   sampler on `max_num_seqs` rows + the non-torch increase (NCCL, custom all-reduce, cuBLAS); minus the CUDA
 *   graph estimate; every rank does this and the executor keeps the minimum.
 * - `vllm/v1/core/kv_cache_utils.py`: blocks = available // (page bytes of every layer for one block), and the
 *   "max seq len does not fit" / "No available memory for the cache blocks" start-up errors.
 * - `vllm/v1/kv_cache_interface.py` page sizes: full attention `2 x block x kv_heads x head_size x dtype`
 *   (KV heads split over TP ranks), MLA one latent vector `block x (kv_lora_rank + rope) x dtype`, the FlashMLA
 *   FP8 row `fp8_ds_mla` 656 B (512 FP8 + 16 B scales + 64 BF16 RoPE).
 * - DeepSeek V4 (`vllm/model_executor/layers/deepseek_v4_attention.py`, `.../mla/sparse_swa.py`): fp8 only
 *   (`auto` / `fp8` become `fp8_ds_mla`); a compressed layer of ratio r keeps block/r entries per block of a
 *   584 B row (448 FP8 NoPE + 64 BF16 RoPE + 7 UE8M0 scales + 1 pad), pages aligned to 576 B for FlashMLA;
 *   ratio-4 layers add the indexer's FP8 keys (index_head_dim + a 4 B scale, unpadded); the sliding-window ring (128
 *   tokens per layer, 64-token SWA blocks) shares those pages per running request and is not part of the
 *   block count; `fused_wqa_wkv` is a ReplicatedLinear (every TP rank holds it whole).
 *
 * What the stand-in cannot measure it takes from typical profiles (NCCL / CUDA graph sizes), named below.
 */

const GIB = 1024 ** 3;

/** The config.json fields this arithmetic reads; everything else passes through untouched. */
export const ZHfConfig = z
  .object({
    model_type: z.string().optional(),
    num_hidden_layers: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().optional(),
    qk_rope_head_dim: z.number().int().nonnegative().optional(),
    kv_lora_rank: z.number().int().positive().optional(),
    q_lora_rank: z.number().int().positive().nullable().optional(),
    index_head_dim: z.number().int().positive().optional(),
    compress_ratios: z.array(z.number().int().nonnegative()).optional(),
    sliding_window: z.number().int().positive().nullable().optional(),
    vocab_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive().optional(),
    moe_intermediate_size: z.number().int().positive().optional(),
    num_experts_per_tok: z.number().int().positive().optional(),
    hc_mult: z.number().int().positive().optional(),
    torch_dtype: z.string().optional(),
    quantization_config: z.object({ quant_method: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
export type THfConfig = z.infer<typeof ZHfConfig>;

export interface TKvProfileInput {
  config: THfConfig;
  /** Bytes of the checkpoint's weight files (what `model_memory_usage` comes to after loading). */
  weightsBytes: number;
  /** Total memory of each GPU the engine was given (one per tensor-parallel rank). */
  gpuMemoryBytes: number[];
  tensorParallelSize: number;
  gpuMemoryUtilization: number;
  /** `--kv-cache-dtype`: auto, fp8, fp8_e4m3, fp8_e5m2, bfloat16, float16. */
  kvCacheDtype: string;
  maxModelLen: number;
  /** `--block-size`; null = the engine's default for the model. */
  blockSize: number | null;
  maxNumSeqs: number;
  /** `--max-num-batched-tokens`; null = what `vllm serve` resolves for the GPU. */
  maxNumBatchedTokens: number | null;
  enforceEager: boolean;
}

export interface TKvProfile {
  numGpuBlocks: number;
  blockSize: number;
  /** The cache dtype after the model's own rules (V4: `fp8_ds_mla`). */
  cacheDtype: string;
  /** Per rank (the smallest GPU), in bytes. */
  requestedBytes: number;
  weightsBytes: number;
  peakActivationBytes: number;
  nonTorchBytes: number;
  cudaGraphBytes: number;
  availableKvBytes: number;
  /** KV bytes one block of `blockSize` tokens takes over all layers on one rank. */
  bytesPerBlock: number;
  /** The vllm:cache_config_info labels. */
  cacheConfig: Record<string, string>;
}

export type TKvProfileResult = { ok: true; profile: TKvProfile } | { ok: false; error: string };

/** NCCL communicators and vLLM's custom all-reduce buffers appear only with more than one rank. */
const NON_TORCH_BASE_BYTES = 0.25 * GIB;
const NON_TORCH_PER_TP_GROUP_BYTES = 0.5 * GIB;
/** CUDA graphs captured for decode batch sizes (vLLM estimates them before sizing the cache). */
const CUDA_GRAPH_BYTES = 0.5 * GIB;
/** FlashMLA requires pages aligned to 576 bytes. */
const FLASHMLA_ALIGNMENT = 576;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

function isV4(c: THfConfig): boolean {
  return c.model_type === 'deepseek_v4' || (Array.isArray(c.compress_ratios) && c.compress_ratios.length > 0);
}

/** Bytes per parameter of the projections a rank holds whole (FP8 checkpoints: 1, else the torch dtype's). */
function paramBytes(c: THfConfig): number {
  if (c.quantization_config?.quant_method === 'fp8') return 1;
  return c.torch_dtype === 'float32' ? 4 : 2;
}

function resolveCacheDtype(c: THfConfig, requested: string): { ok: true; dtype: string; bytes: number } | { ok: false; error: string } {
  const r = requested.toLowerCase();
  if (isV4(c)) {
    // DeepseekV4MLAAttention asserts an fp8 cache and switches it to DeepSeek's own fp8_ds_mla layout.
    if (r === 'auto' || r.startsWith('fp8')) return { ok: true, dtype: 'fp8_ds_mla', bytes: 1 };
    return { ok: false, error: `AssertionError: DeepseekV4 only supports fp8 kv-cache format for now, got ${requested}` };
  }
  if (r.startsWith('fp8')) return { ok: true, dtype: r, bytes: 1 };
  if (r === 'auto' || r === 'bfloat16' || r === 'bf16' || r === 'float16' || r === 'fp16' || r === 'half')
    return { ok: true, dtype: r, bytes: c.torch_dtype === 'float32' && r === 'auto' ? 4 : 2 };
  return { ok: false, error: `ValueError: Unknown kv cache dtype: ${requested}` };
}

/** KV bytes of one block on one rank, over every layer that draws from the block pool. */
function bytesPerBlock(c: THfConfig, block: number, dtype: string, elementBytes: number, tp: number): number {
  const layers = c.num_hidden_layers;
  if (isV4(c)) {
    const headDim = c.head_dim ?? 512;
    const rope = c.qk_rope_head_dim ?? 64;
    const nope = headDim - rope;
    const row = nope + rope * 2 + Math.floor(nope / 64) + 1;
    const indexerRow = (c.index_head_dim ?? 128) + 4;
    // compress_ratios may carry one extra entry for the MTP layer, which has no cache unless speculating.
    const ratios = (c.compress_ratios ?? []).slice(0, layers);
    let total = 0;
    for (const r of ratios) {
      if (r <= 1) continue; // sliding-window only: its ring is per request, outside the block count
      const entries = Math.max(1, Math.floor(block / r));
      total += alignUp(entries * row, FLASHMLA_ALIGNMENT);
      if (r === 4) total += entries * indexerRow;
    }
    return total;
  }
  if (c.kv_lora_rank) {
    const latent = c.kv_lora_rank + (c.qk_rope_head_dim ?? 0);
    // FlashMLA's FP8 row: the latent in FP8, one fp32 scale per 128 values, the RoPE part kept in BF16.
    const row = dtype.startsWith('fp8') && latent === 576 ? 656 : latent * elementBytes;
    const indexer = c.index_head_dim ? c.index_head_dim + 4 : 0;
    return layers * block * (row + indexer);
  }
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const kvHeadsPerRank = Math.max(1, Math.ceil(kvHeads / tp));
  return layers * 2 * block * kvHeadsPerRank * headDim * elementBytes;
}

/** Weights on one rank: everything sharded over TP except the projections vLLM keeps whole on every rank. */
function weightsPerRank(c: THfConfig, weightsBytes: number, tp: number): number {
  let replicated = 0;
  if (isV4(c)) replicated = c.num_hidden_layers * c.hidden_size * ((c.q_lora_rank ?? 0) + (c.head_dim ?? 512)) * paramBytes(c);
  else if (c.kv_lora_rank)
    replicated = c.num_hidden_layers * c.hidden_size * ((c.q_lora_rank ?? 0) + c.kv_lora_rank + (c.qk_rope_head_dim ?? 0)) * paramBytes(c);
  replicated = Math.min(replicated, weightsBytes);
  return (weightsBytes - replicated) / tp + replicated;
}

/**
 * The torch peak of the profiling forward on one rank: the residual stream (x hyper-connection copies for V4),
 * normed input and attention output, this rank's query heads, the MoE (or MLP) intermediate caches, all BF16;
 * then the sampler's FP32 logits for `max_num_seqs` rows over the full vocabulary.
 */
function peakActivationBytes(c: THfConfig, tokens: number, maxNumSeqs: number, tp: number): number {
  const hidden = c.hidden_size;
  const headDim = c.head_dim ?? (c.kv_lora_rank ? 192 : hidden / c.num_attention_heads);
  const residual = hidden * (c.hc_mult ?? 1) * 2;
  const q = Math.ceil(c.num_attention_heads / tp) * headDim;
  const ffn =
    c.moe_intermediate_size && c.num_experts_per_tok
      ? c.num_experts_per_tok * ((2 * c.moe_intermediate_size) / tp + hidden)
      : (2 * (c.intermediate_size ?? 4 * hidden)) / tp;
  const perToken = (residual + 2 * hidden + q + ffn) * 2;
  return tokens * perToken + maxNumSeqs * c.vocab_size * 4;
}

const gib = (n: number) => (n / GIB).toFixed(2);

export function profileKvCache(input: TKvProfileInput): TKvProfileResult {
  const c = input.config;
  const tp = input.tensorParallelSize;
  if (input.gpuMemoryBytes.length < tp)
    return {
      ok: false,
      error: `ValueError: World size (${tp}) is larger than the number of available GPUs (${input.gpuMemoryBytes.length}) in this node.`,
    };
  if (!(input.gpuMemoryUtilization > 0 && input.gpuMemoryUtilization <= 1))
    return { ok: false, error: `ValueError: GPU memory utilization must be within (0, 1]. Got ${input.gpuMemoryUtilization}.` };
  const dtype = resolveCacheDtype(c, input.kvCacheDtype);
  if (!dtype.ok) return dtype;
  // DeepSeek V4's recipe runs 256-token blocks (the only size both its FlashMLA and indexer kernels share).
  const block = input.blockSize ?? (isV4(c) ? 256 : 16);
  const smallestGpu = Math.min(...input.gpuMemoryBytes.slice(0, tp));
  // `vllm serve` resolves unset batch limits by hardware: 8192 tokens on >= 70 GiB GPUs, else 2048.
  const batchedTokens = input.maxNumBatchedTokens ?? (smallestGpu >= 70 * GIB ? 8192 : 2048);

  const requested = Math.floor(smallestGpu * input.gpuMemoryUtilization);
  const weights = weightsPerRank(c, input.weightsBytes, tp);
  const peak = peakActivationBytes(c, batchedTokens, input.maxNumSeqs, tp);
  const nonTorch = NON_TORCH_BASE_BYTES + (tp > 1 ? NON_TORCH_PER_TP_GROUP_BYTES : 0);
  const graphs = input.enforceEager ? 0 : CUDA_GRAPH_BYTES;
  const available = requested - weights - peak - nonTorch - graphs;
  if (available <= 0)
    return {
      ok: false,
      error:
        `ValueError: No available memory for the cache blocks. Try increasing \`gpu_memory_utilization\` when initializing the engine. ` +
        `(requested ${gib(requested)} GiB per GPU; weights ${gib(weights)} GiB, peak activations ${gib(peak)} GiB, non-torch ${gib(nonTorch)} GiB, CUDA graphs ${gib(graphs)} GiB)`,
    };
  const perBlock = bytesPerBlock(c, block, dtype.dtype, dtype.bytes, tp);
  if (perBlock <= 0) return { ok: false, error: 'ValueError: the model has no layer with a KV cache to size' };
  const numGpuBlocks = Math.floor(available / perBlock);
  const needed = Math.ceil(input.maxModelLen / block);
  if (numGpuBlocks < needed)
    return {
      ok: false,
      error:
        `ValueError: To serve at least one request with the models's max seq len (${input.maxModelLen}), ` +
        `(${gib(needed * perBlock)} GiB KV cache is needed, which is larger than the available KV cache memory (${gib(available)} GiB). ` +
        `Based on the available memory, the estimated maximum model length is ${numGpuBlocks * block}. ` +
        `Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`,
    };
  return {
    ok: true,
    profile: {
      numGpuBlocks,
      blockSize: block,
      cacheDtype: dtype.dtype,
      requestedBytes: requested,
      weightsBytes: weights,
      peakActivationBytes: peak,
      nonTorchBytes: nonTorch,
      cudaGraphBytes: graphs,
      availableKvBytes: available,
      bytesPerBlock: perBlock,
      cacheConfig: {
        block_size: String(block),
        cache_dtype: dtype.dtype,
        gpu_memory_utilization: String(input.gpuMemoryUtilization),
        num_gpu_blocks: String(numGpuBlocks),
        num_cpu_blocks: '0',
        enable_prefix_caching: 'True',
      },
    },
  };
}
