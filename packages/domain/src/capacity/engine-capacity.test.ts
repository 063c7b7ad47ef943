import { describe, expect, it } from 'vitest';
import { compareKvCapacity, parseEngineKvReport } from './engine-capacity';

// Labels as vLLM 0.20 prints them (engines-and-rollouts.md: every CacheConfig field, stringified).
const VLLM_LABELS = {
  block_size: '256',
  cache_dtype: 'fp8',
  gpu_memory_utilization: '0.9',
  num_gpu_blocks: '4096',
  num_cpu_blocks: '0',
  enable_prefix_caching: 'True',
  engine: '0',
};

describe('parseEngineKvReport', () => {
  it('reads num_gpu_blocks x block_size as the token capacity', () => {
    expect(parseEngineKvReport(VLLM_LABELS)).toEqual({
      numGpuBlocks: 4096,
      blockSize: 256,
      tokens: 1_048_576,
      cacheDtype: 'fp8',
      gpuMemoryUtilization: 0.9,
    });
  });
  it('says nothing before the engine has profiled memory, or without the labels', () => {
    expect(parseEngineKvReport({ ...VLLM_LABELS, num_gpu_blocks: 'None' })).toBeNull();
    expect(parseEngineKvReport({ block_size: '16' })).toBeNull();
    expect(parseEngineKvReport(null)).toBeNull();
    expect(parseEngineKvReport({ ...VLLM_LABELS, block_size: '0' })).toBeNull();
    expect(parseEngineKvReport({ ...VLLM_LABELS, num_gpu_blocks: '-3' })).toBeNull();
    expect(parseEngineKvReport({ ...VLLM_LABELS, num_gpu_blocks: '1e309' })).toBeNull();
  });
  it('keeps the capacity when the dtype or utilisation is one it does not know', () => {
    const r = parseEngineKvReport({ ...VLLM_LABELS, cache_dtype: 'turboquant_k8v4', gpu_memory_utilization: 'x' });
    expect(r).toMatchObject({ tokens: 1_048_576, cacheDtype: null, gpuMemoryUtilization: null });
  });
});

describe('compareKvCapacity', () => {
  const engine = parseEngineKvReport(VLLM_LABELS)!;
  it('reports the signed error against the engine and whether it is within 10 %', () => {
    const close = compareKvCapacity(1_000_000, engine);
    expect(close.errorFraction).toBeCloseTo(-0.0463, 3);
    expect(close.withinTolerance).toBe(true);
    expect(close.summary).toContain('within 10 %');
  });
  it('names the direction when the plan is off', () => {
    const over = compareKvCapacity(1_300_000, engine);
    expect(over.withinTolerance).toBe(false);
    expect(over.summary).toMatch(/over-estimates .* by 24\.0 %/);
    const under = compareKvCapacity(500_000, engine);
    expect(under.summary).toMatch(/under-estimates .* by 52\.3 %/);
  });
  it("reads vLLM's fp8_ds_mla (DeepSeek MLA / V4) as an FP8 cache", () => {
    expect(parseEngineKvReport({ num_gpu_blocks: '42167', block_size: '256', cache_dtype: 'fp8_ds_mla' })).toMatchObject({
      tokens: 42167 * 256,
      cacheDtype: 'fp8',
    });
  });
});
