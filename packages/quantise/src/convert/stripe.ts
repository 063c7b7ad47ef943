import {
  E8M0_TABLE,
  bf16BitsToF32,
  carefulErrorSums,
  dequantiseBlockFp8Into,
  dequantiseMlxAffineInto,
  dequantiseQ4_0Into,
  dequantiseQ8_0Into,
  errorSums,
  f16DecodeTable,
  f32ToBf16Bits,
  f32ToF16Bits,
  quantiseMlxAffine,
  quantiseQ4_0Into,
  type ErrorSums,
} from '@fleetplane/domain';
import { kernel, type QuantKernel } from './kernel';
import type { Scratch } from './source';

// One stripe of rows, converted with no IO: decode the source bytes to float32, encode them to the target and
// measure the error. Everything here is plain data, so a stripe can be converted on a worker thread as well as
// on the main one with the same bytes out (see stripe-runner.ts).
//
// The hot loops run in this thread's WebAssembly kernel (kernel.ts; SIMD, the same bytes as the scalar encoders in
// @fleetplane/domain, tested exhaustively): every decoder, and the FP8 block and Q8_0 encoders with their error sums.
// The other targets (Q4_0, MLX, F16/BF16 outputs) encode in JS from the kernel's decoded float32.

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

/** Bytes of a stripe's decoded FP8 scales (float32), or 0. */
function fp8ScaleCount(job: StripeJob): number {
  const d = job.decoding;
  if (d.kind !== 'fp8') return 0;
  const sw = d.scaleDtype === 'F32' ? 4 : d.scaleDtype === 'F8_E8M0' ? 1 : 2;
  return job.scale!.byteLength / sw;
}

/** Kernel memory of one stripe: source bytes, decoded scales, decoded float32, and the kernel encoder's outputs. */
function stripeLayout(k: QuantKernel, job: StripeJob) {
  const { rows, cols } = job;
  const n = rows * cols;
  const e = job.encoder;
  const block = e.kind === 'fp8-block' ? e.block : 1;
  const sr = Math.ceil(rows / block);
  const sc = Math.ceil(cols / block);
  return k.layout({
    main: job.main.byteLength,
    scale: job.scale?.byteLength ?? 0,
    scaleF32: fp8ScaleCount(job) * 4,
    f32: n * 4,
    out:
      e.kind === 'fp8-block'
        ? n
        : e.kind === 'ggml' && e.type === 'Q8_0'
          ? (n / 32) * 34
          : e.kind === 'float' && e.dtype === 'BF16'
            ? n * 2
            : 0,
    scales: e.kind === 'fp8-block' ? sr * sc * 4 : 0,
    e8: e.kind === 'fp8-block' ? sr * sc : 0,
    work: e.kind === 'fp8-block' ? sc * 8 : 0,
    pad: 128,
    sums: 24,
  });
}

type Layout = ReturnType<typeof stripeLayout>;

/** Decodes the stripe's source bytes into float32 (a view of kernel memory, valid until the next stripe). */
export function decodeStripe(job: StripeJob, k: QuantKernel, at: Layout): Float32Array {
  const { rows, cols, main } = job;
  const n = rows * cols;
  const x = k.exports;
  k.u8(at.main, main.byteLength).set(main);
  const d = job.decoding;
  switch (d.kind) {
    case 'float': {
      if (d.dtype === 'F32') k.u8(at.f32, n * 4).set(main);
      else if (d.dtype === 'BF16') x.decodeBf16(at.main, n, at.f32);
      else x.decodeF16(at.main, n, at.f32);
      break;
    }
    case 'fp8': {
      const rawScale = job.scale!;
      const scaleCols = Math.ceil(cols / d.blockCols);
      const count = fp8ScaleCount(job);
      const scales = k.f32(at.scaleF32, count);
      if (d.scaleDtype === 'F8_E8M0') for (let i = 0; i < count; i++) scales[i] = E8M0_TABLE[rawScale[i]!]!;
      else if (d.scaleDtype === 'F32') k.u8(at.scaleF32, count * 4).set(rawScale);
      else if (d.scaleDtype === 'BF16') {
        const bits = new Uint32Array(scales.buffer, scales.byteOffset, count);
        for (let i = 0; i < count; i++) bits[i] = (rawScale[2 * i]! | (rawScale[2 * i + 1]! << 8)) << 16;
      } else throw new Error(`${d.scaleName}: scale dtype ${d.scaleDtype} is not supported`);
      x.decodeFp8Block(at.main, rows, cols, at.scaleF32, scaleCols, d.blockRows, at.f32);
      break;
    }
    case 'mxfp4': {
      if (cols % 32 !== 0) throw new Error(`MXFP4: the row length ${cols} is not a multiple of 32`);
      k.u8(at.scale, job.scale!.byteLength).set(job.scale!);
      x.decodeMxfp4(at.main, at.scale, rows, cols, at.f32);
      break;
    }
  }
  return k.f32(at.f32, n);
}

