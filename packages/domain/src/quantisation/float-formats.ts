// Scalar float formats used by checkpoints: IEEE binary16 (F16), bfloat16 (BF16), FP8 E4M3FN, E8M0 scales and
// FP4 E2M1. Byte layouts and rounding rules: /work/shared/docs/quantisation-formats.md §1, §2, §4 (restated in
// docs/quantisation.md). Everything here is IO-free and allocation-free in the per-element paths.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The IEEE bits of `v` rounded to float32. */
export function f32Bits(v: number): number {
  scratchF32[0] = v;
  return scratchU32[0]!;
}

export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0]!;
}

// ---------------------------------------------------------------------------------------------------------------
// binary16

/** float32 -> binary16 bits with round-to-nearest-even, overflow to ±Inf, NaN kept quiet (ggml_compute_fp32_to_fp16). */
export function f32ToF16Bits(v: number): number {
  const x = f32Bits(v);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = m · 2^-24. Below 2^-25 (and exactly 2^-25, a tie to even 0) everything flushes to ±0.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and turns 65520+ into Inf).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let f16Table: Float32Array | null = null;
/** All 65,536 binary16 values as float32: decoding an F16 tensor is one table lookup per element. */
export function f16DecodeTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

// ---------------------------------------------------------------------------------------------------------------
// bfloat16: the top 16 bits of a float32.

export function bf16BitsToF32(b: number): number {
  return f32FromBits((b & 0xffff) << 16);
}

/** float32 -> bfloat16 bits, round-to-nearest-even (as torch's .to(bfloat16)); NaN stays a quiet NaN. */
export function f32ToBf16Bits(v: number): number {
  const x = f32Bits(v);
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------------------------
// FP8 E4M3FN: s eeee mmm, bias 7, no Inf, NaN only at S.1111.111, max finite 448.

export const E4M3_MAX = 448;

export function e4m3ToF32(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const exp = (code >>> 3) & 0xf;
  const mant = code & 7;
  if (exp === 0xf && mant === 7) return NaN;
  if (exp === 0) return sign * mant * 2 ** -9;
  return sign * (1 + mant / 8) * 2 ** (exp - 7);
}

/** The 256 E4M3FN codes as float32. */
export const E4M3_TABLE: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = e4m3ToF32(i);
  return t;
})();

/** Round-half-to-even of a non-negative number that is exactly representable (no double rounding involved). */
function rneNonNegative(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/**
 * float32 -> E4M3FN with round-to-nearest-even and saturation at ±448 (the encoder quantisers use: they clamp
 * before the cast because PyTorch < 2.12 eager casts give NaN above 464). NaN -> 0x7F | sign; ±Inf saturates.
 */
export function f32ToE4M3(v: number): number {
  const x = f32Bits(v);
  const sign = (x >>> 24) & 0x80;
  const abs = x & 0x7fffffff;
  if (abs > 0x7f800000) return 0x7f | sign;
  // 448 = 0x43E00000.
  if (abs >= 0x43e00000) return 0x7e | sign;
  // Below the smallest normal 2^-6 (0x3C800000): subnormal step 2^-9; a result of 8 is the code of 2^-6 itself.
  if (abs < 0x3c800000) return sign | rneNonNegative(f32FromBits(abs) * 512);
  // Normal: round the 23-bit mantissa to 3 bits (ties to even) on the bit pattern; a carry bumps the exponent.
  const r = abs + 0x7ffff + ((abs >>> 20) & 1);
  const e = (r >>> 23) - 127 + 7;
  return sign | (e << 3) | ((r >>> 20) & 7);
}

/**
 * E4M3 codes by the top 16 bits of a float32 (sign stripped) and whether the low 16 bits are non-zero:
 * [2·hi + nz]. Every E4M3 rounding midpoint, normal or subnormal, is a multiple of 2^16 float32 ulps within its
 * binade, so the low 16 bits only decide ties and "just above" a truncated midpoint, which nz captures exactly.
 * 64 KiB, built once from the scalar encoder; makes the array encoder branch-free.
 */
let e4m3EncodeTable: Uint8Array | null = null;
function e4m3Table(): Uint8Array {
  if (!e4m3EncodeTable) {
    const t = new Uint8Array(65536);
    for (let hi = 0; hi < 32768; hi++) {
      t[2 * hi] = f32ToE4M3(f32FromBits(hi << 16));
      t[2 * hi + 1] = f32ToE4M3(f32FromBits((hi << 16) | 1));
    }
    e4m3EncodeTable = t;
  }
  return e4m3EncodeTable;
}

/**
 * Encodes `src` (already divided by its scale) into E4M3 codes: the same result as f32ToE4M3 per element (tested
 * against it), one table lookup each. This is the hot loop of FP8 quantisation.
 */
export function encodeE4M3Into(src: Float32Array, out: Uint8Array, start = 0, end = src.length, outOffset = 0): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const table = e4m3Table();
  for (let i = start, o = outOffset; i < end; i++, o++) {
    const x = bits[i]!;
    out[o] = ((x >>> 24) & 0x80) | table[((x >>> 15) & 0xfffe) | (((x & 0xffff) + 0xffff) >>> 16)]!;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// E8M0 scales: byte e means 2^(e-127); 0xFF is NaN; there is no zero (0x00 = 2^-127, per OCP/NVIDIA/ggml).

export function e8m0ToF32(e: number): number {
  if (e === 0xff) return NaN;
  return 2 ** (e - 127);
}

export const E8M0_TABLE: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = e8m0ToF32(i);
  return t;
})();

