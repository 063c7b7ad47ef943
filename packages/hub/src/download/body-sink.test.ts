import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BandwidthLimiter } from './bandwidth-limiter';
import { writeBodyToFile } from './body-sink';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'body-sink-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));
const base = { signal: new AbortController().signal, stallTimeoutMs: 60_000, onStall: () => undefined };

describe('writeBodyToFile', () => {
  it('writes every byte in order across batch boundaries, hashing each chunk once, and appends on resume', async () => {
    const file = path.join(dir, 'f');
    const data = chunks(37, 1000);
    const hash = createHash('sha256');
    let seen = 0;
    const r = await writeBodyToFile(Readable.from(data), {
      ...base,
      path: file,
      append: false,
      batchBytes: 4096,
      onChunk: (c) => {
        hash.update(c);
        seen += c.length;
      },
    });
    expect(r.received).toBe(37_000);
    expect(seen).toBe(37_000);
    expect(readFileSync(file).equals(Buffer.concat(data))).toBe(true);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(Buffer.concat(data)).digest('hex'));
    await writeBodyToFile(Readable.from([Buffer.from('tail')]), { ...base, path: file, append: true, onChunk: () => undefined });
    expect(readFileSync(file).subarray(-4).toString()).toBe('tail');
    await writeBodyToFile(Readable.from([Buffer.from('new')]), { ...base, path: file, append: false, onChunk: () => undefined });
    expect(readFileSync(file, 'utf8')).toBe('new');
  });

  it('keeps the bytes already received when the connection breaks, then rejects with a network error', async () => {
    const file = path.join(dir, 'g');
    writeFileSync(file, 'abc');
    const body = new PassThrough();
    const done = writeBodyToFile(body, { ...base, path: file, append: true, batchBytes: 1 << 20, onChunk: () => undefined });
    body.write('def');
    body.write('ghi');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Both chunks are below the batch size: nothing is written yet.
    expect(readFileSync(file, 'utf8')).toBe('abc');
    body.destroy();
    await expect(done).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(readFileSync(file, 'utf8')).toBe('abcdefghi');
  });

  it('stops at the first chunk onChunk rejects and does not write it', async () => {
    const file = path.join(dir, 'h');
    let n = 0;
    const done = writeBodyToFile(Readable.from(chunks(5, 10)), {
      ...base,
      path: file,
      append: false,
      onChunk: () => {
        if (++n === 3) throw new Error('too many bytes');
      },
    });
    await expect(done).rejects.toThrow('too many bytes');
    expect(readFileSync(file).length).toBe(20);
  });

  it('reports a stall when no byte arrives in time, and aborts on the signal', async () => {
    const body = new PassThrough();
    const attempt = new AbortController();
    const done = writeBodyToFile(body, {
      path: path.join(dir, 's'),
      append: false,
      signal: attempt.signal,
      stallTimeoutMs: 100,
      onStall: () => attempt.abort(new Error('stalled')),
      onChunk: () => undefined,
    });
    body.write('x');
    const t0 = performance.now();
    await expect(done).rejects.toThrow('stalled');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(readFileSync(path.join(dir, 's'), 'utf8')).toBe('x');
  });

  it('paces the body to a shared bandwidth limiter', async () => {
    const limiter = new BandwidthLimiter(2 << 20, 64 * 1024); // 2 MiB/s, 64 KiB burst
    const t0 = performance.now();
    await writeBodyToFile(Readable.from(chunks(16, 64 * 1024)), {
      ...base,
      path: path.join(dir, 'l'),
      append: false,
      limiter,
      onChunk: () => undefined,
    });
    const seconds = (performance.now() - t0) / 1000;
    // 1 MiB at 2 MiB/s minus the burst: about 0.47 s; unthrottled it takes a few ms.
    expect(seconds).toBeGreaterThan(0.3);
    expect(seconds).toBeLessThan(3);
  });
});
