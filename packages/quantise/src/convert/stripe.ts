import {
  E8M0_TABLE,
  bf16BitsToF32,
  blockFp8ErrorSums,
  dequantiseBlockFp8Into,
  dequantiseMlxAffineInto,
  dequantiseMxfp4Into,
  dequantiseQ4_0Into,
  errorSums,
  f16DecodeTable,
  f32ToBf16Bits,
  f32ToF16Bits,
  q8_0ErrorSums,
  quantiseBlockFp8,
  quantiseMlxAffine,
  quantiseQ4_0Into,
  quantiseQ8_0Into,
  type ErrorSums,
} from '@fleetplane/domain';
import type { Scratch } from './source';

// One stripe of rows, converted with no IO: decode the source bytes to float32, encode them to the target and
// measure the error. Everything here is plain data, so a stripe can be converted on a worker thread as well as
// on the main one with the same bytes out (see stripe-runner.ts).

export type Encoder =
  | { kind: 'copy' }
  | { kind: 'float'; dtype: 'BF16' | 'F16' | 'F32' }
  | { kind: 'fp8-block'; scaleFormat: 'f32' | 'ue8m0'; block: number }
  | { kind: 'ggml'; type: 'Q8_0' | 'Q4_0' }
  | { kind: 'mlx'; bits: 4 | 8; groupSize: number };

/** How the stripe's source bytes decode to float32 (the logical tensor's encoding, without its file offsets). */
export type StripeDecoding =
  | { kind: 'float'; dtype: 'BF16' | 'F16' | 'F32' }
  | { kind: 'fp8'; blockRows: number; blockCols: number; scaleDtype: string; scaleName: string }
  | { kind: 'mxfp4' };

export interface StripeJob {
  decoding: StripeDecoding;
  encoder: Exclude<Encoder, { kind: 'copy' }>;
  /** Whether the output can differ from the source (error sums are measured only then). */
  lossy: boolean;
  rows: number;
  cols: number;
  /** The stripe's weight bytes, and for FP8 / MXFP4 the scale bytes that cover exactly these rows. */
  main: Uint8Array;
  scale: Uint8Array | null;
}

export interface StripeResult {
  /** The main output tensor's bytes for these rows. */
  main: Uint8Array;
  /** Side tensors' bytes for these rows (FP8 scales; MLX scales then biases), in the unit's side order. */
  side: Uint8Array[];
  sums: ErrorSums | null;
}

const bf16Round = (v: number) => bf16BitsToF32(f32ToBf16Bits(v));

/** Decodes the stripe's source bytes into float32 (in scratch memory). */
export function decodeStripe(job: StripeJob, scratch: Scratch): Float32Array {
  const { rows, cols, main } = job;
  const n = rows * cols;
  const out = scratch.floats('src-f32', n);
  const d = job.decoding;
  switch (d.kind) {
    case 'float': {
      if (d.dtype === 'F32') out.set(new Float32Array(main.buffer, main.byteOffset, n));
      else if (d.dtype === 'BF16') {
        const src = new Uint16Array(main.buffer, main.byteOffset, n);
        const dst = new Uint32Array(out.buffer, out.byteOffset, n);
        for (let i = 0; i < n; i++) dst[i] = src[i]! << 16;
      } else {
        const lut = f16DecodeTable();
        const src = new Uint16Array(main.buffer, main.byteOffset, n);
        for (let i = 0; i < n; i++) out[i] = lut[src[i]!]!;
      }
      return out;
    }
    case 'fp8': {
      const rawScale = job.scale!;
      const scaleCols = Math.ceil(cols / d.blockCols);
      const sw = d.scaleDtype === 'F32' ? 4 : d.scaleDtype === 'F8_E8M0' ? 1 : 2;
      const count = rawScale.byteLength / sw;
      const scales = scratch.floats('src-scale-f32', count);
      if (d.scaleDtype === 'F8_E8M0') for (let i = 0; i < count; i++) scales[i] = E8M0_TABLE[rawScale[i]!]!;
      else if (d.scaleDtype === 'F32') scales.set(new Float32Array(rawScale.buffer, rawScale.byteOffset, count));
      else if (d.scaleDtype === 'BF16') {
        const bits = new Uint32Array(1);
        const asFloat = new Float32Array(bits.buffer);
        for (let i = 0; i < count; i++) {
          bits[0] = (rawScale[2 * i]! | (rawScale[2 * i + 1]! << 8)) << 16;
          scales[i] = asFloat[0]!;
        }
      } else throw new Error(`${d.scaleName}: scale dtype ${d.scaleDtype} is not supported`);
      dequantiseBlockFp8Into(main, rows, cols, scales, scaleCols, out, d.blockRows);
      return out;
    }
    case 'mxfp4':
      dequantiseMxfp4Into(main, job.scale!, rows, cols, out);
      return out;
  }
}

