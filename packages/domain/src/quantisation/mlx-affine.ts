// MLX affine quantisation (mx.quantize mode "affine"; quantisation-formats.md §7), CPU kernel semantics:
// per group of g consecutive values along the last axis, a (possibly negative) scale and a bias equal to the group
// edge, so 0.0 is exactly representable; q = clamp(rint((w − bias)/s), 0, 2^b − 1); packed LSB-first into uint32
// words. Dequantisation uses the stored (dtype-rounded) scale and bias: ŵ = scale · q + bias.

export type MlxBits = 4 | 8;

export interface MlxAffineResult {
  /** Packed codes, [rows, cols·bits/32] uint32. */
  packed: Uint32Array;
  /** Stored scales and biases after `roundStored` (e.g. to bfloat16), [rows, cols/groupSize]. */
  scales: Float32Array;
  biases: Float32Array;
}

const fr = Math.fround;

/** rint: round half to even (the MLX CPU kernel; Metal and CUDA round half away, see the format doc). */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * Quantises a row-major [rows, cols] matrix. `roundStored` rounds a scale or bias to the dtype it is stored in;
 * codes are computed with the unrounded fp32 scale and bias, exactly as the kernel does.
 */
export function quantiseMlxAffine(
  src: Float32Array,
  rows: number,
  cols: number,
  bits: MlxBits,
  groupSize: number,
  roundStored: (v: number) => number,
): MlxAffineResult {
  if (cols % groupSize !== 0) throw new Error(`MLX affine: the last dimension ${cols} is not a multiple of the group size ${groupSize}`);
  const perWord = 32 / bits;
  const nMax = (1 << bits) - 1;
  const groups = cols / groupSize;
  const packed = new Uint32Array((rows * cols) / perWord);
  const scales = new Float32Array(rows * groups);
  const biases = new Float32Array(rows * groups);
  for (let g = 0; g < rows * groups; g++) {
    const start = g * groupSize;
    let wMin = Infinity;
    let wMax = -Infinity;
    for (let i = start; i < start + groupSize; i++) {
      const v = src[i]!;
      if (v < wMin) wMin = v;
      if (v > wMax) wMax = v;
    }
    const scale0 = Math.max(fr((wMax - wMin) / nMax), 1e-7);
    const minIsEdge = Math.abs(wMin) > Math.abs(wMax);
    let s = fr(minIsEdge ? scale0 : -scale0);
    const edge = minIsEdge ? wMin : wMax;
    const q0 = rint(fr(edge / s));
    let bias = 0;
    if (q0 !== 0) {
      s = fr(edge / q0);
      bias = edge;
    }
    scales[g] = roundStored(s);
    biases[g] = roundStored(bias);
    for (let i = start; i < start + groupSize; i++) {
      const q = Math.min(nMax, Math.max(0, rint(fr(fr(src[i]! - bias) / s))));
      const word = (i / perWord) | 0;
      packed[word] = (packed[word]! | (q << ((i % perWord) * bits))) >>> 0;
    }
  }
  return { packed, scales, biases };
}

export function dequantiseMlxAffineInto(
  packed: Uint32Array,
  scales: Float32Array,
  biases: Float32Array,
  n: number,
  bits: MlxBits,
  groupSize: number,
  out: Float32Array,
): void {
  const perWord = 32 / bits;
  const mask = (1 << bits) - 1;
  for (let i = 0; i < n; i++) {
    const q = (packed[(i / perWord) | 0]! >>> ((i % perWord) * bits)) & mask;
    const g = (i / groupSize) | 0;
    out[i] = fr(fr(scales[g]! * q) + biases[g]!);
  }
}
