import { carefulErrorSums, type ErrorSums } from './quality';
import { E2M1_PAIR_TABLE, E4M3_MAX, E4M3_TABLE, E8M0_TABLE, encodeE4M3Into, f32ToE8M0 } from './float-formats';

// DeepSeek / SGLang FP8 block scaling: an [out, in] weight is cut into 128x128 blocks (edge blocks partial), each
// with one scale s; stored weight = e4m3(w / s), stored scale `weight_scale_inv` = s (a multiplier despite its
// name), so w ≈ e4m3(q) · s. Scale shape [ceil(out/128), ceil(in/128)].

export type Fp8ScaleFormat = 'f32' | 'ue8m0';

export interface BlockFp8Result {
  codes: Uint8Array;
  /** float32 scales (multipliers) in row-major [ceil(rows/b), ceil(cols/b)] order, already rounded to the stored format. */
  scales: Float32Array;
  /** The stored scale bytes: F32 little-endian, or one E8M0 byte per block. */
  scaleBytes: Uint8Array;
  scaleRows: number;
  scaleCols: number;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * Quantises a row-major [rows, cols] float32 matrix to E4M3 with one scale per `block` x `block` tile.
 * Scale rule (quantisation-formats.md §3.1, DeepSeek's act_quant convention): s = amax/448; for 'ue8m0' s is
 * rounded up to a power of two (2^ceil(log2 s)) so w/s never exceeds 448. An all-zero block gets s = 1 (F32) or
 * 2^0 (E8M0): any scale reproduces zeros and a defined value keeps the bytes deterministic.
 * `scratch` (>= cols floats) avoids an allocation per call.
 */
export function quantiseBlockFp8(
  src: Float32Array,
  rows: number,
  cols: number,
  scaleFormat: Fp8ScaleFormat,
  block = 128,
  scratch?: Float32Array,
): BlockFp8Result {
  const scaleRows = cdiv(rows, block);
  const scaleCols = cdiv(cols, block);
  const scales = new Float32Array(scaleRows * scaleCols);
  const e8 = scaleFormat === 'ue8m0' ? new Uint8Array(scales.length) : null;
  // amax per block, one pass over rows.
  const amax = new Float32Array(scales.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const sRow = ((r / block) | 0) * scaleCols;
    for (let bc = 0; bc < scaleCols; bc++) {
      const c0 = bc * block;
      const c1 = Math.min(cols, c0 + block);
      let m = amax[sRow + bc]!;
      for (let c = base + c0, end = base + c1; c < end; c++) {
        const a = Math.abs(src[c]!);
        if (a > m) m = a;
      }
      amax[sRow + bc] = m;
    }
  }
  const inv = new Float32Array(scales.length);
  for (let i = 0; i < scales.length; i++) {
    const a = amax[i]!;
    if (e8) {
      const code = a > 0 ? f32ToE8M0(Math.fround(a / E4M3_MAX), 'ceil') : 127;
      e8[i] = code;
      scales[i] = E8M0_TABLE[code]!;
    } else {
      scales[i] = a > 0 ? Math.fround(a / E4M3_MAX) : 1;
    }
    inv[i] = 1 / scales[i]!;
  }
  // Scale and encode one row at a time: the row stays in cache between the two loops.
  const scaled = scratch && scratch.length >= cols ? scratch.subarray(0, cols) : new Float32Array(cols);
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const sRow = ((r / block) | 0) * scaleCols;
    for (let bc = 0; bc < scaleCols; bc++) {
      const f = inv[sRow + bc]!;
      for (let c = bc * block, end = Math.min(cols, c + block); c < end; c++) scaled[c] = src[base + c]! * f;
    }
    // Division by the fp32 scale can land a hair above 448 for the block maximum; the encoder saturates there.
    encodeE4M3Into(scaled, codes, 0, cols, base);
  }
  const scaleBytes = e8 ?? new Uint8Array(scales.buffer.slice(0));
  return { codes, scales, scaleBytes, scaleRows, scaleCols };
}

/**
 * w = e4m3(q) · S[⌊r/b⌋, ⌊c/b⌋] into `out` (row-major float32). `scales` are decoded multipliers. Block by block,
 * with the 256 codes pre-multiplied by the block's scale (256 multiplications per 16,384 values).
 */
export function dequantiseBlockFp8Into(
  codes: Uint8Array,
  rows: number,
  cols: number,
  scales: Float32Array,
  scaleCols: number,
  out: Float32Array,
  block = 128,
): void {
  const scaled = new Float32Array(256);
  for (let br = 0, r0 = 0; r0 < rows; br++, r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let bc = 0, c0 = 0; c0 < cols; bc++, c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      const s = scales[br * scaleCols + bc]!;
      for (let k = 0; k < 256; k++) scaled[k] = E4M3_TABLE[k]! * s;
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = base + c0, end = base + c1; c < end; c++) out[c] = scaled[codes[c]!]!;
      }
    }
  }
}

