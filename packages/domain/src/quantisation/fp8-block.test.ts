import { describe, expect, it } from 'vitest';
import { E4M3_TABLE } from './float-formats';
import { dequantiseBlockFp8Into, dequantiseMxfp4Into, quantiseBlockFp8 } from './fp8-block';

// A deterministic, sign-mixed test matrix with a wide dynamic range between blocks.
function matrix(rows: number, cols: number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) m[r * cols + c] = Math.sin(r * 0.37 + c * 1.91) * (1 + ((r >> 7) + (c >> 7)) * 10);
  return m;
}

/** Reference computed another way: per element, find its block's max by scanning the block, then search the grid. */
function referenceDequant(src: Float32Array, rows: number, cols: number, r: number, c: number): number {
  const r0 = Math.floor(r / 128) * 128;
  const c0 = Math.floor(c / 128) * 128;
  let amax = 0;
  for (let i = r0; i < Math.min(rows, r0 + 128); i++)
    for (let j = c0; j < Math.min(cols, c0 + 128); j++) amax = Math.max(amax, Math.abs(src[i * cols + j]!));
  const s = Math.fround(amax / 448);
  const x = src[r * cols + c]! / s;
  let best = 0;
  for (let k = 0; k < 256; k++) {
    const v = E4M3_TABLE[k]!;
    if (!Number.isNaN(v) && Math.abs(v - x) < Math.abs(best - x)) best = v;
  }
  return Math.fround(best * s);
}

describe('128x128 block FP8 quantisation', () => {
  const rows = 130;
  const cols = 260; // partial edge blocks in both directions
  const src = matrix(rows, cols);

  it('uses scale shape [ceil(rows/128), ceil(cols/128)] and s = amax/448 stored as F32', () => {
    const q = quantiseBlockFp8(src, rows, cols, 'f32');
    expect([q.scaleRows, q.scaleCols]).toEqual([2, 3]);
    expect(q.scaleBytes.byteLength).toBe(6 * 4);
    const view = new DataView(q.scaleBytes.buffer, q.scaleBytes.byteOffset, q.scaleBytes.byteLength);
    let amax00 = 0;
    for (let r = 0; r < 128; r++) for (let c = 0; c < 128; c++) amax00 = Math.max(amax00, Math.abs(src[r * cols + c]!));
    expect(view.getFloat32(0, true)).toBe(Math.fround(amax00 / 448));
    // The block maximum lands on ±448 exactly.
    expect(Math.max(...Array.from(q.codes, (c) => Math.abs(E4M3_TABLE[c]!)))).toBe(448);
  });

  it('dequantises to the nearest grid point of every block (independent reference)', () => {
    const q = quantiseBlockFp8(src, rows, cols, 'f32');
    const out = new Float32Array(rows * cols);
    dequantiseBlockFp8Into(q.codes, rows, cols, q.scales, q.scaleCols, out);
    for (let r = 0; r < rows; r += 3)
      for (let c = 0; c < cols; c += 5) expect(out[r * cols + c]).toBe(referenceDequant(src, rows, cols, r, c));
  });

  it('with ue8m0 scales stores power-of-two exponents rounded up, so nothing saturates', () => {
    const q = quantiseBlockFp8(src, rows, cols, 'ue8m0');
    expect(q.scaleBytes.byteLength).toBe(6);
    for (let i = 0; i < 6; i++) {
      const s = q.scales[i]!;
      expect(s).toBe(2 ** (q.scaleBytes[i]! - 127));
    }
    // Block (0,0): scale >= amax/448 but < 2·amax/448.
    let amax00 = 0;
    for (let r = 0; r < 128; r++) for (let c = 0; c < 128; c++) amax00 = Math.max(amax00, Math.abs(src[r * cols + c]!));
    expect(q.scales[0]!).toBeGreaterThanOrEqual(amax00 / 448);
    expect(q.scales[0]!).toBeLessThan((2 * amax00) / 448);
  });

  it('gives an all-zero block the scale 1 and zero codes', () => {
    const z = new Float32Array(128 * 128);
    const q = quantiseBlockFp8(z, 128, 128, 'f32');
    expect(q.scales[0]).toBe(1);
    expect(q.codes.every((c) => c === 0)).toBe(true);
    expect(quantiseBlockFp8(z, 128, 128, 'ue8m0').scaleBytes[0]).toBe(127);
  });

  it('dequantises a hand-made FP8 block: e4m3(q) · s', () => {
    const codes = Uint8Array.from([0x38, 0x7e, 0x01, 0xbc]); // 1, 448, 2^-9, -1.5
    const out = new Float32Array(4);
    dequantiseBlockFp8Into(codes, 2, 2, Float32Array.from([0.5]), 1, out);
    expect([...out]).toEqual([0.5, 224, 2 ** -10, -0.75]);
  });
});

describe('MXFP4 dequantisation', () => {
  it('decodes pairs low nibble first with an E8M0 scale per 32 values', () => {
    const packed = new Uint8Array(32); // 2 rows x 32 values
    packed[0] = 0x72; // element 0 = code 2 (1.0), element 1 = code 7 (6.0)
    packed[15] = 0x9f; // element 30 = code F (-6), element 31 = code 9 (-0.5)
    packed[16] = 0x11; // row 1: elements 0 and 1 = 0.5
    const scales = Uint8Array.from([128, 125]); // row 0: 2, row 1: 2^-2
    const out = new Float32Array(64);
    dequantiseMxfp4Into(packed, scales, 2, 32, out);
    expect([out[0], out[1], out[30], out[31]]).toEqual([2, 12, -12, -1]);
    expect([out[32], out[33], out[34]]).toEqual([0.125, 0.125, 0]);
  });

  it('a NaN scale (0xFF) makes the group NaN', () => {
    const out = new Float32Array(32);
    dequantiseMxfp4Into(new Uint8Array(16).fill(0x22), Uint8Array.from([255]), 1, 32, out);
    expect(out.every(Number.isNaN)).toBe(true);
  });
});
