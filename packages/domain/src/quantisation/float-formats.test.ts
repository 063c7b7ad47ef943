import { describe, expect, it } from 'vitest';
import {
  E2M1_PAIR_TABLE,
  E4M3_TABLE,
  bf16BitsToF32,
  e4m3ToF32,
  e8m0ToF32,
  encodeE4M3Into,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToE2M1,
  f32ToE4M3,
  f32ToE8M0,
  f32ToF16Bits,
} from './float-formats';

describe('E4M3FN decode (s eeee mmm, bias 7)', () => {
  it('decodes zero, subnormals, normals, max and NaN by hand', () => {
    expect(e4m3ToF32(0x00)).toBe(0);
    expect(Object.is(e4m3ToF32(0x80), -0)).toBe(true);
    expect(e4m3ToF32(0x01)).toBe(0.001953125); // 1 · 2^-9
    expect(e4m3ToF32(0x07)).toBe(0.013671875); // 7 · 2^-9
    expect(e4m3ToF32(0x08)).toBe(0.015625); // 2^-6, smallest normal
    expect(e4m3ToF32(0x38)).toBe(1); // E=7, M=0
    expect(e4m3ToF32(0x3c)).toBe(1.5); // E=7, M=4
    expect(e4m3ToF32(0x7e)).toBe(448); // 1.75 · 2^8
    expect(e4m3ToF32(0xfe)).toBe(-448);
    expect(e4m3ToF32(0x7f)).toBeNaN();
    expect(e4m3ToF32(0xff)).toBeNaN();
    // 0x78 = E=15, M=0 is a normal number in the "fn" variant (no infinity).
    expect(e4m3ToF32(0x78)).toBe(256);
  });

  it('the table has exactly two NaN codes', () => {
    expect([...E4M3_TABLE].filter(Number.isNaN)).toHaveLength(2);
  });
});