/** The kernel's error sums, or (when a NaN/Inf poisoned them) the careful JS sums over the dequantised values. */
function kernelSums(k: QuantKernel, at: Layout, poisoned: number, src: Float32Array, dequantise: (deq: Float32Array) => void): ErrorSums {
  const n = src.length;
  if (poisoned) {
    const deq = new Float32Array(n);
    dequantise(deq);
    return carefulErrorSums(src, deq, 0, n);
  }
  const s = k.f64(at.sums, 3);
  return { sumSq: s[0]!, errSq: s[1]!, maxErr: s[2]!, n, nonFinite: 0 };
}

/** Encodes decoded rows to the target; the error sums cover exactly these rows. */
export function encodeStripe(job: StripeJob, src: Float32Array, k: QuantKernel, at: Layout, scratch: Scratch): StripeResult {
  const e = job.encoder;
  const { rows, cols } = job;
  const n = rows * cols;
  const measure = job.lossy;
  const x = k.exports;
  const deq = measure && !(e.kind === 'fp8-block' || (e.kind === 'ggml' && e.type === 'Q8_0')) ? scratch.floats('deq', n) : null;
  switch (e.kind) {
    case 'float': {
      if (e.dtype === 'F32') {
        // F32 out of F32 (or a widened 16-bit source) reproduces the decoded values exactly.
        return { main: new Uint8Array(src.buffer, src.byteOffset, n * 4), side: [], sums: measure ? errorSums(src, src) : null };
      }
      if (e.dtype === 'BF16') {
        x.encodeBf16(at.f32, n, at.out);
        const out = k.u8(at.out, n * 2);
        if (deq) {
          const o16 = new Uint16Array(out.buffer, out.byteOffset, n);
          const d32 = new Uint32Array(deq.buffer, deq.byteOffset, n);
          for (let i = 0; i < n; i++) d32[i] = o16[i]! << 16;
        }
        return { main: out, side: [], sums: deq ? errorSums(src, deq) : null };
      }
      const out = scratch.bytes('out', n * 2);
      const o16 = new Uint16Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) o16[i] = f32ToF16Bits(src[i]!);
      if (deq) {
        const lut = f16DecodeTable();
        for (let i = 0; i < n; i++) deq[i] = lut[o16[i]!]!;
      }
      return { main: out, side: [], sums: deq ? errorSums(src, deq) : null };
    }
    case 'fp8-block': {
      const ue8m0 = e.scaleFormat === 'ue8m0';
      const poisoned = x.quantiseFp8Block(
        at.f32,
        rows,
        cols,
        e.block,
        ue8m0 ? 1 : 0,
        at.out,
        at.scales,
        at.e8,
        at.work,
        at.pad,
        measure ? 1 : 0,
        at.sums,
      );
      const scaleRows = Math.ceil(rows / e.block);
      const scaleCols = Math.ceil(cols / e.block);
      const codes = k.u8(at.out, n);
      const scaleBytes = ue8m0 ? k.u8(at.e8, scaleRows * scaleCols) : k.u8(at.scales, scaleRows * scaleCols * 4);
      const sums = measure
        ? kernelSums(k, at, poisoned, src, (d) =>
            dequantiseBlockFp8Into(codes, rows, cols, k.f32(at.scales, scaleRows * scaleCols), scaleCols, d, e.block),
          )
        : null;
      return { main: codes, side: [scaleBytes], sums };
    }
    case 'ggml': {
      if (e.type === 'Q8_0') {
        if (n % 32 !== 0) throw new Error(`Q8_0 needs a multiple of 32 values, got ${n}`);
        const poisoned = x.quantiseQ8_0(at.f32, n, at.out, measure ? 1 : 0, at.sums);
        const out = k.u8(at.out, (n / 32) * 34);
        return { main: out, side: [], sums: measure ? kernelSums(k, at, poisoned, src, (d) => dequantiseQ8_0Into(out, n, d)) : null };
      }
      const out = scratch.bytes('out', (n / 32) * 18);
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

/**
 * Decode, encode and measure one stripe in this thread's kernel (loadKernel() must have run in this thread). The
 * result may point into kernel memory: valid until the next stripe.
 */
export function convertStripe(job: StripeJob, scratch: Scratch): StripeResult {
  const k = kernel();
  const at = stripeLayout(k, job);
  return encodeStripe(job, decodeStripe(job, k, at), k, at, scratch);
}
