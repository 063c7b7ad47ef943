import { join } from 'node:path';
import { FileSink } from '../file-sink';
import type { WrittenFile } from '../safetensors/writer';

// GGUF v3 writer (ggml gguf.h / docs/gguf.md; quantisation-formats.md §6.1): magic, version 3, tensor count,
// KV count, KVs, tensor infos, zero padding to the alignment (32), then the data blob with every tensor's offset a
// multiple of the alignment (the last tensor is padded too, as llama-quantize does). Little-endian throughout.
// Tensor infos carry the ggml order of dimensions (ne[0] contiguous = the reverse of the PyTorch shape).

export const GGML_TYPES = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30 } as const;
export type GgmlTypeName = keyof typeof GGML_TYPES;

const BLOCK: Record<GgmlTypeName, { values: number; bytes: number }> = {
  F32: { values: 1, bytes: 4 },
  F16: { values: 1, bytes: 2 },
  BF16: { values: 1, bytes: 2 },
  Q8_0: { values: 32, bytes: 34 },
  Q4_0: { values: 32, bytes: 18 },
};

/** llama.cpp LLAMA_FTYPE values stored in general.file_type (not ggml_ftype). */
export const LLAMA_FTYPE: Record<GgmlTypeName, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, BF16: 32 };

export const GGUF_ALIGNMENT = 32;

export type GgufValue =
  | { type: 'u8'; value: number }
  | { type: 'u16'; value: number }
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'u64'; value: bigint }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'i32[]'; value: number[] }
  | { type: 'f32[]'; value: number[] };

export type GgufKv = { key: string } & GgufValue;

export interface GgufTensorPlan {
  name: string;
  type: GgmlTypeName;
  /** ggml order: ne[0] is the contiguous dimension. */
  ne: number[];
}

export function ggufTensorBytes(t: GgufTensorPlan): number {
  const b = BLOCK[t.type];
  if (t.ne[0]! % b.values !== 0) throw new Error(`${t.name}: ne[0] = ${t.ne[0]} is not a multiple of the ${t.type} block size ${b.values}`);
  return (t.ne.reduce((a, c) => a * c, 1) / b.values) * b.bytes;
}

const VT = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;

class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer) {
    this.parts.push(b);
    this.length += b.length;
  }
  u8(v: number) {
    this.push(Buffer.from([v & 0xff]));
  }
  u16(v: number) {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.push(b);
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  f32(v: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  u64(v: bigint | number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  zeros(n: number) {
    this.push(Buffer.alloc(n));
  }
  concat(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function writeKv(w: Bytes, kv: GgufKv): void {
  w.str(kv.key);
  switch (kv.type) {
    case 'u8':
      w.u32(VT.u8);
      w.u8(kv.value);
      break;
    case 'u16':
      w.u32(VT.u16);
      w.u16(kv.value);
      break;
    case 'u32':
      w.u32(VT.u32);
      w.u32(kv.value);
      break;
    case 'i32':
      w.u32(VT.i32);
      w.i32(kv.value);
      break;
    case 'u64':
      w.u32(VT.u64);
      w.u64(kv.value);
      break;
    case 'f32':
      w.u32(VT.f32);
      w.f32(kv.value);
      break;
    case 'bool':
      w.u32(VT.bool);
      w.u8(kv.value ? 1 : 0);
      break;
    case 'string':
      w.u32(VT.string);
      w.str(kv.value);
      break;
    case 'string[]':
      w.u32(VT.array);
      w.u32(VT.string);
      w.u64(kv.value.length);
      for (const s of kv.value) w.str(s);
      break;
    case 'i32[]':
      w.u32(VT.array);
      w.u32(VT.i32);
      w.u64(kv.value.length);
      for (const v of kv.value) w.i32(v);
      break;
    case 'f32[]':
      w.u32(VT.array);
      w.u32(VT.f32);
      w.u64(kv.value.length);
      for (const v of kv.value) w.f32(v);
      break;
  }
}

const align = (x: number) => x + ((GGUF_ALIGNMENT - (x % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT);

export class GgufWriter {
  private readonly header: Buffer;
  private readonly offsets = new Map<string, { begin: number; size: number; index: number }>();
  private readonly order: string[];
  private sink: FileSink | null = null;
  private dataStart: number;
  readonly plannedBytes: number;
  private next = 0;

  constructor(
    private readonly dir: string,
    readonly fileName: string,
    kvs: GgufKv[],
    tensors: GgufTensorPlan[],
  ) {
    const w = new Bytes();
    w.u32(0x46554747); // "GGUF"
    w.u32(3);
    w.u64(tensors.length);
    w.u64(kvs.length);
    for (const kv of kvs) writeKv(w, kv);
    let offset = 0;
    tensors.forEach((t, index) => {
      if (Buffer.byteLength(t.name) >= 64) throw new Error(`GGUF tensor names must be shorter than 64 bytes: ${t.name}`);
      if (t.ne.length < 1 || t.ne.length > 4) throw new Error(`${t.name}: GGUF tensors have 1 to 4 dimensions, not ${t.ne.length}`);
      const size = ggufTensorBytes(t);
      if (this.offsets.has(t.name)) throw new Error(`tensor ${t.name} declared twice`);
      this.offsets.set(t.name, { begin: offset, size, index });
      w.str(t.name);
      w.u32(t.ne.length);
      for (const n of t.ne) w.u64(n);
      w.u32(GGML_TYPES[t.type]);
      w.u64(offset);
      offset = align(offset + size);
    });
    w.zeros(align(w.length) - w.length);
    this.header = w.concat();
    this.dataStart = this.header.length;
    this.order = tensors.map((t) => t.name);
    this.plannedBytes = this.dataStart + offset;
  }

  /** Writes `data` at `offset` bytes into tensor `name`; tensors in declaration order, each front to back. */
  async write(name: string, offset: number, data: Uint8Array): Promise<void> {
    const t = this.offsets.get(name);
    if (!t) throw new Error(`tensor ${name} was not declared`);
    if (offset + data.byteLength > t.size) throw new Error(`write past the end of ${name}`);
    if (!this.sink) {
      this.sink = await FileSink.create(join(this.dir, this.fileName));
      await this.sink.append(this.header);
    }
    // Pad up to this tensor's start (the alignment gap after the previous tensor).
    if (offset === 0) {
      if (t.index !== this.next)
        throw new Error(`GGUF tensors must be written in declaration order: ${name} is #${t.index}, expected #${this.next}`);
      await this.sink.zeros(this.dataStart + t.begin - this.sink.bytesWritten);
    }
    await this.sink.append(data, this.dataStart + t.begin + offset);
    if (offset + data.byteLength === t.size) this.next = t.index + 1;
  }

  async finish(): Promise<WrittenFile[]> {
    if (this.next !== this.order.length)
      throw new Error(`GGUF ${this.fileName}: ${this.order.length - this.next} tensors were not written`);
    if (!this.sink) {
      this.sink = await FileSink.create(join(this.dir, this.fileName));
      await this.sink.append(this.header);
    }
    await this.sink.zeros(this.plannedBytes - this.sink.bytesWritten);
    const r = await this.sink.finish();
    this.sink = null;
    return [{ path: this.fileName, ...r }];
  }

  async abort(): Promise<void> {
    await this.sink?.abort();
  }
}
