import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { prngChunks } from './content/prng';
import { gitBlobOid, lfsPointer, sha256Hex } from './git-hash';

export type FileSource = { kind: 'inline'; bytes: Buffer } | { kind: 'synthetic'; sizeBytes: number; seed: string };

export interface StoredFile {
  path: string;
  size: number;
  lfs: boolean;
  /** sha256 of the content (for LFS files also the pointer's oid). */
  sha256: string;
  /** Git blob oid of what git stores at this path: the content, or the LFS pointer. */
  oid: string;
  pointerSize: number | null;
  source: FileSource;
}

const LFS_SUFFIXES = [
  '.safetensors',
  '.gguf',
  '.bin',
  '.pt',
  '.pth',
  '.ckpt',
  '.h5',
  '.onnx',
  '.msgpack',
  '.model',
  '.npz',
  '.npy',
  '.pkl',
  '.zip',
  '.tar',
  '.tgz',
  '.zst',
];
/** The Hub stores files above 10 MB in LFS even without a .gitattributes rule. */
const LFS_SIZE_THRESHOLD = 10 * 1024 * 1024;

export function isLfs(filePath: string, size: number, source: FileSource): boolean {
  if (source.kind === 'synthetic' || size >= LFS_SIZE_THRESHOLD) return true;
  const lower = filePath.toLowerCase();
  return LFS_SUFFIXES.some((s) => lower.endsWith(s));
}

export function sourceSize(source: FileSource): number {
  return source.kind === 'inline' ? source.bytes.length : source.sizeBytes;
}

/** Bytes [start, end) of a file, in chunks; synthetic files are generated, never buffered whole. */
export function* readSource(source: FileSource, start: number, end: number, chunkSize = 1 << 20): Generator<Buffer> {
  if (source.kind === 'synthetic') {
    yield* prngChunks(source.seed, start, end, chunkSize);
    return;
  }
  for (let p = start; p < end; p += chunkSize) yield source.bytes.subarray(p, Math.min(end, p + chunkSize));
}

/**
 * sha256 of synthetic files, computed once by streaming and cached in memory and (with a data dir) on
 * disk, so a restarted fake hub does not re-hash gigabytes.
 */
export class DigestCache {
  private memory = new Map<string, string>();
  private loaded = false;
  constructor(private readonly dataDir?: string) {}

  private get file() {
    return this.dataDir ? path.join(this.dataDir, 'synthetic-digests.json') : undefined;
  }

  private async load() {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.file) return;
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(parsed)) if (/^[0-9a-f]{64}$/.test(v)) this.memory.set(k, v);
    } catch {
      // No cache yet (or unreadable): digests are recomputed.
    }
  }

  async sha256(source: FileSource): Promise<string> {
    if (source.kind === 'inline') return sha256Hex(source.bytes);
    await this.load();
    const key = `v1:${source.sizeBytes}:${source.seed}`;
    const cached = this.memory.get(key);
    if (cached) return cached;
    const hash = createHash('sha256');
    let n = 0;
    for (const chunk of readSource(source, 0, source.sizeBytes)) {
      hash.update(chunk);
      // Keep the server responsive while hashing gigabytes.
      if (++n % 64 === 0) await yieldToLoop();
    }
    const digest = hash.digest('hex');
    this.memory.set(key, digest);
    if (this.file) {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(this.file, JSON.stringify(Object.fromEntries(this.memory), null, 2));
    }
    return digest;
  }
}

export async function storeFile(filePath: string, source: FileSource, digests: DigestCache): Promise<StoredFile> {
  const size = sourceSize(source);
  const sha256 = await digests.sha256(source);
  const lfs = isLfs(filePath, size, source);
  if (!lfs) {
    const bytes = (source as { bytes: Buffer }).bytes;
    return { path: filePath, size, lfs, sha256, oid: gitBlobOid(bytes), pointerSize: null, source };
  }
  const pointer = lfsPointer(sha256, size);
  return { path: filePath, size, lfs, sha256, oid: gitBlobOid(pointer), pointerSize: pointer.length, source };
}