describe('E4M3FN encode (RNE, saturating at 448)', () => {
  it('round-trips every finite code exactly', () => {
    for (let c = 0; c < 256; c++) {
      if ((c & 0x7f) === 0x7f) continue;
      expect(f32ToE4M3(e4m3ToF32(c))).toBe(c);
    }
  });

  it('saturates to ±448 instead of producing NaN, including between 464 and 480 and for ±Inf', () => {
    expect(f32ToE4M3(448)).toBe(0x7e);
    expect(f32ToE4M3(449)).toBe(0x7e);
    expect(f32ToE4M3(470)).toBe(0x7e); // PyTorch < 2.12 eager would give NaN here
    expect(f32ToE4M3(1e6)).toBe(0x7e);
    expect(f32ToE4M3(-1e6)).toBe(0xfe);
    expect(f32ToE4M3(Infinity)).toBe(0x7e);
    expect(f32ToE4M3(-Infinity)).toBe(0xfe);
  });

  it('maps NaN to 0x7F', () => {
    expect(f32ToE4M3(NaN)).toBe(0x7f);
  });

  it('rounds ties to even among normals', () => {
    // Between 1 (0x38, M=0) and 1.125 (0x39, M=1): the midpoint 1.0625 goes to the even mantissa 0.
    expect(f32ToE4M3(1.0625)).toBe(0x38);
    // Between 1.125 (M=1) and 1.25 (M=2): 1.1875 goes to M=2.
    expect(f32ToE4M3(1.1875)).toBe(0x3a);
    // Just above the midpoint rounds up.
    expect(f32ToE4M3(1.07)).toBe(0x39);
    // 1.9375 is the midpoint of 1.875 (M=7) and 2 (E+1, M=0): even is 2, the carry bumps the exponent.
    expect(f32ToE4M3(1.9375)).toBe(0x40);
    // 416 (M=5 at E=15) and 448 (M=6): the midpoint 432 goes to M=6.
    expect(f32ToE4M3(432)).toBe(0x7e);
    // 384 (M=4) and 416 (M=5): the midpoint 400 goes to M=4.
    expect(f32ToE4M3(400)).toBe(0x7c);
  });

  it('rounds subnormals on the 2^-9 grid with ties to even, and promotes to the smallest normal', () => {
    expect(f32ToE4M3(2 ** -10)).toBe(0x00); // 0.5 steps -> even 0
    expect(f32ToE4M3(3 * 2 ** -10)).toBe(0x02); // 1.5 steps -> even 2
    expect(f32ToE4M3(5 * 2 ** -10)).toBe(0x02); // 2.5 steps -> even 2
    expect(f32ToE4M3(-3 * 2 ** -10)).toBe(0x82);
    expect(f32ToE4M3(15 * 2 ** -10)).toBe(0x08); // 7.5 steps -> 8 = 2^-6, the smallest normal
    expect(f32ToE4M3(1e-9)).toBe(0x00);
  });

  it('the array encoder agrees with the scalar encoder on awkward values', () => {
    const values = [
      0,
      -0,
      1e-9,
      2 ** -10,
      3 * 2 ** -10,
      0.0146,
      0.015625,
      1.0625,
      1.9375,
      255,
      447,
      448,
      449,
      470,
      1e9,
      -470,
      Infinity,
      -Infinity,
      NaN,
    ];
    for (let i = 0; i < 2000; i++) values.push((Math.sin(i * 12.9898) * 43758.5453) % 500);
    // Every midpoint and its float32 neighbours, across normals and subnormals.
    for (let c = 0; c < 0x7e; c++) {
      const mid = (e4m3ToF32(c) + e4m3ToF32(c + 1)) / 2;
      values.push(mid, Math.fround(mid * (1 + 2 ** -23)), Math.fround(mid * (1 - 2 ** -23)), -mid);
    }
    // Tiny values around 2^-10 (the tie between 0 and the smallest subnormal).
    values.push(2 ** -10, 2 ** -10 * (1 + 2 ** -23), 2 ** -10 * (1 - 2 ** -23), 2 ** -11, 2 ** -30, 1e-45);
    const src = Float32Array.from(values);
    const out = new Uint8Array(src.length);
    encodeE4M3Into(src, out);
    for (let i = 0; i < src.length; i++) expect(out[i]).toBe(f32ToE4M3(src[i]!));
    // And exhaustively over every float32 top half with zero and non-zero low bits (the table's own domain).
    const all = new Uint32Array(2 * 65536);
    for (let hi = 0; hi < 65536; hi++) {
      all[2 * hi] = (hi << 16) >>> 0;
      all[2 * hi + 1] = ((hi << 16) | 0x8001) >>> 0;
    }
    const allF = new Float32Array(all.buffer);
    const allOut = new Uint8Array(allF.length);
    encodeE4M3Into(allF, allOut);
    let mismatches = 0;
    for (let i = 0; i < allF.length; i++) if (allOut[i] !== f32ToE4M3(allF[i]!)) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('picks the nearest code for arbitrary values (checked against a brute-force search)', () => {
    for (let i = 0; i < 500; i++) {
      const v = Math.fround(((i * 7919) % 1000) / 2.3 - 200);
      const code = f32ToE4M3(v);
      let best = Infinity;
      for (let c = 0; c < 256; c++) if (!Number.isNaN(E4M3_TABLE[c]!)) best = Math.min(best, Math.abs(E4M3_TABLE[c]! - v));
      expect(Math.abs(E4M3_TABLE[code]! - v)).toBe(best);
    }
  });
});

describe('E8M0 scales', () => {
  it('decodes 2^(e-127) with 0x00 = 2^-127 (not zero) and 0xFF = NaN', () => {
    expect(e8m0ToF32(127)).toBe(1);
    expect(e8m0ToF32(128)).toBe(2);
    expect(e8m0ToF32(120)).toBe(1 / 128);
    expect(e8m0ToF32(0)).toBe(2 ** -127);
    expect(e8m0ToF32(254)).toBe(2 ** 127);
    expect(e8m0ToF32(255)).toBeNaN();
  });

  it('encodes with ceil (DeepSeek), floor (OCP/ggml) and nearest (MLX) rules', () => {
    expect(f32ToE8M0(1)).toBe(127);
    expect(f32ToE8M0(1.5, 'ceil')).toBe(128);
    expect(f32ToE8M0(1.5, 'floor')).toBe(127);
    expect(f32ToE8M0(1.5, 'nearest')).toBe(128); // log2 1.5 = 0.585 -> 1
    expect(f32ToE8M0(1.3, 'nearest')).toBe(127); // log2 1.3 = 0.379 -> 0
    expect(f32ToE8M0(0.75, 'ceil')).toBe(127);
    expect(f32ToE8M0(0.75, 'floor')).toBe(126);
    expect(f32ToE8M0(NaN)).toBe(255);
    expect(f32ToE8M0(0)).toBe(0);
    expect(f32ToE8M0(Infinity)).toBe(254);
    expect(f32ToE8M0(2 ** 200)).toBe(254);
    // float32 subnormals: 2^-127 exactly stays 0x00, anything above rounds up to 2^-126 with ceil.
    expect(f32ToE8M0(2 ** -127, 'ceil')).toBe(0);
    expect(f32ToE8M0(1.5 * 2 ** -127, 'ceil')).toBe(1);
    expect(f32ToE8M0(2 ** -126, 'ceil')).toBe(1);
  });
});

describe('E2M1 (FP4)', () => {
  it('decodes a byte as low nibble = element 2j, high nibble = element 2j+1', () => {
    // 0x7A: low nibble 0xA = -1, high nibble 0x7 = 6.
    expect(E2M1_PAIR_TABLE[2 * 0x7a]).toBe(-1);
    expect(E2M1_PAIR_TABLE[2 * 0x7a + 1]).toBe(6);
    expect(E2M1_PAIR_TABLE[2 * 0x21]).toBe(0.5);
    expect(E2M1_PAIR_TABLE[2 * 0x21 + 1]).toBe(1);
  });

  it('encodes with ties to even on the grid and saturates at 6', () => {
    expect([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 100].map(f32ToE2M1)).toEqual([0, 2, 2, 4, 4, 6, 6, 7]);
    expect(f32ToE2M1(-3)).toBe(0xd);
    expect(f32ToE2M1(0.3)).toBe(1);
  });
});

describe('binary16 and bfloat16', () => {
  it('encodes float32 to binary16 with RNE, subnormals and overflow', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // midpoint above max rounds to even = Inf
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie -> even 0
    expect(f32ToF16Bits(1.5 * 2 ** -24)).toBe(0x0002); // tie between 1 and 2 -> 2
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('round-trips every finite binary16 value', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) continue;
      expect(f32ToF16Bits(v)).toBe(h);
    }
  });

  it('converts bfloat16 both ways with RNE', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc040)).toBe(-3);
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
  });
});