export type E8M0Rounding = 'ceil' | 'floor' | 'nearest';

/**
 * The E8M0 byte for a positive scale. 'ceil' is DeepSeek's rule (2^ceil(log2 s), so w/s never exceeds the element
 * format's maximum); 'floor' is OCP/ggml's; 'nearest' rounds log2 to the nearest integer (MLX). NaN -> 0xFF;
 * zero, negative and tiny scales clamp to 0x00 (2^-127), huge ones to 0xFE (2^127).
 */
export function f32ToE8M0(scale: number, rounding: E8M0Rounding = 'ceil'): number {
  if (Number.isNaN(scale)) return 0xff;
  if (!(scale > 0)) return 0;
  const x = f32Bits(scale);
  const biased = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  let e: number;
  if (biased === 0xff) return 0xfe;
  if (biased === 0) {
    // float32 subnormal: below 2^-126, so the only candidates are 0x00 (2^-127) and 0x01 (2^-126).
    const v = f32FromBits(x);
    if (rounding === 'ceil') return v > 2 ** -127 ? 1 : 0;
    if (rounding === 'floor') return 0;
    return v >= 2 ** -126.5 ? 1 : 0;
  }
  if (rounding === 'floor') e = biased;
  else if (rounding === 'ceil') e = biased + (mant !== 0 ? 1 : 0);
  else e = biased + (Math.log2(1 + mant / 0x800000) >= 0.5 ? 1 : 0);
  return Math.min(0xfe, Math.max(0, e));
}

// ---------------------------------------------------------------------------------------------------------------
// FP4 E2M1: s ee m, bias 1, max 6, no Inf/NaN.

export const E2M1_VALUES: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

/**
 * For each byte of an MXFP4 tensor in the HF / DeepSeek / OpenAI layout, its two values: [2b] is the low nibble
 * (element 2j), [2b+1] the high nibble (element 2j+1). One lookup decodes a byte.
 */
export const E2M1_PAIR_TABLE: Float32Array = (() => {
  const t = new Float32Array(512);
  for (let b = 0; b < 256; b++) {
    t[2 * b] = E2M1_VALUES[b & 0xf]!;
    t[2 * b + 1] = E2M1_VALUES[b >>> 4]!;
  }
  return t;
})();

/**
 * Nearest E2M1 code for `v` (already divided by its scale), saturating at ±6, ties to even on the E2M1 grid
 * (MLX / ModelOpt: 0.25->0, 0.75->1, 1.25->1, 1.75->2, 2.5->2, 3.5->4, 5->4).
 */
export function f32ToE2M1(v: number): number {
  if (Number.isNaN(v)) return 0;
  const sign = v < 0 || Object.is(v, -0) ? 8 : 0;
  const a = Math.abs(v);
  let code: number;
  if (a <= 0.25) code = 0;
  else if (a < 0.75) code = 1;
  else if (a <= 1.25) code = 2;
  else if (a < 1.75) code = 3;
  else if (a <= 2.5) code = 4;
  else if (a < 3.5) code = 5;
  else if (a <= 5) code = 6;
  else code = 7;
  return sign | code;
}
