import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from './float-formats';
import { dequantiseQ4_0Into, dequantiseQ8_0Into, quantiseQ4_0Into, quantiseQ8_0Into } from './ggml-quants';

describe('Q8_0 (ggml quantize_row_q8_0_ref)', () => {
  it('quantises a hand-made block: d = amax/127, roundf half away from zero', () => {
    const x = new Float32Array(32);
    x.set([127, -63.5, 0.5, 1.5, 2.5, -2.5, -0.5, 0.49]);
    const out = new Uint8Array(34);
    quantiseQ8_0Into(x, out);
    expect(out[0]! | (out[1]! << 8)).toBe(0x3c00); // fp16(1.0)
    const q = Array.from(out.subarray(2, 10), (b) => (b << 24) >> 24);
    expect(q).toEqual([127, -64, 1, 2, 3, -3, -1, 0]);
    const back = new Float32Array(32);
    dequantiseQ8_0Into(out, 32, back);
    expect(Array.from(back.subarray(0, 3))).toEqual([127, -64, 1]);
  });

  it('stores fp16(d) but computes q with the float32 d', () => {
    const x = new Float32Array(32).fill(0.1);
    x[0] = 1;
    const out = new Uint8Array(34);
    quantiseQ8_0Into(x, out);
    const d = f16BitsToF32(out[0]! | (out[1]! << 8));
    expect(d).toBeCloseTo(1 / 127, 5);
    expect((out[2]! << 24) >> 24).toBe(127);
    expect((out[3]! << 24) >> 24).toBe(13); // 0.1 · 127 = 12.7 -> 13
  });

  it('an all-zero block has d = 0 and zero codes', () => {
    const out = new Uint8Array(34).fill(0xaa);
    quantiseQ8_0Into(new Float32Array(32), out);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('refuses a length that is not a multiple of 32', () => {
    expect(() => quantiseQ8_0Into(new Float32Array(33), new Uint8Array(68))).toThrow(/multiple of 32/);
  });
});

describe('Q4_0 (ggml quantize_row_q4_0_ref)', () => {
  it('quantises a hand-made block: d = max/-8, q = min(15, trunc(x/d + 8.5)), halves in the nibbles', () => {
    const x = new Float32Array(32);
    x.set([-8, 7, 7.9, 0.5, -0.5, 3]);
    x[16] = 1;
    x[17] = -3;
    const out = new Uint8Array(18);
    quantiseQ4_0Into(x, out);
    expect(f16BitsToF32(out[0]! | (out[1]! << 8))).toBe(1); // -8 / -8
    const low = Array.from(out.subarray(2, 8), (b) => b & 0xf);
    expect(low).toEqual([0, 15, 15, 9, 8, 11]);
    expect(out[2]! >> 4).toBe(9); // element 16 = 1 -> 9
    expect(out[3]! >> 4).toBe(5); // element 17 = -3 -> 5
    const back = new Float32Array(32);
    dequantiseQ4_0Into(out, 32, back);
    expect(Array.from(back.subarray(0, 6))).toEqual([-8, 7, 7, 1, 0, 3]);
    expect([back[16], back[17]]).toEqual([1, -3]);
  });

  it('with a positive extreme the scale is negative and the extreme maps to code 0', () => {
    const x = new Float32Array(32);
    x[5] = 8;
    const out = new Uint8Array(18);
    quantiseQ4_0Into(x, out);
    expect(f16BitsToF32(out[0]! | (out[1]! << 8))).toBe(-1);
    expect(out[2 + 5]! & 0xf).toBe(0);
    const back = new Float32Array(32);
    dequantiseQ4_0Into(out, 32, back);
    expect(back[5]).toBe(8);
    expect(Math.abs(back[0]!)).toBe(0); // (8 - 8) · -1 = -0
  });

  it('on equal magnitudes the first one sets the sign of d', () => {
    const x = new Float32Array(32);
    x[0] = 4;
    x[1] = -4;
    const out = new Uint8Array(18);
    quantiseQ4_0Into(x, out);
    expect(f16BitsToF32(out[0]! | (out[1]! << 8))).toBe(-0.5);
  });
});
