import { describe, expect, it } from 'vitest';
import { blockFp8ErrorSums, dequantiseBlockFp8Into, quantiseBlockFp8 } from './fp8-block';
import { dequantiseQ8_0Into, q8_0ErrorSums, quantiseQ8_0Into } from './ggml-quants';
import { QualityAccumulator, aggregateQuality, checkQuality, errorSums, tensorQuality } from './quality';

describe('tensor quality', () => {
  it('computes relative RMSE, SNR and max abs error by hand', () => {
    const q = tensorQuality('t', Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 2, 3, 5]));
    expect(q.relRmse).toBeCloseTo(Math.sqrt(1 / 30), 12);
    expect(q.snrDb).toBeCloseTo(10 * Math.log10(30), 12);
    expect(q.maxAbsError).toBe(1);
  });

  it('an exact copy has zero error and no finite SNR', () => {
    const q = tensorQuality('t', Float32Array.from([1, -2]), Float32Array.from([1, -2]));
    expect(q).toMatchObject({ relRmse: 0, snrDb: null, maxAbsError: 0 });
  });

  it('accumulates chunk by chunk to the same figures', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([1.1, 2, 2.9, 4, 5.5, 6]);
    const acc = new QualityAccumulator();
    acc.add(a, b, 0, 2);
    acc.add(a, b, 2, 6);
    expect(acc.result('x')).toEqual(tensorQuality('x', a, b));
  });

  it('a finite source turned into NaN is an infinite error', () => {
    const q = tensorQuality('t', Float32Array.from([1]), Float32Array.from([NaN]));
    expect(q.relRmse).toBe(Infinity);
  });
});

describe('artifact quality thresholds', () => {
  const tensors = [
    { name: 'a', elements: 100, relRmse: 0.01, snrDb: 40, maxAbsError: 0.1 },
    { name: 'b', elements: 100, relRmse: 0.2, snrDb: 14, maxAbsError: 2 },
    { name: 'c', elements: 200, relRmse: 0.05, snrDb: 26, maxAbsError: 0.5 },
  ];

  it('aggregates worst and element-weighted figures', () => {
    const agg = aggregateQuality(tensors);
    expect(agg.worstRelRmse).toBe(0.2);
    expect(agg.worstSnrDb).toBe(14);
    expect(agg.maxAbsError).toBe(2);
    expect(agg.meanRelRmse).toBeCloseTo(Math.sqrt((0.0001 * 100 + 0.04 * 100 + 0.0025 * 200) / 400), 12);
  });

  it('passes within limits and names the worst tensors on a breach', () => {
    const agg = aggregateQuality(tensors);
    expect(checkQuality(agg, { maxRelRmse: 0.3, minSnrDb: 10 })).toBeNull();
    const breach = checkQuality(agg, { maxRelRmse: 0.03 });
    expect(breach?.worstTensors.map((t) => t.name)).toEqual(['b', 'c']);
    expect(breach?.message).toMatch(
      /2 of 3 quantised tensors break the quality limits \(relative RMSE ≤ 0.03\); worst: b \(relative RMSE 0.2000/,
    );
    expect(checkQuality(agg, { minSnrDb: 20 })?.worstTensors.map((t) => t.name)).toEqual(['b']);
  });
});

describe('fused error sums', () => {
  const rows = 130;
  const cols = 256;
  const src = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 11)));

  it('block FP8: same figures as dequantising and accumulating', () => {
    const q = quantiseBlockFp8(src, rows, cols, 'f32');
    const deq = new Float32Array(rows * cols);
    dequantiseBlockFp8Into(q.codes, rows, cols, q.scales, q.scaleCols, deq);
    const fused = new QualityAccumulator();
    fused.addSums(blockFp8ErrorSums(src, q.codes, rows, cols, q.scales, q.scaleCols));
    // Block order sums in a different order than row order: equal up to double rounding.
    const a = fused.result('t');
    const b = tensorQuality('t', src, deq);
    expect([a.elements, a.maxAbsError]).toEqual([b.elements, b.maxAbsError]);
    expect(a.relRmse).toBeCloseTo(b.relRmse, 12);
    expect(a.snrDb!).toBeCloseTo(b.snrDb!, 9);
  });

  it('Q8_0: same figures as dequantising and accumulating', () => {
    const bytes = new Uint8Array((src.length / 32) * 34);
    quantiseQ8_0Into(src, bytes);
    const deq = new Float32Array(src.length);
    dequantiseQ8_0Into(bytes, src.length, deq);
    const fused = new QualityAccumulator();
    fused.addSums(q8_0ErrorSums(src, bytes, src.length));
    expect(fused.result('t')).toEqual(tensorQuality('t', src, deq));
  });

  it('a NaN kept as NaN is not an error; a finite value turned into NaN is', () => {
    expect(errorSums(Float32Array.from([NaN, 1]), Float32Array.from([NaN, 1.5]))).toEqual({
      sumSq: 1,
      errSq: 0.25,
      maxErr: 0.5,
      n: 2,
      nonFinite: 0,
    });
    expect(errorSums(Float32Array.from([2, 1]), Float32Array.from([NaN, 1])).nonFinite).toBe(1);
    const codes = new Uint8Array(32 * 32).fill(0x38);
    codes[5] = 0x7f; // NaN code where the source was finite
    const s = blockFp8ErrorSums(new Float32Array(32 * 32).fill(1), codes, 32, 32, Float32Array.from([1]), 1);
    expect(s.nonFinite).toBe(1);
    expect(s.errSq).toBe(0);
  });
});
