import { prngBytes } from './prng';

// GGUF v3 writer for small but valid files (ggml gguf.h / docs/gguf.md): little-endian, u64 string
// lengths, tensor data aligned to general.alignment (default 32).

export const GGUF_VALUE = { UINT8: 0, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10 } as const;
export const GGML_TYPE = { F32: 0, Q8_0: 8, Q4_K: 12 } as const;
export type GgmlTypeName = keyof typeof GGML_TYPE;

const BLOCK: Record<GgmlTypeName, { values: number; bytes: number }> = {
  F32: { values: 1, bytes: 4 },
  Q8_0: { values: 32, bytes: 34 },
  Q4_K: { values: 256, bytes: 144 },
};

export type GgufKv =
  | { key: string; type: 'string'; value: string }
  | { key: string; type: 'u32'; value: number }
  | { key: string; type: 'f32'; value: number }
  | { key: string; type: 'bool'; value: boolean }
  | { key: string; type: 'string[]'; value: string[] };

export interface GgufTensorSpec {
  name: string;
  type: GgmlTypeName;
  /** ggml order: ne[0] is the contiguous dimension (reverse of the PyTorch shape). */
  ne: number[];
}

const ALIGNMENT = 32;
const align = (x: number, a: number) => x + ((a - (x % a)) % a);

class Writer {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer) {
    this.parts.push(b);
    this.length += b.length;
  }
  u8(v: number) {
    this.push(Buffer.from([v]));
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat() {
    return Buffer.concat(this.parts, this.length);
  }
}

export function ggufTensorBytes(t: GgufTensorSpec): number {
  const block = BLOCK[t.type];
  const [ne0 = 1, ...rest] = t.ne;
  if (ne0 % block.values !== 0) throw new Error(`${t.name}: ne[0]=${ne0} is not a multiple of the ${t.type} block size ${block.values}`);
  return (ne0 / block.values) * block.bytes * rest.reduce((a, b) => a * b, 1);
}

