import { close, fdatasync, open, writeSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { guardedConnection, type GuardOptions } from '@fleetplane/net';
import type { BodySinkOptions } from './body-sink';
import { closeThenSettle, LIMITER_GRAIN, payRemaining, PrematureCloseError, watchForStall } from './sink-support';

/**
 * A minimal HTTP/1.1 GET for large bodies with a Content-Length, reading straight from the socket into
 * one reusable 64 KiB buffer (`onread`): no Buffer is allocated per socket read and no HTTP parser copies
 * the body, so neither allocation nor garbage collection grows with the file size. Each read is hashed
 * in place and written to the file at once with writeSync, while the bytes are still in the CPU cache
 * (as curl does). In the download bench this took the downloader from 4.9 to about 2 CPU-seconds per
 * GiB; node:http spent ~1.1 s/GiB in its parser path and ~1.2 s/GiB in GC, and multi-MiB batched
 * writes on the thread pool cost twice the kernel copy time of small hot writes.
 *
 * The synchronous write blocks the event loop for one 64 KiB page-cache copy at a time (tens of
 * microseconds), the same order as hashing the chunk. One connection per request (`Connection: close`).
 * Responses this path does not handle (no Content-Length, Transfer-Encoding, Content-Encoding) are
 * reported as `unsupported`; the caller repeats the request with node:http.
 */

export interface RawHead {
  status: number;
  headers: Map<string, string>;
}

export type RawResult = { kind: 'response'; head: RawHead; response: RawBodyReader } | { kind: 'unsupported'; head: RawHead };

// 64 KiB reads measured best (2.0 CPU-s/GiB vs 2.6 with 256 KiB and 2.7 with 1 MiB): the bytes are
// hashed and written while they are still in the core's cache.
const READ_BUFFER = 64 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
/**
 * Every this many bytes written, an fdatasync is started on the thread pool (never waited for by the reader).
 * Without it the whole file sits dirty in the page cache (Linux starts background writeback only at 10 % of
 * RAM) and the store's final fsync writes it all after the last byte arrived: on a link-limited download
 * that flush is pure added time (bench:download at 1 Gbit/s: 0.98x `curl | sha256sum`, which never syncs).
 * Syncing as we go overlaps the disk writes with the network wait, so the final fsync finds little left.
 */
const SYNC_EVERY_BYTES = 8 * 1024 * 1024;

function parseHead(text: string): RawHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m)
    throw Object.assign(new Error(`Malformed HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`), { code: 'ECONNRESET' });
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { status: Number(m[1]), headers };
}

export interface RawBodyReader {
  /** Writes the body into a file; same contract as writeBodyToFile. */
  saveTo(options: BodySinkOptions): Promise<{ received: number }>;
  discard(): void;
}

/**
 * Sends one GET and resolves after the response head; the body waits (socket paused) for saveTo/discard.
 * The socket connects through the network policy (`guard`): an IP-literal host is checked before the
 * socket exists, a host name by the lookup at connect time; a refusal rejects with NetworkPolicyError.
 */
