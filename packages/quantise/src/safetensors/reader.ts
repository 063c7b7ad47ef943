import { open, readFile, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

// Streaming safetensors reader: only headers are parsed up front; tensor bytes are read on demand by offset
// from open file handles, so memory is bounded by what the caller asks for (a tensor or a range of its rows).

export type SafetensorsDtype =
  'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64' | 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0';

export const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export interface SourceTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** The shard file (relative to the checkpoint folder). */
  file: string;
  /** Absolute byte offset of the tensor's data in its file. */
  offset: number;
  byteLength: number;
}

const MAX_HEADER = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export async function readSafetensorsHeader(handle: FileHandle, file: string): Promise<SourceTensor[]> {
  const prefix = Buffer.alloc(8);
  const { bytesRead } = await handle.read(prefix, 0, 8, 0);
  if (bytesRead < 8) throw new Error(`${file}: shorter than 8 bytes, not a safetensors file`);
  const n = Number(prefix.readBigUInt64LE(0));
  const { size } = await handle.stat();
  if (n > MAX_HEADER || 8 + n > size) throw new Error(`${file}: bad header length ${n}`);
  const header = Buffer.alloc(n);
  await handle.read(header, 0, n, 8);
  const parsed = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
  const tensors: SourceTensor[] = [];
  let covered = 0;
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') continue;
    const t = raw as HeaderEntry;
    const [begin, end] = t.data_offsets;
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[t.dtype];
    if (width === undefined) throw new Error(`${file}: tensor ${name} has an unknown dtype ${t.dtype}`);
    if (end - begin !== elements * width)
      throw new Error(`${file}: tensor ${name} spans ${end - begin} bytes, its shape needs ${elements * width}`);
    if (8 + n + end > size) throw new Error(`${file}: tensor ${name} runs past the end of the file`);
    covered += end - begin;
    tensors.push({ name, dtype: t.dtype, shape: t.shape, file, offset: 8 + n + begin, byteLength: end - begin });
  }
  if (8 + n + covered !== size) throw new Error(`${file}: the tensors cover ${covered} bytes of a ${size - 8 - n}-byte data buffer`);
  return tensors.sort((a, b) => a.offset - b.offset);
}

/** A checkpoint folder: one model.safetensors, or shards listed by model.safetensors.index.json. */
export class SafetensorsCheckpoint {
  private constructor(
    readonly dir: string,
    readonly tensors: SourceTensor[],
    private readonly handles: Map<string, FileHandle>,
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  private readonly byName: Map<string, SourceTensor>;

  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    let files: string[];
    let indexMap: Record<string, string> | null = null;
    try {
      const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
        weight_map?: Record<string, string>;
      };
      indexMap = index.weight_map ?? {};
      files = [...new Set(Object.values(indexMap))].sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort();
    }
    if (files.length === 0) throw new Error(`${dir}: no safetensors files`);
    const handles = new Map<string, FileHandle>();
    const tensors: SourceTensor[] = [];
    try {
      for (const f of files) {
        const h = await open(join(dir, f), 'r');
        handles.set(f, h);
        tensors.push(...(await readSafetensorsHeader(h, f)));
      }
    } catch (e) {
      await Promise.all([...handles.values()].map((h) => h.close()));
      throw e;
    }
    const seen = new Set<string>();
    for (const t of tensors) {
      if (seen.has(t.name)) throw new Error(`${dir}: tensor ${t.name} appears in more than one shard`);
      seen.add(t.name);
      if (indexMap && indexMap[t.name] !== undefined && indexMap[t.name] !== t.file)
        throw new Error(`${dir}: the index puts ${t.name} in ${indexMap[t.name]}, it is in ${t.file}`);
    }
    if (indexMap)
      for (const name of Object.keys(indexMap)) if (!seen.has(name)) throw new Error(`${dir}: the index lists ${name}, no shard has it`);
    return new SafetensorsCheckpoint(dir, tensors, handles);
  }

  get(name: string): SourceTensor | undefined {
    return this.byName.get(name);
  }

  /** Reads `length` bytes of a tensor starting `start` bytes into it (a range of rows, for row-major data). */
  async read(t: SourceTensor, start = 0, length = t.byteLength - start, into?: Buffer): Promise<Buffer> {
    if (start < 0 || start + length > t.byteLength)
      throw new Error(`read of ${t.name} [${start}, ${start + length}) is outside its ${t.byteLength} bytes`);
    const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    const h = this.handles.get(t.file)!;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await h.read(buf, done, length - done, t.offset + start + done);
      if (bytesRead === 0) throw new Error(`${t.file}: unexpected end of file reading ${t.name}`);
      done += bytesRead;
    }
    return buf;
  }

  get totalBytes(): number {
    return this.tensors.reduce((a, t) => a + t.byteLength, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.close()));
    this.handles.clear();
  }
}
