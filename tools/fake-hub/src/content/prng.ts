import { createCipheriv, createHash } from 'node:crypto';

// AES-256-CTR over zeros is a fast (AES-NI) deterministic keystream with random access: the counter
// block for byte offset o is o/16, so any Range of a multi-GB synthetic file is generated on demand.
const ZEROS = Buffer.alloc(1 << 20);

function keyFor(seed: string): Buffer {
  return createHash('sha256').update(`fake-hub-prng:${seed}`).digest();
}

function counterBlock(blockIndex: bigint): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(blockIndex >> 64n, 0);
  iv.writeBigUInt64BE(blockIndex & 0xffffffffffffffffn, 8);
  return iv;
}

/** Deterministic pseudo-random bytes [start, end) of the stream named by `seed`, in chunks of at most `chunkSize`. */
export function* prngChunks(seed: string, start: number, end: number, chunkSize = 1 << 20): Generator<Buffer> {
  if (start >= end) return;
  const size = Math.min(chunkSize, ZEROS.length);
  const alignedStart = start - (start % 16);
  const cipher = createCipheriv('aes-256-ctr', keyFor(seed), counterBlock(BigInt(alignedStart / 16)));
  let pos = alignedStart;
  let skip = start - alignedStart;
  while (pos < end) {
    const n = Math.min(size, end - pos);
    const out = cipher.update(ZEROS.subarray(0, n));
    pos += n;
    const chunk = skip > 0 ? out.subarray(skip) : out;
    skip = 0;
    if (chunk.length > 0) yield chunk;
  }
}

export function prngBytes(seed: string, length: number): Buffer {
  const parts = [...prngChunks(seed, 0, length)];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
}