export function rawGet(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  guard: GuardOptions,
  headTimeoutMs = 60_000,
): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    let conn: ReturnType<typeof guardedConnection>;
    try {
      conn = guardedConnection(url, guard);
    } catch (err) {
      reject(err);
      return;
    }
    // A server that accepts the connection but never answers must not hang the download: after
    // headTimeoutMs without a complete head the request fails as a network timeout (retried).
    const headTimer = setTimeout(
      () => fail(Object.assign(new Error(`No response head from ${url.host} within ${headTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
      headTimeoutMs,
    );
    const readBuf = Buffer.allocUnsafe(READ_BUFFER);
    let headBytes: Buffer | null = null; // header bytes seen so far (only until the head is parsed)
    let settledHead = false;
    // Body bytes that arrived with the head, before saveTo was called.
    let early: Buffer | null = null;
    let onBody: ((buf: Buffer, n: number) => boolean) | null = null;
    let onEnd: ((err: unknown) => void) | null = null;
    let closed = false;

    const https = url.protocol === 'https:';
    const { host, port, lookup } = conn;
    const onread = {
      buffer: readBuf,
      callback: (n: number, buf: Uint8Array): boolean => {
        if (onBody) return onBody(buf as Buffer, n);
        if (settledHead) {
          // Body bytes before saveTo (unusual: the socket is paused after the head): keep them.
          const chunk = Buffer.from(buf.subarray(0, n));
          early = early ? Buffer.concat([early, chunk]) : chunk;
          return false;
        }
        const chunk = Buffer.from(buf.subarray(0, n));
        headBytes = headBytes ? Buffer.concat([headBytes, chunk]) : chunk;
        const end = headBytes.indexOf('\r\n\r\n');
        if (end < 0) {
          if (headBytes.length > MAX_HEADER_BYTES) fail(new Error('Response head larger than 64 KiB'));
          return true;
        }
        let head: RawHead;
        try {
          head = parseHead(headBytes.subarray(0, end).toString('latin1'));
        } catch (err) {
          fail(err);
          return false;
        }
        if (head.status >= 100 && head.status < 200) {
          // Interim response (e.g. 103 Early Hints): skip it.
          headBytes = headBytes.subarray(end + 4);
          return onread.callback(0, Buffer.alloc(0));
        }
        settledHead = true;
        early = headBytes.subarray(end + 4);
        headBytes = null;
        const length = head.headers.get('content-length');
        const unsupported =
          length === undefined ||
          !/^\d+$/.test(length) ||
          head.headers.has('transfer-encoding') ||
          (head.headers.get('content-encoding') ?? 'identity') !== 'identity';
        if (unsupported) {
          socket.destroy();
          signal.removeEventListener('abort', onAbort);
          clearTimeout(headTimer);
          resolve({ kind: 'unsupported', head });
          return false;
        }
        clearTimeout(headTimer);
        resolve({ kind: 'response', head, response: makeReader(Number(length)) });
        return false; // paused until saveTo
      },
    };

    const socket: net.Socket = https
      ? // tls.connect honours onread at run time (Node >= 13); @types/node does not list it.
        tls.connect({
          host,
          port,
          lookup,
          servername: net.isIP(host) ? undefined : host,
          onread,
          ALPNProtocols: ['http/1.1'],
        } as tls.ConnectionOptions)
      : net.connect({ host, port, lookup, onread });

    const fail = (err: unknown) => {
      clearTimeout(headTimer);
      socket.destroy();
      signal.removeEventListener('abort', onAbort);
      if (!settledHead) {
        settledHead = true;
        reject(err);
      } else onEnd?.(err);
    };
    const onAbort = () => fail(signal.reason ?? new DOMException('The download was aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    socket.once('error', fail);
    socket.once('close', () => {
      closed = true;
      if (!settledHead) fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      else onEnd?.(null);
    });

    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'User-Agent: fleetplane'];
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n]/.test(k + v)) {
        fail(new Error(`Header ${k} contains a line break`));
        return;
      }
      if (!/^(host|connection)$/i.test(k)) lines.push(`${k}: ${v}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);

    function makeReader(contentLength: number): RawBodyReader {
      let used = false;
      return {
        discard() {
          used = true;
          socket.destroy();
          signal.removeEventListener('abort', onAbort);
        },
        saveTo(options) {
          if (used) return Promise.reject(new Error('The body was already consumed'));
          used = true;
          return pump(options, contentLength);
        },
      };
    }

    function pump(options: BodySinkOptions, contentLength: number): Promise<{ received: number }> {
      let received = 0;
      let owed = 0;
      let holds = 0;
      let fd = -1;
      let charging = false;
      let done = false;
      let failure: unknown = null;
      let settled = false;
      let lastRead = performance.now();
      const { limiter } = options;

      return new Promise((resolve, reject) => {
        const stopStallWatch = watchForStall(
          options,
          () => holds === 0 && !done && !failure,
          () => lastRead,
        );
        const sinkAbort = () => stop(options.signal.reason ?? new DOMException('The download was aborted', 'AbortError'));
        options.signal.addEventListener('abort', sinkAbort, { once: true });

        const release = () => {
          if (--holds === 0 && !failure && !done) {
            lastRead = performance.now();
            socket.resume();
          }
        };

        // Incremental writeback (SYNC_EVERY_BYTES): one fdatasync in flight at most; the file is closed only
        // after it returns, so the descriptor is never closed under a running sync. Its errors are left to
        // the store's final fsync, which reports them.
        let unsynced = 0;
        let syncing = false;
        let afterSync: (() => void) | null = null;
        const syncAsWeGo = () => {
          syncing = true;
          unsynced = 0;
          fdatasync(fd, () => {
            syncing = false;
            const next = afterSync;
            afterSync = null;
            next?.();
          });
        };

        const finish = () => {
          if (settled || charging) return;
          if (syncing) {
            afterSync = finish;
            return;
          }
          settled = true;
          stopStallWatch();
          options.signal.removeEventListener('abort', sinkAbort);
          signal.removeEventListener('abort', onAbort);
          closeThenSettle(fd, failure, () => resolve({ received }), reject);
        };

        const stop = (err: unknown) => {
          if (failure || done) return;
          failure = err;
          socket.destroy();
          finish();
        };

        const take = (src: Buffer, n: number): boolean => {
          if (failure || done) return false;
          lastRead = performance.now();
          const chunk = src.subarray(0, Math.min(n, contentLength - received));
          try {
            options.onChunk(chunk);
            // Written at once, while the bytes are still in the CPU cache: measured cheaper than
            // batching into multi-MiB writes on the thread pool (a cold second copy), and every
            // byte that was hashed is on its way to the disk before the next read.
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          } catch (err) {
            stop(err);
            return false;
          }
          received += chunk.length;
          unsynced += chunk.length;
          if (unsynced >= SYNC_EVERY_BYTES && !syncing) syncAsWeGo();
          if (limiter) owed += chunk.length;
          if (received >= contentLength) {
            done = true;
            socket.destroy();
            if (limiter && owed > 0) {
              // Pay for the last bytes too, so a shared cap holds across files.
              charging = true;
              void payRemaining(limiter, owed, options.signal).then((err) => {
                charging = false;
                failure ??= err;
                finish();
              });
            }
            finish();
            return false;
          }
          if (limiter && owed >= LIMITER_GRAIN) {
            const debt = owed;
            owed = 0;
            holds++;
            limiter.take(debt, options.signal).then(release, stop);
            return false;
          }
          return true;
        };

        onEnd = (err) => {
          if (done) return;
          stop(err ?? new PrematureCloseError({ received, expected: contentLength }));
        };

        open(options.path, options.append ? 'a' : 'w', (err, opened) => {
          if (err) {
            stop(err);
            return;
          }
          if (failure) {
            // Failed while the file was opening: the promise is settled already; just close it.
            close(opened, () => undefined);
            return;
          }
          fd = opened;
          onBody = take;
          const first = early;
          early = null;
          let more = true;
          if (first && first.length > 0) more = take(first, first.length);
          else if (contentLength === 0) {
            done = true;
            socket.destroy();
            finish();
            more = false;
          }
          if (!done && !failure && closed) onEnd?.(null);
          else if (more && !done && !failure) socket.resume();
        });
      });
    }
  });
}
