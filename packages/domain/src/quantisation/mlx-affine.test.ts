import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f32ToBf16Bits } from './float-formats';
import { dequantiseMlxAffineInto, quantiseMlxAffine } from './mlx-affine';

const toBf16 = (v: number) => bf16BitsToF32(f32ToBf16Bits(v));
const identity = (v: number) => v;

describe('MLX affine quantisation', () => {
  it('quantises a hand-made 4-bit group: negative scale, bias = the max edge, 0 exact', () => {
    const w = new Float32Array(64);
    w.set([10, 0, -5, 2.4, 2.6]);
    const q = quantiseMlxAffine(w, 1, 64, 4, 64, identity);
    // scale0 = 15/15 = 1; |min| < |max| so s = -1, edge = 10; q0 = -10 -> s = -1, bias = 10.
    expect(q.scales[0]).toBe(-1);
    expect(q.biases[0]).toBe(10);
    const codes = Array.from({ length: 5 }, (_, i) => (q.packed[0]! >>> (4 * i)) & 0xf);
    expect(codes).toEqual([0, 10, 15, 8, 7]);
    const out = new Float32Array(64);
    dequantiseMlxAffineInto(q.packed, q.scales, q.biases, 64, 4, 64, out);
    expect(Array.from(out.subarray(0, 5))).toEqual([10, 0, -5, 2, 3]);
    expect(out[10]).toBe(0);
  });

  it('packs 8-bit codes four to a word, LSB first, and keeps errors within half a step plus the bf16 rounding of scale and bias', () => {
    const rows = 3;
    const cols = 128;
    const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i) * (1 + (i % 7)));
    const q = quantiseMlxAffine(w, rows, cols, 8, 64, toBf16);
    expect(q.packed.length).toBe((rows * cols) / 4);
    expect(q.scales.length).toBe(rows * 2);
    // Element 0 sits in the low byte of word 0.
    const q0 = q.packed[0]! & 0xff;
    expect(Math.abs(q.scales[0]! * q0 + q.biases[0]! - w[0]!)).toBeLessThan(Math.abs(q.scales[0]!) * 2);
    const out = new Float32Array(rows * cols);
    dequantiseMlxAffineInto(q.packed, q.scales, q.biases, rows * cols, 8, 64, out);
    for (let i = 0; i < w.length; i++) {
      const g = Math.floor(i / 64);
      // |w − (s'q + b')| ≤ |s|/2 + q·|s − s'| + |b − b'|, and bf16 rounding (7 mantissa bits) is at most 2^-8 relative.
      const bound = Math.abs(q.scales[g]!) * (0.5 + 255 * 2 ** -8) + Math.abs(q.biases[g]!) * 2 ** -8 + 1e-6;
      expect(Math.abs(out[i]! - w[i]!)).toBeLessThanOrEqual(bound);
    }
  });

  it('refuses a last dimension that is not a multiple of the group size', () => {
    expect(() => quantiseMlxAffine(new Float32Array(100), 1, 100, 4, 64, identity)).toThrow(/multiple of the group size/);
  });
});