/** float -> IEEE binary16 bits (round toward zero; enough for the small scales written here). */
function f16(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = (bits >>> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7bff;
  return sign | (exp << 10) | mant;
}

/** Blocks with finite f16 scales and random quants, so dequantising gives real numbers. */
function tensorData(t: GgufTensorSpec, seed: string): Buffer {
  const len = ggufTensorBytes(t);
  const data = prngBytes(`${seed}:${t.name}`, len);
  const block = BLOCK[t.type];
  for (let off = 0; off < len; off += block.bytes) {
    const r = data[off]! / 255;
    if (t.type === 'F32') data.writeFloatLE(1 + (r - 0.5) * 0.01, off);
    else if (t.type === 'Q8_0') data.writeUInt16LE(f16(0.001 + r * 0.01), off);
    else {
      data.writeUInt16LE(f16(0.001 + r * 0.01), off); // d
      data.writeUInt16LE(f16(0.0005 + r * 0.005), off + 2); // dmin
    }
  }
  return data;
}

function writeKv(w: Writer, kv: GgufKv) {
  w.str(kv.key);
  switch (kv.type) {
    case 'string':
      w.u32(GGUF_VALUE.STRING);
      w.str(kv.value);
      break;
    case 'u32':
      w.u32(GGUF_VALUE.UINT32);
      w.u32(kv.value);
      break;
    case 'f32':
      w.u32(GGUF_VALUE.FLOAT32);
      w.f32(kv.value);
      break;
    case 'bool':
      w.u32(GGUF_VALUE.BOOL);
      w.u8(kv.value ? 1 : 0);
      break;
    case 'string[]':
      w.u32(GGUF_VALUE.ARRAY);
      w.u32(GGUF_VALUE.STRING);
      w.u64(kv.value.length);
      for (const s of kv.value) w.str(s);
      break;
  }
}

export function buildGguf(kvs: GgufKv[], tensors: GgufTensorSpec[], seed: string): Buffer {
  const w = new Writer();
  w.push(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  const allKvs: GgufKv[] = kvs.some((k) => k.key === 'general.alignment')
    ? kvs
    : [...kvs, { key: 'general.alignment', type: 'u32', value: ALIGNMENT }];
  w.u64(allKvs.length);
  for (const kv of allKvs) writeKv(w, kv);
  let offset = 0;
  const datas: Buffer[] = [];
  for (const t of tensors) {
    if (t.ne.length < 1 || t.ne.length > 4) throw new Error(`${t.name}: n_dims must be 1..4`);
    w.str(t.name);
    w.u32(t.ne.length);
    for (const n of t.ne) w.u64(n);
    w.u32(GGML_TYPE[t.type]);
    w.u64(offset);
    const data = tensorData(t, seed);
    const padded = align(data.length, ALIGNMENT);
    datas.push(data, Buffer.alloc(padded - data.length));
    offset += padded;
  }
  w.push(Buffer.alloc(align(w.length, ALIGNMENT) - w.length));
  for (const d of datas) w.push(d);
  return w.concat();
}

export interface GgufLayout {
  version: number;
  dataOffset: number;
  tensors: Array<GgufTensorSpec & { offset: number }>;
}

/** Walks a GGUF header far enough to find the tensor table and the data start. */
export function readGgufLayout(buf: Buffer): GgufLayout {
  if (buf.toString('ascii', 0, 4) !== 'GGUF') throw new Error('gguf: bad magic');
  let p = 4;
  const version = buf.readUInt32LE(p);
  p += 4;
  const nTensors = Number(buf.readBigUInt64LE(p));
  const nKv = Number(buf.readBigUInt64LE(p + 8));
  p += 16;
  let alignment = ALIGNMENT;
  const readStr = () => {
    const n = Number(buf.readBigUInt64LE(p));
    const s = buf.toString('utf8', p + 8, p + 8 + n);
    p += 8 + n;
    return s;
  };
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skipValue = (type: number): number | undefined => {
    if (type === GGUF_VALUE.STRING) {
      readStr();
      return undefined;
    }
    if (type === GGUF_VALUE.ARRAY) {
      const elem = buf.readUInt32LE(p);
      const count = Number(buf.readBigUInt64LE(p + 4));
      p += 12;
      for (let i = 0; i < count; i++) skipValue(elem);
      return undefined;
    }
    const size = SIZES[type];
    if (size === undefined) throw new Error(`gguf: unknown value type ${type}`);
    const v = type === GGUF_VALUE.UINT32 ? buf.readUInt32LE(p) : undefined;
    p += size;
    return v;
  };
  for (let i = 0; i < nKv; i++) {
    const key = readStr();
    const type = buf.readUInt32LE(p);
    p += 4;
    const v = skipValue(type);
    if (key === 'general.alignment' && v !== undefined) alignment = v;
  }
  const names = Object.fromEntries(Object.entries(GGML_TYPE).map(([k, v]) => [v, k])) as Record<number, GgmlTypeName>;
  const tensors: GgufLayout['tensors'] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = readStr();
    const nDims = buf.readUInt32LE(p);
    p += 4;
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++, p += 8) ne.push(Number(buf.readBigUInt64LE(p)));
    const typeId = buf.readUInt32LE(p);
    const offset = Number(buf.readBigUInt64LE(p + 4));
    p += 12;
    const type = names[typeId];
    if (!type) throw new Error(`gguf: tensor ${name} has unsupported ggml type ${typeId}`);
    tensors.push({ name, type, ne, offset });
  }
  return { version, dataOffset: align(p, alignment), tensors };
}

/** Same header, fresh tensor data: a re-quantised upload of the same file. */
export function reseedGguf(buf: Buffer, seed: string): Buffer {
  const layout = readGgufLayout(buf);
  const out = Buffer.from(buf);
  for (const t of layout.tensors) tensorData(t, seed).copy(out, layout.dataOffset + t.offset);
  return out;
}
