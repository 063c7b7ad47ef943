import type { SafetensorsCheckpoint, SourceTensor } from '../safetensors/reader';
import type { StripeDecoding } from './stripe';

// The checkpoint's tensors as logical float matrices: FP8 weights paired with their block scales, MXFP4 experts
// (I8/U8 bytes, two values each) with their E8M0 group scales, plain BF16/F16/F32, and anything else kept raw.
// A tensor of shape [..., cols] is handled as rows x cols with rows = the product of the leading dimensions.

export type SourceEncoding =
  | { kind: 'float' }
  | { kind: 'fp8'; scale: SourceTensor; blockRows: number; blockCols: number }
  | { kind: 'mxfp4'; scale: SourceTensor }
  | { kind: 'raw' };

export interface LogicalTensor {
  name: string;
  /** The logical shape (for MXFP4 the unpacked one: twice the packed last dimension). */
  shape: number[];
  rows: number;
  cols: number;
  tensor: SourceTensor;
  encoding: SourceEncoding;
}

const FLOAT_DTYPES = new Set(['BF16', 'F16', 'F32']);

/** Names a quantised weight's scale may have: DeepSeek V3 / HF (`weight_scale_inv`), experts and V4 (`weight_scale`, `scale`). */
function scaleCandidates(name: string): string[] {
  const base = name.endsWith('.weight') ? name.slice(0, -'weight'.length) : `${name}.`;
  return [`${base}weight_scale_inv`, `${base}weight_scale`, `${base}scale`];
}

export function logicalTensors(ckpt: SafetensorsCheckpoint, blockSize: [number, number]): LogicalTensor[] {
  const consumed = new Set<string>();
  const out: LogicalTensor[] = [];
  const dims = (shape: number[]) => {
    const cols = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const rows = shape.length <= 1 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return { rows, cols };
  };
  for (const t of ckpt.tensors) {
    if (t.dtype === 'F8_E4M3' || t.dtype === 'I8' || t.dtype === 'U8') {
      const scale = scaleCandidates(t.name)
        .map((n) => ckpt.get(n))
        .find((s): s is SourceTensor => s !== undefined);
      if (scale) consumed.add(scale.name);
      if (t.dtype === 'F8_E4M3') {
        if (!scale) throw new Error(`${t.name} is FP8 but has no scale tensor (looked for ${scaleCandidates(t.name).join(', ')})`);
        const { rows, cols } = dims(t.shape);
        const outDim = t.shape.length >= 2 ? t.shape[t.shape.length - 2]! : 1;
        const [br, bc] = blockSize;
        if (br !== bc) throw new Error(`${t.name}: only square FP8 blocks are supported, not ${br}x${bc}`);
        if (t.shape.length > 2 && outDim % br !== 0)
          throw new Error(`${t.name}: stacked FP8 tensors need the out dimension (${outDim}) to be a multiple of ${br}`);
        const expected = Math.ceil(rows / br) * Math.ceil(cols / bc);
        const got = scale.shape.reduce((a, b) => a * b, 1);
        if (got !== expected) throw new Error(`${t.name}: scale ${scale.name} has ${got} entries, ${br}x${bc} blocks need ${expected}`);
        out.push({ name: t.name, shape: t.shape, rows, cols, tensor: t, encoding: { kind: 'fp8', scale, blockRows: br, blockCols: bc } });
        continue;
      }
      if (scale && scale.dtype === 'F8_E8M0') {
        const shape = [...t.shape.slice(0, -1), t.shape[t.shape.length - 1]! * 2];
        const { rows, cols } = dims(shape);
        if (scale.byteLength !== (rows * cols) / 32)
          throw new Error(
            `${t.name}: MXFP4 scale ${scale.name} has ${scale.byteLength} entries, ${rows}x${cols} values need ${(rows * cols) / 32}`,
          );
        out.push({ name: t.name, shape, rows, cols, tensor: t, encoding: { kind: 'mxfp4', scale } });
        continue;
      }
    }
    out.push({
      name: t.name,
      shape: t.shape,
      ...dims(t.shape),
      tensor: t,
      encoding: { kind: FLOAT_DTYPES.has(t.dtype) ? 'float' : 'raw' },
    });
  }
  return out.filter((l) => !consumed.has(l.name));
}

/** Reusable scratch memory: grows to the largest request and is then reused, so steady state allocates nothing. */
export class Scratch {
  private buffers = new Map<string, ArrayBuffer>();
  bytes(key: string, n: number): Buffer {
    let b = this.buffers.get(key);
    if (!b || b.byteLength < n) {
      b = new ArrayBuffer(Math.max(n, 8));
      this.buffers.set(key, b);
    }
    return Buffer.from(b, 0, n);
  }
  floats(key: string, n: number): Float32Array {
    return new Float32Array(this.bytes(key, n * 4).buffer, 0, n);
  }
}

/** Where a stripe's source bytes go: scratch memory on the main thread, or fresh buffers that can move to a worker. */
export type StripeBytesAllocator = (key: string, n: number) => Buffer;

/** How a float-capable logical tensor's bytes decode (its encoding without the file offsets). */
export function stripeDecoding(l: LogicalTensor): StripeDecoding {
  const e = l.encoding;
  switch (e.kind) {
    case 'float':
      return { kind: 'float', dtype: l.tensor.dtype as 'BF16' | 'F16' | 'F32' };
    case 'fp8':
      return { kind: 'fp8', blockRows: e.blockRows, blockCols: e.blockCols, scaleDtype: e.scale.dtype, scaleName: e.scale.name };
    case 'mxfp4':
      return { kind: 'mxfp4' };
    case 'raw':
      throw new Error(`${l.name}: dtype ${l.tensor.dtype} has no float value`);
  }
}

/**
 * Reads the source bytes of rows [r0, r1) of a float-capable logical tensor (r0 a multiple of the FP8 block rows):
 * the weights, and for FP8 / MXFP4 the scales that cover exactly those rows.
 */
export async function readStripeBytes(
  ckpt: SafetensorsCheckpoint,
  l: LogicalTensor,
  r0: number,
  r1: number,
  alloc: StripeBytesAllocator,
): Promise<{ main: Uint8Array; scale: Uint8Array | null }> {
  const n = (r1 - r0) * l.cols;
  const t = l.tensor;
  switch (l.encoding.kind) {
    case 'float': {
      const w = t.dtype === 'F32' ? 4 : 2;
      return { main: await ckpt.read(t, r0 * l.cols * w, n * w, alloc('src-raw', n * w)), scale: null };
    }
    case 'fp8': {
      const { scale, blockRows, blockCols } = l.encoding;
      const main = await ckpt.read(t, r0 * l.cols, n, alloc('src-raw', n));
      const scaleCols = Math.ceil(l.cols / blockCols);
      const sr0 = r0 / blockRows;
      const sr1 = Math.ceil(r1 / blockRows);
      const count = (sr1 - sr0) * scaleCols;
      const sw = scale.dtype === 'F32' ? 4 : scale.dtype === 'F8_E8M0' ? 1 : 2;
      return { main, scale: await ckpt.read(scale, sr0 * scaleCols * sw, count * sw, alloc('src-scale', count * sw)) };
    }
    case 'mxfp4': {
      const { scale } = l.encoding;
      const main = await ckpt.read(t, (r0 * l.cols) / 2, n / 2, alloc('src-raw', n / 2));
      return { main, scale: await ckpt.read(scale, (r0 * l.cols) / 32, n / 32, alloc('src-scale', n / 32)) };
    }
    case 'raw':
      throw new Error(`${l.name}: dtype ${t.dtype} has no float value`);
  }
}
