import { f16DecodeTable, f32ToF16Bits } from './float-formats';
import { carefulErrorSums, type ErrorSums } from './quality';

// ggml's reference quantisers (no imatrix), bit for bit: quantize_row_q8_0_ref and quantize_row_q4_0_ref.
// All intermediate values are float32 (Math.fround); the quantisers use the float32 d, not fp16(d), to compute q.

export const QK8_0 = 32;
export const Q8_0_BLOCK_BYTES = 34;
export const QK4_0 = 32;
export const Q4_0_BLOCK_BYTES = 18;

const fr = Math.fround;

/** C roundf: half away from zero. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Q8_0: per 32 values d = amax/127, q = roundf(x/d) as int8; bytes: fp16 d, 32 x int8. `n` must be a multiple of 32. */
export function quantiseQ8_0Into(src: Float32Array, out: Uint8Array, outOffset = 0, start = 0, n = src.length - start): void {
  if (n % QK8_0 !== 0) throw new Error(`Q8_0 needs a multiple of ${QK8_0} values, got ${n}`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let b = 0, o = outOffset; b < n; b += QK8_0, o += Q8_0_BLOCK_BYTES) {
    let amax = 0;
    for (let j = start + b, end = j + QK8_0; j < end; j++) {
      const a = Math.abs(src[j]!);
      if (a > amax) amax = a;
    }
    const d = fr(amax / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < QK8_0; j++) out[o + 2 + j] = roundHalfAway(fr(src[start + b + j]! * id)) & 0xff;
  }
}

export function dequantiseQ8_0Into(bytes: Uint8Array, n: number, out: Float32Array, bytesOffset = 0, outOffset = 0): void {
  const f16 = f16DecodeTable();
  for (let b = 0, o = bytesOffset; b < n; b += QK8_0, o += Q8_0_BLOCK_BYTES) {
    const d = f16[bytes[o]! | (bytes[o + 1]! << 8)]!;
    for (let j = 0; j < QK8_0; j++) out[outOffset + b + j] = fr(((bytes[o + 2 + j]! << 24) >> 24) * d);
  }
}

/**
 * Q4_0: per 32 values take the signed value with the largest |x| (the first strictly greater wins), d = max/−8,
 * q = min(15, trunc(x/d + 8.5)); byte j holds element j in its low nibble and element j+16 in its high nibble.
 */
export function quantiseQ4_0Into(src: Float32Array, out: Uint8Array, outOffset = 0, start = 0, n = src.length - start): void {
  if (n % QK4_0 !== 0) throw new Error(`Q4_0 needs a multiple of ${QK4_0} values, got ${n}`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let b = 0, o = outOffset; b < n; b += QK4_0, o += Q4_0_BLOCK_BYTES) {
    let amax = 0;
    let max = 0;
    for (let j = start + b, end = j + QK4_0; j < end; j++) {
      const v = src[j]!;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      const x0 = fr(src[start + b + j]! * id);
      const x1 = fr(src[start + b + j + 16]! * id);
      const q0 = Math.min(15, Math.trunc(fr(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(fr(x1 + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
}

export function dequantiseQ4_0Into(bytes: Uint8Array, n: number, out: Float32Array, bytesOffset = 0, outOffset = 0): void {
  const f16 = f16DecodeTable();
  for (let b = 0, o = bytesOffset; b < n; b += QK4_0, o += Q4_0_BLOCK_BYTES) {
    const d = f16[bytes[o]! | (bytes[o + 1]! << 8)]!;
    for (let j = 0; j < 16; j++) {
      const q = bytes[o + 2 + j]!;
      out[outOffset + b + j] = fr(((q & 0xf) - 8) * d);
      out[outOffset + b + j + 16] = fr(((q >>> 4) - 8) * d);
    }
  }
}

/** Error sums of Q8_0 blocks against their source, decoding in place (same figures as dequantise + accumulate). */
export function q8_0ErrorSums(src: Float32Array, bytes: Uint8Array, n: number, start = 0, bytesOffset = 0): ErrorSums {
  const f16 = f16DecodeTable();
  let sumSq = 0;
  let errSq = 0;
  let maxErr = 0;
  for (let b = 0, o = bytesOffset; b < n; b += QK8_0, o += Q8_0_BLOCK_BYTES) {
    const d = f16[bytes[o]! | (bytes[o + 1]! << 8)]!;
    for (let j = 0; j < QK8_0; j++) {
      const w = src[start + b + j]!;
      const e = w - fr(((bytes[o + 2 + j]! << 24) >> 24) * d);
      sumSq += w * w;
      errSq += e * e;
      maxErr = Math.max(maxErr, Math.abs(e));
    }
  }
  if (Number.isFinite(sumSq) && Number.isFinite(errSq)) return { sumSq, errSq, maxErr, n, nonFinite: 0 };
  const deq = new Float32Array(n);
  dequantiseQ8_0Into(bytes, n, deq, bytesOffset);
  return carefulErrorSums(src.subarray(start, start + n), deq, 0, n);
}
