import { open, writev } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BandwidthBudget } from './limits';
import { closeThenSettle, LIMITER_GRAIN, payRemaining, PrematureCloseError, watchForStall } from './sink-support';

export interface BodySinkOptions {
  path: string;
  /** Append to the file (resume) instead of truncating it. */
  append: boolean;
  /** Sees every chunk once, before it is queued for the disk (hashing, counters); throw to stop. */
  onChunk: (chunk: Buffer) => void;
  limiter?: BandwidthBudget | null;
  signal: AbortSignal;
  /** No byte for this long while reading → `onStall` (the caller aborts `signal` with its reason). */
  stallTimeoutMs: number;
  onStall: () => void;
  /** Bytes gathered per writev (default 4 MiB). At most two batches per file are in memory. */
  batchBytes?: number;
}

/**
 * The download hot path: reads a response body with plain 'data' events, hands each chunk to
 * `onChunk` once (the hash sees the very Buffer that is written, no copy), gathers chunks into
 * multi-MiB `writev` calls on the thread pool while the next batch arrives (double buffering: the
 * socket is paused only when a second batch is full before the first one is on disk), and takes
 * bandwidth tokens per 256 KiB. No stream pipeline, no Transform, no promise per chunk.
 *
 * Resolves with the bytes received once the body ended and every byte is written and the file is
 * closed. On any failure (network, abort, stall, `onChunk` throwing) the bytes received so far are
 * still written (a resume re-hashes them), the file is closed, then it rejects.
 */
export function writeBodyToFile(body: Readable, options: BodySinkOptions): Promise<{ received: number }> {
  const target = options.batchBytes ?? 4 << 20;
  const { limiter, signal } = options;
  return new Promise((resolve, reject) => {
    let fd = -1;
    let opening = true;
    let charging = false;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let received = 0;
    let owed = 0;
    let writing = false;
    let ended = false;
    let failure: unknown = null;
    let settled = false;
    let holds = 0;
    let lastRead = performance.now();

    const hold = () => {
      if (holds++ === 0) body.pause();
    };
    const release = () => {
      if (--holds === 0 && !failure) {
        lastRead = performance.now();
        body.resume();
      }
    };

    const stopStallWatch = watchForStall(
      options,
      () => holds === 0 && !ended,
      () => lastRead,
    );

    const finish = () => {
      if (settled || writing || opening || charging) return;
      if (batchBytes > 0) {
        startWrite();
        return;
      }
      settled = true;
      stopStallWatch();
      signal.removeEventListener('abort', onAbort);
      closeThenSettle(fd, failure, () => resolve({ received }), reject);
    };

    const fail = (err: unknown) => {
      if (failure) return;
      failure = err;
      body.destroy();
      // Keep what arrived: the bytes are in order and a resume re-hashes the partial from disk.
      finish();
    };

    const startWrite = () => {
      let buffers = batch;
      let remaining = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = true;
      const step = () => {
        writev(fd, buffers, (err, written) => {
          if (err) {
            writing = false;
            batch = [];
            batchBytes = 0;
            fail(err);
            finish();
            return;
          }
          remaining -= written;
          if (remaining > 0) {
            buffers = skip(buffers, written);
            step();
            return;
          }
          writing = false;
          if (ended || failure) finish();
          else if (batchBytes >= target) {
            startWrite();
            release();
          }
        });
      };
      step();
    };

    const onData = (chunk: Buffer) => {
      if (failure) return;
      lastRead = performance.now();
      try {
        options.onChunk(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      received += chunk.length;
      batch.push(chunk);
      batchBytes += chunk.length;
      if (limiter) {
        owed += chunk.length;
        if (owed >= LIMITER_GRAIN) {
          const n = owed;
          owed = 0;
          hold();
          limiter.take(n, signal).then(release, fail);
        }
      }
      if (batchBytes >= target) {
        if (!writing) startWrite();
        else if (batchBytes - chunk.length < target) hold(); // released when the write in flight completes
      }
    };

    const onAbort = () => fail(signal.reason ?? new DOMException('The download was aborted', 'AbortError'));

    body.once('end', () => {
      ended = true;
      if (limiter && owed > 0 && !failure) {
        // Pay for the last bytes too, so a shared cap holds across files.
        charging = true;
        void payRemaining(limiter, owed, signal).then((err) => {
          charging = false;
          failure ??= err;
          finish();
        });
        return;
      }
      finish();
    });
    body.once('error', (err) => fail(err));
    body.once('close', () => {
      if (!ended) fail(new PrematureCloseError());
    });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    open(options.path, options.append ? 'a' : 'w', (err, opened) => {
      opening = false;
      if (err) {
        fail(err);
        finish();
        return;
      }
      fd = opened;
      if (failure) {
        finish();
        return;
      }
      body.on('data', onData);
    });
  });
}

function skip(buffers: Buffer[], bytes: number): Buffer[] {
  let n = bytes;
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
