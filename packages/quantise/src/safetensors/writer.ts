import { join } from 'node:path';
import { FileSink } from '../file-sink';
import { DTYPE_BYTES } from './reader';

// Sharded safetensors writer. The caller declares every tensor (name, dtype, shape) in the order it will write
// them; shards are cut at `maxShardBytes` (a tensor never straddles shards), each header is written first, then
// the data front to back. Same declarations -> same bytes: the header's key order is the declaration order and
// the JSON has no whitespace except the space padding to a multiple of 8.

export interface PlannedTensor {
  name: string;
  dtype: string;
  shape: number[];
}

interface Placed extends PlannedTensor {
  shard: number;
  begin: number;
  end: number;
}

export interface WrittenFile {
  path: string;
  size: number;
  sha256: string;
}

function byteLength(t: PlannedTensor): number {
  const w = DTYPE_BYTES[t.dtype];
  if (w === undefined) throw new Error(`unknown dtype ${t.dtype} for ${t.name}`);
  return t.shape.reduce((a, b) => a * b, 1) * w;
}

function headerBytes(tensors: Placed[]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (const t of tensors) header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([prefix, body]);
}

const pad5 = (n: number) => String(n).padStart(5, '0');

export class SafetensorsWriter {
  private readonly placed = new Map<string, Placed>();
  private readonly shards: Placed[][] = [];
  private readonly headers: Buffer[] = [];
  private readonly sinks: (FileSink | null)[] = [];
  private readonly files: WrittenFile[] = [];
  readonly fileNames: string[];
  /** Bytes of every file this writer will produce, index included: for the free-space check. */
  readonly plannedBytes: number;

  constructor(
    private readonly dir: string,
    tensors: PlannedTensor[],
    maxShardBytes: number,
  ) {
    let current: Placed[] = [];
    let size = 0;
    for (const t of tensors) {
      const n = byteLength(t);
      if (current.length > 0 && size + n > maxShardBytes) {
        this.shards.push(current);
        current = [];
        size = 0;
      }
      const p: Placed = { ...t, shard: this.shards.length, begin: size, end: size + n };
      if (this.placed.has(t.name)) throw new Error(`tensor ${t.name} declared twice`);
      this.placed.set(t.name, p);
      current.push(p);
      size += n;
    }
    this.shards.push(current);
    const count = this.shards.length;
    this.fileNames = count === 1 ? ['model.safetensors'] : this.shards.map((_, i) => `model-${pad5(i + 1)}-of-${pad5(count)}.safetensors`);
    let planned = 0;
    for (const shard of this.shards) {
      const h = headerBytes(shard);
      this.headers.push(h);
      planned += h.length + (shard.at(-1)?.end ?? 0);
    }
    this.plannedBytes = planned + (count > 1 ? Buffer.byteLength(this.indexJson()) : 0);
  }

  private indexJson(): string {
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (const p of this.placed.values()) {
      weightMap[p.name] = this.fileNames[p.shard]!;
      total += p.end - p.begin;
    }
    return `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`;
  }

  /**
   * Writes `data` at `offset` bytes into tensor `name`. Calls must follow the declared order and cover each
   * tensor front to back; a shard is opened on its first write and finished when its last tensor is complete.
   */
  async write(name: string, offset: number, data: Uint8Array): Promise<void> {
    const p = this.placed.get(name);
    if (!p) throw new Error(`tensor ${name} was not declared`);
    if (offset + data.byteLength > p.end - p.begin) throw new Error(`write past the end of ${name}`);
    let sink = this.sinks[p.shard];
    if (sink === undefined) {
      // Shards before this one must be complete.
      for (let s = 0; s < p.shard; s++)
        if (this.sinks[s] !== null) throw new Error(`shard ${s} is not complete before ${name} in shard ${p.shard}`);
      sink = await FileSink.create(join(this.dir, this.fileNames[p.shard]!));
      this.sinks[p.shard] = sink;
      await sink.append(this.headers[p.shard]!);
    }
    if (sink === null) throw new Error(`shard of ${name} already finished`);
    const headerLength = this.headers[p.shard]!.length;
    await sink.append(data, headerLength + p.begin + offset);
    const last = this.shards[p.shard]!.at(-1)!;
    if (sink.bytesWritten === headerLength + last.end) {
      this.files.push({ path: this.fileNames[p.shard]!, ...(await sink.finish()) });
      this.sinks[p.shard] = null;
    }
  }

  /** Checks every shard was completed and writes model.safetensors.index.json when there is more than one. */
  async finish(): Promise<WrittenFile[]> {
    for (let s = 0; s < this.shards.length; s++) {
      if (this.sinks[s] === undefined && this.shards[s]!.length === 0) {
        // A checkpoint with no tensors at all: still a valid (empty) file.
        const sink = await FileSink.create(join(this.dir, this.fileNames[s]!));
        await sink.append(this.headers[s]!);
        this.files.push({ path: this.fileNames[s]!, ...(await sink.finish()) });
        this.sinks[s] = null;
      }
      if (this.sinks[s] !== null) throw new Error(`shard ${this.fileNames[s]} was not completely written`);
    }
    if (this.shards.length > 1) {
      const sink = await FileSink.create(join(this.dir, 'model.safetensors.index.json'));
      await sink.append(Buffer.from(this.indexJson(), 'utf8'));
      this.files.push({ path: 'model.safetensors.index.json', ...(await sink.finish()) });
    }
    return this.files;
  }

  async abort(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s?.abort()));
  }
}