/**
 * MXFP4 (HF / DeepSeek V4 expert layout): `packed` is [rows, cols/2] bytes, low nibble = element 2j, high nibble =
 * element 2j+1; `scaleCodes` is [rows, cols/32] E8M0 bytes. w[r, 32b+k] = E2M1(code) · 2^(scale[r,b] − 127).
 */
export function dequantiseMxfp4Into(packed: Uint8Array, scaleCodes: Uint8Array, rows: number, cols: number, out: Float32Array): void {
  if (cols % 32 !== 0) throw new Error(`MXFP4: the row length ${cols} is not a multiple of 32`);
  const pair = E2M1_PAIR_TABLE;
  const half = cols >>> 1;
  const groups = cols >>> 5;
  for (let r = 0; r < rows; r++) {
    const pBase = r * half;
    const oBase = r * cols;
    for (let g = 0; g < groups; g++) {
      const s = E8M0_TABLE[scaleCodes[r * groups + g]!]!;
      for (let j = g * 16, end = j + 16; j < end; j++) {
        const b = packed[pBase + j]! << 1;
        out[oBase + 2 * j] = pair[b]! * s;
        out[oBase + 2 * j + 1] = pair[b + 1]! * s;
      }
    }
  }
}

/**
 * Error sums of a block-FP8 encoding against its source without materialising the dequantised tensor: the same
 * figures as dequantiseBlockFp8Into + QualityAccumulator.add, one pass and no writes (the converter's hot path).
 */
export function blockFp8ErrorSums(
  src: Float32Array,
  codes: Uint8Array,
  rows: number,
  cols: number,
  scales: Float32Array,
  scaleCols: number,
  block = 128,
): ErrorSums {
  const scaled = new Float32Array(256);
  let sumSq = 0;
  let errSq = 0;
  let maxErr = 0;
  for (let br = 0, r0 = 0; r0 < rows; br++, r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let bc = 0, c0 = 0; c0 < cols; bc++, c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      const s = scales[br * scaleCols + bc]!;
      for (let k = 0; k < 256; k++) scaled[k] = E4M3_TABLE[k]! * s;
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = base + c0, end = base + c1; c < end; c++) {
          const w = src[c]!;
          const e = w - scaled[codes[c]!]!;
          sumSq += w * w;
          errSq += e * e;
          maxErr = Math.max(maxErr, Math.abs(e));
        }
      }
    }
  }
  if (Number.isFinite(sumSq) && Number.isFinite(errSq)) return { sumSq, errSq, maxErr, n: rows * cols, nonFinite: 0 };
  // Rare (a NaN/Inf somewhere): materialise the dequantised values and take the careful path.
  const deq = new Float32Array(rows * cols);
  dequantiseBlockFp8Into(codes, rows, cols, scales, scaleCols, deq, block);
  return carefulErrorSums(src, deq, 0, rows * cols);
}
