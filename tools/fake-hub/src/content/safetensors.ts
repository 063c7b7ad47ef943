import { prngBytes } from './prng';

export type SafetensorsDtype = 'BF16' | 'F16' | 'F32' | 'I8' | 'U8' | 'F8_E4M3' | 'F8_E8M0';

const BYTES: Record<SafetensorsDtype, number> = { BF16: 2, F16: 2, F32: 4, I8: 1, U8: 1, F8_E4M3: 1, F8_E8M0: 1 };

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

export function tensorByteLength(t: TensorSpec): number {
  return t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
}

/**
 * Plausible values, not just noise: random bytes would produce NaN bit patterns for the float types
 * (0x7f/0xff in E4M3FN, 0xff in E8M0, all-ones exponents in BF16), which a loader may reject.
 */
function tensorData(t: TensorSpec, seed: string): Buffer {
  const len = tensorByteLength(t);
  const raw = prngBytes(`${seed}:${t.name}`, len);
  switch (t.dtype) {
    case 'F8_E4M3':
      for (let i = 0; i < len; i++) if ((raw[i]! & 0x7f) === 0x7f) raw[i] = raw[i]! & 0xf0;
      return raw;
    case 'F8_E8M0':
      // Scales near 2^0: exponents 120..134.
      for (let i = 0; i < len; i++) raw[i] = 120 + (raw[i]! % 15);
      return raw;
    case 'BF16':
    case 'F16':
      for (let i = 1; i < len; i += 2) raw[i] = (raw[i]! & 0x80) | (0x3c + (raw[i]! % 3)); // sign + small exponent
      return raw;
    case 'F32': {
      for (let i = 0; i < len; i += 4) raw.writeFloatLE(((raw[i]! / 255) * 2 - 1) * 0.05, i);
      return raw;
    }
    default:
      return raw;
  }
}

/** A valid safetensors file: u64 LE header length, space-padded JSON header (multiple of 8), contiguous data. */
export function buildSafetensors(tensors: TensorSpec[], seed: string, metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const datas: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const data = tensorData(t, seed);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
    datas.push(data);
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json, 'utf8'), ...datas]);
}

export interface SafetensorsHeader {
  headerLength: number;
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
}

/** Parses and checks a safetensors header the way the reference parser does (contiguous, complete). */
export function parseSafetensorsHeader(buf: Uint8Array): SafetensorsHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new Error('safetensors: file shorter than 8 bytes');
  const n = Number(b.readBigUInt64LE(0));
  if (n > 100_000_000 || 8 + n > b.length) throw new Error(`safetensors: bad header length ${n}`);
  const parsed = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const { __metadata__: metadata = {}, ...rest } = parsed;
  const tensors = rest as SafetensorsHeader['tensors'];
  const ranges = Object.values(tensors)
    .map((t) => t.data_offsets)
    .sort((x, y) => x[0] - y[0]);
  let expected = 0;
  for (const [begin, end] of ranges) {
    if (begin !== expected) throw new Error(`safetensors: hole or overlap at ${begin} (expected ${expected})`);
    expected = end;
  }
  if (8 + n + expected !== b.length) throw new Error(`safetensors: data covers ${expected} bytes, buffer has ${b.length - 8 - n}`);
  return { headerLength: n, metadata: metadata as Record<string, string>, tensors };
}

/** Same header, fresh tensor bytes: what a re-export of one shard looks like. */
export function reseedSafetensors(buf: Buffer, seed: string): Buffer {
  const header = parseSafetensorsHeader(buf);
  const specs = Object.entries(header.tensors)
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])
    .map(([name, t]) => ({ name, dtype: t.dtype as SafetensorsDtype, shape: t.shape }));
  return buildSafetensors(specs, seed, header.metadata);
}
