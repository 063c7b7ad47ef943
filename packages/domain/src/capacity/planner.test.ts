import { describe, expect, it } from 'vitest';
import { parseModelConfig, type TModelArch } from './model-config';
import { fp8MlaRowBytes, kvBytesForSequence, kvBytesPerToken, planFit, type TPlanInput } from './planner';
import { B200, H100, H200, RTX5090, gpu, v4FlashConfig, v4ProConfig } from './test-support';

const GIB = 1024 ** 3;

function arch(json: Record<string, unknown>): TModelArch {
  const r = parseModelConfig(json);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}
const PRO = arch(v4ProConfig());
const FLASH = arch(v4FlashConfig());

function within(actual: number, expected: number, tolerance = 0.1) {
  expect(Math.abs(actual - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function plan(over: Partial<TPlanInput>) {
  const r = planFit({
    arch: FLASH,
    weightsBytes: 160e9,
    gpu: gpu(B200),
    gpuCount: 1,
    engine: 'vllm',
    contextTokens: 32768,
    concurrency: 8,
    ...over,
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.plan;
}

describe('KV bytes per token', () => {
  it('V4-Pro in BF16: about 9.62 GiB per 1M-token sequence (vLLM launch post)', () => {
    const perSeq = kvBytesForSequence(PRO, 1_048_576, 2).total;
    within(perSeq / GIB, 9.62);
    expect(kvBytesPerToken(PRO, 2).total).toBe(9848);
    expect(kvBytesPerToken(PRO, 2)).toMatchObject({ csa: 30 * 320, hca: 31 * 8 });
  });

  it('V4-Flash sits in the 6.6-7.2 KB/token band and halves in FP8', () => {
    const bf16 = kvBytesPerToken(FLASH, 2).total;
    expect(bf16).toBeGreaterThanOrEqual(6600);
    expect(bf16).toBeLessThanOrEqual(7200);
    expect(kvBytesPerToken(FLASH, 1).total).toBe(bf16 / 2);
  });

  it("vLLM's FP8 cache for V4 and MLA is FlashMLA's packed row (fp8_ds_mla), not 1 byte per element", () => {
    // V4: 448 FP8 + 64 x 2 BF16 RoPE + 7 scales + 1 pad per 512-wide vector; indexer keys 128 FP8 + a 4 B scale.
    expect(fp8MlaRowBytes(PRO)).toEqual({ latent: 584, indexer: 132 });
    expect(kvBytesPerToken(PRO, 1, fp8MlaRowBytes(PRO))).toMatchObject({ csa: (30 * (584 + 132)) / 4, hca: (31 * 584) / 128 });
    // vLLM plans Pro in FP8 with those rows (about 14 % more per token than 1 byte per element); SGLang keeps 1 byte.
    const vllm = plan({ arch: PRO, weightsBytes: 865e9, gpu: gpu(B200), gpuCount: 8, contextTokens: 1_048_576, kvCacheDtype: 'fp8' });
    expect(vllm.kvBytesPerToken.total).toBeCloseTo(30 * 179 + (31 * 584) / 128, 6);
    const sglang = plan({
      arch: PRO,
      weightsBytes: 865e9,
      gpu: gpu(B200),
      gpuCount: 8,
      contextTokens: 1_048_576,
      engine: 'sglang',
      kvCacheDtype: 'fp8_e4m3',
    });
    expect(sglang.kvBytesPerToken.total).toBe(kvBytesPerToken(PRO, 1).total);
    // BF16 is unchanged (the published 9.62 GiB per 1M tokens).
    expect(kvBytesPerToken(PRO, 2, null).total).toBe(9848);
  });

  it('MLA (V3) and GQA match the reference formulas', () => {
    const v3 = arch({
      num_hidden_layers: 61,
      hidden_size: 7168,
      num_attention_heads: 128,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      max_position_embeddings: 163840,
    });
    expect(kvBytesPerToken(v3, 2).total).toBe(70272);
    const gqa = arch({
      num_hidden_layers: 80,
      hidden_size: 8192,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      max_position_embeddings: 131072,
    });
    expect(kvBytesPerToken(gqa, 2).total).toBe(327680);
  });

  it('counts the sliding window only up to its width', () => {
    const windowOnly = arch({ ...v4FlashConfig(), num_hidden_layers: 1, compress_ratios: [0] });
    expect(kvBytesForSequence(windowOnly, 100, 2).total).toBe(100 * 512 * 2);
    expect(kvBytesForSequence(windowOnly, 10_000, 2).total).toBe(128 * 512 * 2);
  });
});

describe('planFit against published figures', () => {
  it('Flash, 32K in / 4K out at batch 8: about 162 GB (weights 150 + KV 2 + activations 6 + framework 4)', () => {
    const p = plan({ weightsBytes: 150e9, contextTokens: 32768 + 4096, concurrency: 8, kvCacheDtype: 'bf16' });
    within(p.totalRequiredBytes, 162e9);
    within(p.perGpu.kvRequiredBytes, 2e9);
    expect(p.fits).toBe(true);
  });

  it('the native Flash checkpoint (about 160 GB) does not fit one H200 but fits two', () => {
    const one = plan({ gpu: gpu(H200), gpuCount: 1 });
    expect(one.fits).toBe(false);
    expect(one.limitingFactor).toBe('weights');
    expect(one.summary).toMatch(/weights alone/);
    const two = plan({ gpu: gpu(H200), gpuCount: 2 });
    expect(two.fits).toBe(true);
    expect(two.minimumGpus).toBe(2);
    expect(two.kvCacheDtype).toBe('fp8');
  });

  it('V4-Pro native (about 865 GB) fits 8x B200 but not 8x H100 (recipe minimum 960 GB)', () => {
    expect(plan({ arch: PRO, weightsBytes: 865e9, gpuCount: 8 }).fits).toBe(true);
    const h100 = plan({ arch: PRO, weightsBytes: 865e9, gpu: gpu(H100), gpuCount: 8 });
    expect(h100.fits).toBe(false);
    expect(h100.limitingFactor).toBe('weights');
  });

  it('Flash GGUF Q8_0 (about 282 GiB) does not fit 4x RTX 5090; Q4_K_M on llama.cpp does not either', () => {
    expect(plan({ weightsBytes: 282 * GIB, gpu: gpu(RTX5090), gpuCount: 4, engine: 'llamacpp' }).fits).toBe(false);
    expect(plan({ weightsBytes: 163 * GIB, gpu: gpu(RTX5090), gpuCount: 4, engine: 'llamacpp' }).fits).toBe(false);
  });
});

describe('planFit capacity', () => {
  it('reports KV capacity, max sequences and headroom consistently', () => {
    const p = plan({ contextTokens: 32768, concurrency: 8 });
    expect(p.maxConcurrentSequences).toBeGreaterThanOrEqual(8);
    expect(p.kvCapacityTokens % p.blockSize).toBe(0);
    expect(p.kvCapacityTokens).toBeGreaterThanOrEqual(p.maxConcurrentSequences * 32768);
    expect(p.perGpu.marginBytes).toBeCloseTo(p.perGpu.kvBudgetBytes - p.perGpu.kvRequiredBytes);
    expect(p.suggested.maxNumSeqs).toBe(8);
    expect(p.suggested.maxModelLen).toBe(32768);
  });

  it('rounds each sequence up to the engine page (vLLM V4 block 256, SGLang 1)', () => {
    const vllm = plan({ contextTokens: 1000 });
    expect(vllm.blockSize).toBe(256);
    expect(vllm.kvBytesPerSequence).toBe(kvBytesForSequence(FLASH, 1024, 1, fp8MlaRowBytes(FLASH)).total);
    const sglang = plan({ engine: 'sglang', contextTokens: 1000 });
    expect(sglang.kvBytesPerSequence).toBe(kvBytesForSequence(FLASH, 1000, 1).total);
  });

  it('when the concurrency does not fit, limits by KV cache and suggests the sequences that do', () => {
    const p = plan({ gpu: gpu(H200), gpuCount: 2, contextTokens: 1_048_576, concurrency: 500 });
    expect(p.fits).toBe(false);
    expect(p.limitingFactor).toBe('kv_cache');
    expect(p.suggested.maxNumSeqs).toBe(p.maxConcurrentSequences);
    expect(p.maxConcurrentSequences).toBeLessThan(500);
  });

  it('lower gpu_memory_utilization leaves less KV', () => {
    expect(plan({ gpuMemoryUtilization: 0.85 }).kvCapacityTokens).toBeLessThan(plan({ gpuMemoryUtilization: 0.95 }).kvCapacityTokens);
  });
});

describe('planFit bad inputs give clear messages, never NaN', () => {
  const base: TPlanInput = {
    arch: FLASH,
    weightsBytes: 160e9,
    gpu: gpu(B200),
    gpuCount: 1,
    engine: 'vllm',
    contextTokens: 32768,
    concurrency: 1,
  };
  it.each([
    [{ gpuCount: 0 }, /GPU count must be a whole number of at least 1/],
    [{ gpu: null }, /Unknown GPU model/],
    [{ contextTokens: 2_000_000 }, /above the model's maximum of 1048576/],
    [{ concurrency: 0 }, /Concurrency must be/],
    [{ weightsBytes: 0 }, /no byte size/],
    [{ weightsBytes: Number.NaN }, /no byte size/],
    [{ tensorParallelSize: 4 }, /Tensor parallel size must be between 1 and the GPU count 1/],
    [{ gpuMemoryUtilization: 1.5 }, /gpu_memory_utilization/],
  ] as [Partial<TPlanInput>, RegExp][])('%o', (over, message) => {
    const r = planFit({ ...base, ...over });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });

  it('a plan that does not fit at all still has finite numbers', () => {
    const p = plan({ weightsBytes: 5e12 });
    expect(JSON.stringify(p)).not.toMatch(/NaN|null,"maxContext|Infinity/);
    expect(p.maxConcurrentSequences).toBe(0);
    expect(p.kvCapacityTokens).toBe(0);
    expect(p.minimumGpus).toBeNull();
    expect(p.suggested.maxModelLen).toBe(32768);
  });

  it('suggests the longest context that fits when one sequence at the requested one does not', () => {
    const p = plan({
      gpu: gpu(H200),
      gpuCount: 2,
      contextTokens: 1_048_576,
      concurrency: 1,
      gpuMemoryUtilization: 0.6,
      kvCacheDtype: 'bf16',
    });
    expect(p.maxConcurrentSequences).toBe(0);
    expect(p.limitingFactor).toBe('kv_cache');
    expect(p.suggested.maxModelLen).toBe(p.maxContextForOneSequence);
    expect(p.suggested.maxModelLen % 256).toBe(0);
    expect(p.suggested.maxModelLen).toBeGreaterThan(0);
    expect(p.suggested.maxModelLen).toBeLessThan(1_048_576);
    expect(p.summary).toMatch(/one sequence fits up to/);
  });
});
