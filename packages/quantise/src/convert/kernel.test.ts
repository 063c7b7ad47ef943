import { beforeAll, describe, expect, it } from 'vitest';
import {
  E8M0_TABLE,
  blockFp8ErrorSums,
  dequantiseBlockFp8Into,
  dequantiseMxfp4Into,
  f16DecodeTable,
  f32ToBf16Bits,
  f32ToE4M3,
  q8_0ErrorSums,
  quantiseBlockFp8,
  quantiseQ8_0Into,
  type ErrorSums,
} from '@fleetplane/domain';
import { loadKernel, type QuantKernel } from './kernel';
import { Scratch } from './source';
import { convertStripe, type StripeJob } from './stripe';

// The WebAssembly kernel against the scalar JS encoders and decoders of @fleetplane/domain (the path the converter
// took before the kernel): the same bytes for every input class, exhaustively where the input space allows.

let k: QuantKernel;
beforeAll(async () => {
  k = await loadKernel();
});

const u32 = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);

/** A float32 array from raw bit patterns. */
function fromBits(bits: number[] | Uint32Array): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

/** Deterministic pseudo-random numbers (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/**
 * A matrix mixing ordinary weights with the values that break encoders: ±0, float32 subnormals, E4M3 subnormals and
 * rounding midpoints, values near 448, huge values and (when `specials`) NaN and ±Inf; blocks of very different scale.
 */
function nastyMatrix(rows: number, cols: number, seed: number, specials: boolean): Float32Array {
  const next = rng(seed);
  const m = new Float32Array(rows * cols);
  const bits = u32(m);
  for (let i = 0; i < m.length; i++) {
    const r = next() % 100;
    const blockScale = 2 ** ((((i / cols) >> 7) * 3 + ((i % cols) >> 6)) % 24) - 12;
    if (r < 70) m[i] = ((next() / 2 ** 32) * 2 - 1) * blockScale;
    else if (r < 80)
      bits[i] = next(); // any bit pattern (NaN patterns only when specials)
    else if (r < 84) m[i] = (next() & 1 ? -1 : 1) * 0;
    else if (r < 88)
      bits[i] = (next() & 0x807fffff) >>> 0; // float32 subnormals
    else if (r < 94)
      m[i] = (next() & 1 ? -1 : 1) * (next() % 64) * 2 ** -10; // E4M3 subnormal grid and midpoints
    else m[i] = (next() & 1 ? -1 : 1) * (440 + (next() % 32));
    if (!specials && !Number.isFinite(m[i]!)) m[i] = 1;
  }
  if (specials) {
    m[3] = NaN;
    m[cols + 5] = Infinity;
    m[2 * cols + 7] = -Infinity;
    bits[4 * cols + 9] = 0xffc00001; // a negative NaN with payload
  }
  return m;
}

function expectSums(got: ErrorSums, want: ErrorSums): void {
  expect(got.n).toBe(want.n);
  expect(got.nonFinite).toBe(want.nonFinite);
  // Lane-parallel partial sums add in another order than the scalar loop: equal to ~1e-12 relative.
  for (const key of ['sumSq', 'errSq'] as const) {
    if (want[key] === 0) expect(got[key]).toBe(0);
    else expect(Math.abs(got[key] - want[key]) / want[key]).toBeLessThan(1e-12);
  }
  expect(got.maxErr).toBe(want.maxErr);
}

