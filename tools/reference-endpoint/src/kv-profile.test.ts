import { describe, expect, it } from 'vitest';
import { profileKvCache, ZHfConfig, type TKvProfileInput } from './kv-profile';

// V4-shaped config.json bodies (the architecture keys of deepseek-ai/DeepSeek-V4-{Pro,Flash}); the expected
// figures below are worked by hand from vLLM's rules, so a change to the arithmetic shows up as a number.
const FP8 = { quant_method: 'fp8', fmt: 'e4m3', weight_block_size: [128, 128], expert_dtype: 'fp4' };
const alternating = (n: number, first: number, second: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? first : second));
const PRO = ZHfConfig.parse({
  model_type: 'deepseek_v4',
  torch_dtype: 'bfloat16',
  hidden_size: 7168,
  num_hidden_layers: 61,
  num_attention_heads: 128,
  num_key_value_heads: 1,
  head_dim: 512,
  qk_rope_head_dim: 64,
  q_lora_rank: 1536,
  n_routed_experts: 384,
  num_experts_per_tok: 6,
  moe_intermediate_size: 3072,
  index_head_dim: 128,
  sliding_window: 128,
  // 31 HCA (ratio 128) and 30 CSA (ratio 4) layers, plus the MTP layer's entry.
  compress_ratios: [...alternating(61, 128, 4), 0],
  vocab_size: 129280,
  max_position_embeddings: 1048576,
  hc_mult: 4,
  quantization_config: FP8,
});
const FLASH = ZHfConfig.parse({
  ...PRO,
  hidden_size: 4096,
  num_hidden_layers: 43,
  num_attention_heads: 64,
  q_lora_rank: 1024,
  n_routed_experts: 256,
  moe_intermediate_size: 2048,
  // Two sliding-window-only layers, then 21 CSA and 20 HCA.
  compress_ratios: [0, 0, ...alternating(41, 4, 128)],
});

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const B200 = 183_359 * MIB;
const H200 = 143_771 * MIB;

function input(over: Partial<TKvProfileInput>): TKvProfileInput {
  return {
    config: PRO,
    weightsBytes: 163 * 5.3e9,
    gpuMemoryBytes: Array(8).fill(B200),
    tensorParallelSize: 8,
    gpuMemoryUtilization: 0.9,
    kvCacheDtype: 'auto',
    maxModelLen: 1_048_576,
    blockSize: null,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: null,
    enforceEager: false,
    ...over,
  };
}

function profiled(over: Partial<TKvProfileInput>) {
  const r = profileKvCache(input(over));
  if (!r.ok) throw new Error(r.error);
  return r.profile;
}

