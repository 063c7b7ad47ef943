import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedFileWriter } from './batched-file-writer';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'batched-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));

describe('BatchedFileWriter', () => {
  it('writes every byte in order across batch boundaries and appends with flag a', async () => {
    const file = path.join(dir, 'f');
    const data = chunks(37, 1000);
    await pipeline(Readable.from(data), new BatchedFileWriter(file, 'w', 4096));
    expect(readFileSync(file).equals(Buffer.concat(data))).toBe(true);
    await pipeline(Readable.from([Buffer.from('tail')]), new BatchedFileWriter(file, 'a', 4096));
    expect(readFileSync(file).subarray(-4).toString()).toBe('tail');
    await pipeline(Readable.from([Buffer.from('new')]), new BatchedFileWriter(file, 'w'));
    expect(readFileSync(file).toString()).toBe('new');
  });

  it('keeps the bytes it already received when the stream is destroyed mid-way', async () => {
    const file = path.join(dir, 'g');
    writeFileSync(file, 'abc');
    const w = new BatchedFileWriter(file, 'a', 1 << 20);
    const written = (b: string) => new Promise<void>((resolve, reject) => w.write(Buffer.from(b), (err) => (err ? reject(err) : resolve())));
    // Both chunks are accepted into the batch (below the 1 MiB target), none written yet.
    await written('def');
    await written('ghi');
    expect(readFileSync(file, 'utf8')).toBe('abc');
    const closed = new Promise((resolve) => w.once('close', resolve));
    w.on('error', () => undefined);
    w.destroy(new Error('connection reset'));
    await closed;
    expect(readFileSync(file, 'utf8')).toBe('abcdefghi');
  });
});