/** Encodes decoded rows to the target; the error sums cover exactly these rows. */
export function encodeStripe(job: StripeJob, src: Float32Array, scratch: Scratch): StripeResult {
  const e = job.encoder;
  const { rows, cols } = job;
  const n = rows * cols;
  const measure = job.lossy;
  const deq = measure && !(e.kind === 'fp8-block' || (e.kind === 'ggml' && e.type === 'Q8_0')) ? scratch.floats('deq', n) : null;
  switch (e.kind) {
    case 'float': {
      if (e.dtype === 'F32') {
        // F32 out of F32 (or a widened 16-bit source) reproduces the decoded values exactly.
        return { main: new Uint8Array(src.buffer, src.byteOffset, n * 4), side: [], sums: measure ? errorSums(src, src) : null };
      }
      const out = scratch.bytes('out', n * 2);
      const o16 = new Uint16Array(out.buffer, out.byteOffset, n);
      if (e.dtype === 'BF16') {
        const bits = new Uint32Array(src.buffer, src.byteOffset, n);
        for (let i = 0; i < n; i++) {
          const x = bits[i]!;
          // RNE on the bit pattern; NaN stays NaN (quiet bit forced).
          o16[i] = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
        }
        if (deq) {
          const d32 = new Uint32Array(deq.buffer, deq.byteOffset, n);
          for (let i = 0; i < n; i++) d32[i] = o16[i]! << 16;
        }
      } else {
        for (let i = 0; i < n; i++) o16[i] = f32ToF16Bits(src[i]!);
        if (deq) {
          const lut = f16DecodeTable();
          for (let i = 0; i < n; i++) deq[i] = lut[o16[i]!]!;
        }
      }
      return { main: out, side: [], sums: deq ? errorSums(src, deq) : null };
    }
    case 'fp8-block': {
      const q = quantiseBlockFp8(src, rows, cols, e.scaleFormat, e.block, scratch.floats('scaled', cols));
      const sums = measure ? blockFp8ErrorSums(src, q.codes, rows, cols, q.scales, q.scaleCols, e.block) : null;
      return { main: q.codes, side: [q.scaleBytes], sums };
    }
    case 'ggml': {
      const bytes = (n / 32) * (e.type === 'Q8_0' ? 34 : 18);
      const out = scratch.bytes('out', bytes);
      if (e.type === 'Q8_0') {
        quantiseQ8_0Into(src, out, 0, 0, n);
        return { main: out, side: [], sums: measure ? q8_0ErrorSums(src, out, n) : null };
      }
      quantiseQ4_0Into(src, out, 0, 0, n);
      if (deq) dequantiseQ4_0Into(out, n, deq);
      return { main: out, side: [], sums: deq ? errorSums(src, deq) : null };
    }
    case 'mlx': {
      const q = quantiseMlxAffine(src, rows, cols, e.bits, e.groupSize, bf16Round);
      const toBf16 = (a: Float32Array) => {
        const b = new Uint8Array(a.length * 2);
        const v = new Uint16Array(b.buffer);
        for (let i = 0; i < a.length; i++) v[i] = f32ToBf16Bits(a[i]!);
        return b;
      };
      if (deq) dequantiseMlxAffineInto(q.packed, q.scales, q.biases, n, e.bits, e.groupSize, deq);
      return {
        main: new Uint8Array(q.packed.buffer, q.packed.byteOffset, q.packed.byteLength),
        side: [toBf16(q.scales), toBf16(q.biases)],
        sums: deq ? errorSums(src, deq) : null,
      };
    }
  }
}

/** Decode, encode and measure one stripe. */
export function convertStripe(job: StripeJob, scratch: Scratch): StripeResult {
  return encodeStripe(job, decodeStripe(job, scratch), scratch);
}