describe('profileKvCache: DeepSeek V4 the way vLLM sizes it', () => {
  it('V4-Pro on 8x B200 at TP 8: fp8_ds_mla pages per 256-token block, weights, activations and overheads per rank', () => {
    const p = profiled({});
    // One 584 B row per compressed entry (448 FP8 NoPE + 64x2 BF16 RoPE + 7 scales + 1 pad), pages padded to 576 B:
    // a CSA page holds 256/4 = 64 rows (37,376 -> 37,440 B) plus 64 indexer keys of 132 B; an HCA page 2 rows (1,168 -> 1,728 B).
    expect(p.blockSize).toBe(256);
    expect(p.cacheDtype).toBe('fp8_ds_mla');
    expect(p.bytesPerBlock).toBe(30 * (37_440 + 64 * 132) + 31 * 1_728);
    // fused_wqa_wkv stays whole on every rank: 61 x 7168 x (1536 + 512) FP8 bytes.
    const replicated = 61 * 7168 * (1536 + 512);
    expect(p.weightsBytes).toBeCloseTo((163 * 5.3e9 - replicated) / 8 + replicated, 0);
    // 8192 tokens x BF16 (4 hyper-connection residual copies, norm + attention out, 16 local heads x 512, 6 experts'
    // gate/up shard + output), then FP32 logits for 1024 sequences.
    expect(p.peakActivationBytes).toBe(8192 * (7168 * 4 * 2 + 2 * 7168 + 16 * 512 + 6 * ((2 * 3072) / 8 + 7168)) * 2 + 1024 * 129280 * 4);
    expect(p.nonTorchBytes).toBe(0.75 * GIB);
    expect(p.cudaGraphBytes).toBe(0.5 * GIB);
    const available = Math.floor(B200 * 0.9) - p.weightsBytes - p.peakActivationBytes - 0.75 * GIB - 0.5 * GIB;
    expect(p.availableKvBytes).toBeCloseTo(available, 0);
    expect(p.numGpuBlocks).toBe(Math.floor(available / p.bytesPerBlock));
    // About 10.9M tokens: 10x the 1M max_model_len.
    expect(p.numGpuBlocks * 256).toBeGreaterThan(10_500_000);
    expect(p.numGpuBlocks * 256).toBeLessThan(11_300_000);
    expect(p.cacheConfig).toEqual({
      block_size: '256',
      cache_dtype: 'fp8_ds_mla',
      gpu_memory_utilization: '0.9',
      num_gpu_blocks: String(p.numGpuBlocks),
      num_cpu_blocks: '0',
      enable_prefix_caching: 'True',
    });
  });

  it('V4-Flash: sliding-window-only layers add nothing to a block; the MTP entry of compress_ratios is ignored', () => {
    const p = profiled({ config: FLASH, weightsBytes: 46 * 3.476e9, gpuMemoryBytes: [B200], tensorParallelSize: 1 });
    expect(p.bytesPerBlock).toBe(21 * (37_440 + 64 * 132) + 20 * 1_728);
    // One rank holds everything, no NCCL; the 128K-token batch of a 192 GB GPU.
    expect(p.weightsBytes).toBe(46 * 3.476e9);
    expect(p.nonTorchBytes).toBe(0.25 * GIB);
    expect(p.peakActivationBytes).toBe(8192 * (4096 * 8 + 2 * 4096 + 64 * 512 + 6 * (2 * 2048 + 4096)) * 2 + 1024 * 129280 * 4);
    expect(p.numGpuBlocks).toBe(Math.floor(p.availableKvBytes / p.bytesPerBlock));
    expect(p.numGpuBlocks * 256).toBeGreaterThan(2_000_000);
  });

  it('a bigger gpu_memory_utilization, an explicit block size and --enforce-eager each move the figure the way vLLM would', () => {
    const base = profiled({});
    expect(profiled({ gpuMemoryUtilization: 0.95 }).numGpuBlocks).toBeGreaterThan(base.numGpuBlocks);
    expect(profiled({ enforceEager: true }).cudaGraphBytes).toBe(0);
    const small = profiled({ blockSize: 64 });
    // 16 CSA rows (9,344 -> 9,792 B) and indexer keys; an HCA page still holds one row (584 -> 1,152 B).
    expect(small.bytesPerBlock).toBe(30 * (9_792 + 16 * 132) + 31 * 1_152);
  });

  it('Flash does not fit one H200: the start-up error vLLM prints', () => {
    const r = profileKvCache(input({ config: FLASH, weightsBytes: 46 * 3.476e9, gpuMemoryBytes: [H200], tensorParallelSize: 1 }));
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/^ValueError: No available memory for the cache blocks/) });
  });

  it('a max_model_len the cache cannot hold once is refused with the estimated maximum', () => {
    const r = profileKvCache(
      input({ config: FLASH, weightsBytes: 46 * 3.476e9, gpuMemoryBytes: [B200], tensorParallelSize: 1, gpuMemoryUtilization: 0.865 }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(/^ValueError: To serve at least one request with the models's max seq len \(1048576\)/);
    expect(r.error).toMatch(/estimated maximum model length is \d+/);
  });

  it('V4 refuses a BF16 cache, and more ranks than GPUs', () => {
    expect(profileKvCache(input({ kvCacheDtype: 'bfloat16' }))).toEqual({
      ok: false,
      error: 'AssertionError: DeepseekV4 only supports fp8 kv-cache format for now, got bfloat16',
    });
    expect(profileKvCache(input({ gpuMemoryBytes: [B200, B200] }))).toEqual({
      ok: false,
      error: 'ValueError: World size (8) is larger than the number of available GPUs (2) in this node.',
    });
  });
});

describe('profileKvCache: other attention kinds', () => {
  it('GQA splits its KV heads over TP ranks: 2 x block x heads/rank x head_dim x 2 bytes per layer', () => {
    const llama = ZHfConfig.parse({
      model_type: 'llama',
      hidden_size: 8192,
      num_hidden_layers: 80,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      intermediate_size: 28672,
      vocab_size: 128256,
      torch_dtype: 'bfloat16',
    });
    const p = profiled({
      config: llama,
      weightsBytes: 141e9,
      gpuMemoryBytes: Array(4).fill(80 * GIB),
      tensorParallelSize: 4,
      maxModelLen: 131072,
    });
    expect(p.blockSize).toBe(16);
    expect(p.bytesPerBlock).toBe(80 * 2 * 16 * 2 * 128 * 2);
  });

  it("MLA (V3) in FP8 uses FlashMLA's 656 B row per token and layer", () => {
    const v3 = ZHfConfig.parse({
      model_type: 'deepseek_v3',
      hidden_size: 7168,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      q_lora_rank: 1536,
      num_experts_per_tok: 8,
      moe_intermediate_size: 2048,
      vocab_size: 129280,
      quantization_config: { quant_method: 'fp8' },
    });
    expect(profiled({ config: v3, weightsBytes: 689e9, kvCacheDtype: 'fp8', maxModelLen: 163840 }).bytesPerBlock).toBe(61 * 16 * 656);
    expect(profiled({ config: v3, weightsBytes: 689e9, maxModelLen: 163840 }).bytesPerBlock).toBe(61 * 16 * 576 * 2);
  });
});
