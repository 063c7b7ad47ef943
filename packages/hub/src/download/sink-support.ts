import { close } from 'node:fs';
import type { BandwidthBudget } from './limits';

// What the two body writers (raw-http.ts for responses with a Content-Length, body-sink.ts for the
// node:http fallback) share: how they meter bandwidth, watch for stalls, end and report a cut body.

/** Bytes taken from the bandwidth limiter at once: one promise per 256 KiB, not per socket read. */
export const LIMITER_GRAIN = 256 * 1024;

/** The body ended early; `code` makes the download's retry treat it as a network error. */
export class PrematureCloseError extends Error {
  override readonly name = 'PrematureCloseError';
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor(progress?: { received: number; expected: number }) {
    super(
      progress
        ? `The connection closed after ${progress.received} of ${progress.expected} body bytes`
        : 'The connection closed before the body ended',
    );
  }
}

/**
 * Calls `onStall` when no byte arrived for `stallTimeoutMs` while the writer was reading (`reading()`:
 * not paused for the limiter or the disk, not finished). Returns the function that stops the watch.
 */
export function watchForStall(
  options: { stallTimeoutMs: number; onStall: () => void },
  reading: () => boolean,
  lastRead: () => number,
): () => void {
  const timer = setInterval(
    () => {
      if (reading() && performance.now() - lastRead() >= options.stallTimeoutMs) options.onStall();
    },
    Math.max(50, Math.min(1000, options.stallTimeoutMs / 4)),
  );
  return () => clearInterval(timer);
}

/** Pays for the last bytes of a body too, so a shared cap holds across files; resolves with the failure, if any. */
export function payRemaining(limiter: BandwidthBudget, owed: number, signal: AbortSignal): Promise<unknown> {
  return limiter.take(owed, signal).then(
    () => null,
    (err: unknown) => err,
  );
}

/**
 * The last act of a body writer: closes the file (if it was opened), then settles. A close error is
 * the failure when there was none, since a failed close can mean lost writes.
 */
export function closeThenSettle(fd: number, failure: unknown, resolve: () => void, reject: (err: unknown) => void): void {
  const settle = (err: unknown) => (err ? reject(err) : resolve());
  if (fd < 0) settle(failure);
  else close(fd, (err) => settle(failure || err));
}