describe('E4M3 encoding', () => {
  it('gives f32ToE4M3 for every top-16-bit pattern with each class of low bits (ties, just above, just below)', () => {
    const lows = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff];
    const n = 65536 * lows.length;
    const at = k.layout({ src: n * 4, dst: n });
    const src = u32(k.f32(at.src, n));
    let i = 0;
    for (let hi = 0; hi < 65536; hi++) for (const lo of lows) src[i++] = ((hi << 16) | lo) >>> 0;
    k.exports.encodeE4M3(at.src, n, at.dst);
    const f = k.f32(at.src, n);
    const got = k.u8(at.dst, n);
    let mismatches = 0;
    for (let j = 0; j < n; j++) if (got[j] !== f32ToE4M3(f[j]!)) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('BF16 encoding', () => {
  it('gives f32ToBf16Bits for every top-16-bit pattern with each class of low bits, NaNs quiet with their payload', () => {
    const lows = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff];
    const n = 65536 * lows.length + 3; // and a scalar tail
    const at = k.layout({ src: n * 4, dst: n * 2 });
    const src = u32(k.f32(at.src, n));
    let i = 0;
    for (let hi = 0; hi < 65536; hi++) for (const lo of lows) src[i++] = ((hi << 16) | lo) >>> 0;
    src[i++] = 0x7f800001;
    src[i++] = 0xffbfffff;
    src[i++] = 0x3f808000;
    k.exports.encodeBf16(at.src, n, at.dst);
    const f = k.f32(at.src, n);
    const got = new Uint16Array(k.exports.memory.buffer, at.dst, n);
    const bad: string[] = [];
    for (let j = 0; j < n && bad.length < 5; j++) {
      const x = src[j]!;
      // NaN payloads do not survive a trip through a JS number, so NaNs are checked on the bits, as the JS path did.
      const nan = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;
      const want = nan ? ((x >>> 16) | 0x40) & 0xffff : f32ToBf16Bits(f[j]!);
      if (got[j] !== want) bad.push(`${src[j]!.toString(16)}: ${got[j]!.toString(16)}, want ${want.toString(16)}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('decoders', () => {
  it('F16: all 65,536 halves give f16DecodeTable bit for bit', () => {
    const at = k.layout({ src: 65536 * 2, dst: 65536 * 4 });
    const src = new Uint16Array(k.exports.memory.buffer, at.src, 65536);
    for (let h = 0; h < 65536; h++) src[h] = h;
    k.exports.decodeF16(at.src, 65536, at.dst);
    expect(Buffer.from(k.u8(at.dst, 65536 * 4)).equals(Buffer.from(f16DecodeTable().buffer))).toBe(true);
  });

  it('BF16: all 65,536 patterns become the top half of the float32 (and an odd count leaves a scalar tail)', () => {
    const n = 65535;
    const at = k.layout({ src: 65536 * 2, dst: 65536 * 4 });
    const src = new Uint16Array(k.exports.memory.buffer, at.src, 65536);
    for (let h = 0; h < 65536; h++) src[h] = h;
    k.exports.decodeBf16(at.src, n, at.dst);
    const got = new Uint32Array(k.exports.memory.buffer, at.dst, n);
    for (let h = 0; h < n; h++) if (got[h] !== (h << 16) >>> 0) expect([h, got[h]]).toEqual([h, (h << 16) >>> 0]);
  });

  it('block FP8: all 256 codes under every E8M0 scale, odd shapes and edge blocks, as dequantiseBlockFp8Into', () => {
    // 256 scales x 256 codes: row r holds all codes, scaled by E8M0 code r (2^-127 subnormal, 2^127, NaN included).
    for (const [rows, cols, block] of [
      [256, 256, 1],
      [300, 517, 128],
      [5, 33, 16],
    ] as const) {
      const n = rows * cols;
      const scaleRows = Math.ceil(rows / block);
      const scaleCols = Math.ceil(cols / block);
      const codes = new Uint8Array(n);
      for (let i = 0; i < n; i++) codes[i] = (i * 7 + (i >> 8)) & 0xff;
      const scales = new Float32Array(scaleRows * scaleCols);
      for (let i = 0; i < scales.length; i++) scales[i] = E8M0_TABLE[(i * 37) & 0xff]!;
      if (scales.length > 3) {
        scales[1] = Infinity;
        scales[2] = 3.0000001;
        u32(scales)[3] = 0xffc00000;
      }
      const want = new Float32Array(n);
      dequantiseBlockFp8Into(codes, rows, cols, scales, scaleCols, want, block);
      const at = k.layout({ codes: n, scales: scales.length * 4, dst: n * 4 });
      k.u8(at.codes, n).set(codes);
      k.f32(at.scales, scales.length).set(scales);
      k.exports.decodeFp8Block(at.codes, rows, cols, at.scales, scaleCols, block, at.dst);
      const g = new Uint32Array(k.exports.memory.buffer, at.dst, n);
      const w = u32(want);
      const bad: string[] = [];
      for (let i = 0; i < n && bad.length < 5; i++)
        if (g[i] !== w[i]) bad.push(`${rows}x${cols} [${i}] code ${codes[i]}: ${g[i]!.toString(16)}, want ${w[i]!.toString(16)}`);
      expect(bad).toEqual([]);
    }
  });

  it('MXFP4: all 256 bytes under all 256 E8M0 scales, as dequantiseMxfp4Into', () => {
    // Row r: 16 groups of 16 bytes = all 256 byte values, each group with its own scale code.
    const rows = 16;
    const cols = 512;
    const packed = new Uint8Array((rows * cols) / 2);
    for (let i = 0; i < packed.length; i++) packed[i] = i & 0xff;
    const scaleCodes = new Uint8Array((rows * cols) / 32);
    for (let i = 0; i < scaleCodes.length; i++) scaleCodes[i] = i & 0xff;
    const want = new Float32Array(rows * cols);
    dequantiseMxfp4Into(packed, scaleCodes, rows, cols, want);
    const at = k.layout({ packed: packed.length, scales: scaleCodes.length, dst: rows * cols * 4 });
    k.u8(at.packed, packed.length).set(packed);
    k.u8(at.scales, scaleCodes.length).set(scaleCodes);
    k.exports.decodeMxfp4(at.packed, at.scales, rows, cols, at.dst);
    expect(Buffer.from(k.u8(at.dst, rows * cols * 4)).equals(Buffer.from(want.buffer))).toBe(true);
  });
});

function fp8Job(src: Float32Array, rows: number, cols: number, scaleFormat: 'f32' | 'ue8m0', block: number): StripeJob {
  return {
    decoding: { kind: 'float', dtype: 'F32' },
    encoder: { kind: 'fp8-block', scaleFormat, block },
    lossy: true,
    rows,
    cols,
    main: new Uint8Array(src.buffer.slice(0)),
    scale: null,
  };
}

describe('block FP8 quantisation', () => {
  for (const scaleFormat of ['f32', 'ue8m0'] as const)
    for (const [rows, cols, block] of [
      [256, 512, 128],
      [300, 517, 128],
      [64, 100, 32],
      [7, 13, 5],
    ] as const)
      it(`${scaleFormat} scales, ${rows}x${cols} in blocks of ${block}: the bytes and error sums of quantiseBlockFp8`, () => {
        for (const specials of [false, true]) {
          const src = nastyMatrix(rows, cols, rows * cols + block, specials);
          const want = quantiseBlockFp8(src, rows, cols, scaleFormat, block);
          const wantSums = blockFp8ErrorSums(src, want.codes, rows, cols, want.scales, want.scaleCols, block);
          const got = convertStripe(fp8Job(src, rows, cols, scaleFormat, block), new Scratch());
          expect(Buffer.from(got.main).equals(Buffer.from(want.codes))).toBe(true);
          expect(Buffer.from(got.side[0]!).equals(Buffer.from(want.scaleBytes))).toBe(true);
          if (specials) expect(got.sums).toEqual(wantSums);
          else expectSums(got.sums!, wantSums);
        }
      });

  it('scales of extreme blocks: all-zero, subnormal-only, infinite maxima', () => {
    const rows = 4;
    const cols = 64;
    const src = new Float32Array(rows * cols);
    // Block columns of 8: zeros; float32 subnormals; tiny normals; a lone Inf; 448·2^100; the max float.
    for (let r = 0; r < rows; r++) {
      for (let c = 8; c < 16; c++) u32(src)[r * cols + c] = 1 + r * 8 + c;
      for (let c = 16; c < 24; c++) src[r * cols + c] = (c - 15) * 2 ** -140;
      src[r * cols + 24] = Infinity;
      for (let c = 32; c < 40; c++) src[r * cols + c] = -448 * 2 ** 100 * (c - 31);
      for (let c = 40; c < 48; c++) src[r * cols + c] = 3.4028234663852886e38;
    }
    for (const scaleFormat of ['f32', 'ue8m0'] as const) {
      const want = quantiseBlockFp8(src, rows, cols, scaleFormat, 8);
      const got = convertStripe(fp8Job(src, rows, cols, scaleFormat, 8), new Scratch());
      expect(Buffer.from(got.main).equals(Buffer.from(want.codes))).toBe(true);
      expect(Buffer.from(got.side[0]!).equals(Buffer.from(want.scaleBytes))).toBe(true);
    }
  });
});

function q8Job(src: Float32Array, rows: number, cols: number): StripeJob {
  return {
    decoding: { kind: 'float', dtype: 'F32' },
    encoder: { kind: 'ggml', type: 'Q8_0' },
    lossy: true,
    rows,
    cols,
    main: new Uint8Array(src.buffer.slice(0)),
    scale: null,
  };
}

describe('Q8_0 quantisation', () => {
  it('the bytes and error sums of quantiseQ8_0Into on mixed and special values', () => {
    for (const specials of [false, true]) {
      const rows = 64;
      const cols = 256;
      const src = nastyMatrix(rows, cols, 99, specials);
      const n = rows * cols;
      const want = new Uint8Array((n / 32) * 34);
      quantiseQ8_0Into(src, want, 0, 0, n);
      const got = convertStripe(q8Job(src, rows, cols), new Scratch());
      expect(Buffer.from(got.main).equals(Buffer.from(want))).toBe(true);
      const wantSums = q8_0ErrorSums(src, want, n);
      if (specials) expect(got.sums).toEqual(wantSums);
      else expectSums(got.sums!, wantSums);
    }
  });

  it('rounding ties, tiny and huge block maxima (JS wrap-around of out-of-range values) give the same bytes', () => {
    const blocks: number[][] = [];
    // Exact halves after scaling: amax 127 makes d = 1, so x.5 values are ties that round away from zero.
    blocks.push(Array.from({ length: 32 }, (_, j) => (j === 0 ? 127 : (j % 2 ? -1 : 1) * (j + 0.5))));
    // A block maximum so small that 1/d overflows or is huge: scaled values leave int32 and wrap in JS.
    for (const tiny of [2 ** -149, 3 * 2 ** -149, 2 ** -140, 2 ** -130, 1e-38])
      blocks.push(Array.from({ length: 32 }, (_, j) => (j % 3 === 0 ? tiny : -tiny / 2 - j * 2 ** -149)));
    // Infinite and NaN maxima; the largest float; all zeros.
    blocks.push(Array.from({ length: 32 }, (_, j) => (j === 5 ? Infinity : j)));
    blocks.push(Array.from({ length: 32 }, (_, j) => (j === 5 ? NaN : -j)));
    blocks.push(Array.from({ length: 32 }, (_, j) => (j % 2 ? 3.4028234663852886e38 : -j)));
    blocks.push(Array.from({ length: 32 }, () => 0));
    // Every top-16-bit pattern once, 32 per block (NaN and Inf included).
    for (let hi = 0; hi < 65536; hi += 32) blocks.push(Array.from({ length: 32 }, (_, j) => fromBits([((hi + j) << 16) >>> 0])[0]!));
    const src = Float32Array.from(blocks.flat());
    const n = src.length;
    const want = new Uint8Array((n / 32) * 34);
    quantiseQ8_0Into(src, want, 0, 0, n);
    const got = convertStripe(q8Job(src, n / 32, 32), new Scratch());
    expect(Buffer.from(got.main).equals(Buffer.from(want))).toBe(true);
    expect(got.sums).toEqual(q8_0ErrorSums(src, want, n));
  });
});
