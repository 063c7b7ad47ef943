import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import { backoffDelayMs, isNetworkError, isRetryableStatus, parseRetryAfter, sleep, type RetryPolicy } from '../retry';
import type { ArtifactStore } from '../store/artifact-store';
import type { BandwidthBudget } from './limits';
import { DownloadHttpError, DownloadRetriesExhaustedError, DownloadVerificationError } from './errors';
import { ContentHashes, hashFilePrefix } from './hashing';
import type { Transport, TransportResponse } from './http-transport';
import type { ProgressTracker } from './progress';

export interface DownloadLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface FileJob {
  file: TManifestFile;
  url: string;
  finalPath: string;
  partialPath: string;
}

export interface FileDownloadContext {
  transport: Transport;
  headers: Record<string, string>;
  store: ArtifactStore;
  limiter: BandwidthBudget | null;
  progress: ProgressTracker;
  retry: RetryPolicy;
  signal: AbortSignal;
  stallTimeoutMs: number;
  log?: DownloadLogger;
  random?: () => number;
}

class StallError extends Error {
  override readonly name = 'StallError';
}

/** `bytes a-b/total` */
function parseContentRange(header: string | null): { start: number; end: number; total: number | null } | null {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The download was aborted', 'AbortError');
}

/**
 * Downloads one file into `<final>.partial` (following the Hub's LFS redirect), resuming with
 * `Range: bytes=<partial size>-`, verifies it
 * and moves it into place. Resuming re-hashes the partial's bytes from disk first: node:crypto cannot
 * persist hash state, and re-reading local disk is far cheaper than re-downloading.
 *
 * Retries (backoff + jitter) cover network errors, stalls, 5xx and 429; the retry budget resets
 * whenever an attempt made progress, so a flaky link that keeps moving forward still finishes.
 * Cancellation leaves the partial in place. A digest mismatch deletes it and throws.
 */
export async function downloadOneFile(
  job: FileJob,
  ctx: FileDownloadContext,
): Promise<{ sha256: string; fetchedBytes: number; resumedFrom: number }> {
  const { file } = job;
  const size = file.sizeBytes;
  let counted = 0; // bytes of this file currently counted as done in progress
  let failures = 0;
  let fetchedBytes = 0;
  let firstResume = -1;
  await ctx.store.prepare(job.partialPath);

  const retryLater = async (reason: string, delayMs?: number) => {
    failures++;
    if (failures >= ctx.retry.attempts) throw new DownloadRetriesExhaustedError(file.path, failures, reason);
    const wait = delayMs ?? backoffDelayMs(failures, ctx.retry, ctx.random);
    ctx.log?.warn({ path: file.path, attempt: failures, delayMs: wait, reason }, 'download interrupted, retrying');
    await sleep(wait, ctx.signal);
  };

  for (;;) {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    let offset = (await ctx.store.exists(job.partialPath))?.sizeBytes ?? 0;
    if (offset > size) {
      ctx.log?.warn({ path: file.path, partialBytes: offset, size }, 'partial file is larger than the file; starting over');
      await ctx.store.remove(job.partialPath);
      offset = 0;
    }
    ctx.progress.discard(counted);
    counted = 0;
    let hashes = new ContentHashes(file);
    if (offset > 0) {
      await hashFilePrefix(job.partialPath, offset, hashes, ctx.signal);
      ctx.progress.addExisting(offset);
      counted = offset;
      if (firstResume < 0) firstResume = offset;
    }
    if (offset === size) return { ...(await verifyAndFinalize(job, ctx, hashes)), fetchedBytes, resumedFrom: Math.max(0, firstResume) };

    const attempt = new AbortController();
    const signal = AbortSignal.any([ctx.signal, attempt.signal]);
    let res: TransportResponse;
    try {
      res = await ctx.transport.get(job.url, {
        headers: { ...ctx.headers, 'Accept-Encoding': 'identity', ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) },
        signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      if (!isNetworkError(err)) throw err;
      await retryLater(err instanceof Error ? err.message : String(err));
      continue;
    }

    if (res.status === 200 || res.status === 206) {
      let writeFrom = offset;
      if (res.status === 206) {
        const range = parseContentRange(res.header('content-range'));
        if (range?.total !== null && range?.total !== undefined && range.total !== size) {
          res.discard();
          await ctx.store.remove(job.partialPath);
          throw new DownloadVerificationError(file.path, 'size', String(size), String(range.total));
        }
        if (!range || range.start !== offset) {
          res.discard();
          await ctx.store.remove(job.partialPath);
          await retryLater(`server answered Range bytes=${offset}- with Content-Range ${res.header('content-range')}`);
          continue;
        }
      } else {
        const length = res.header('content-length');
        if (length !== null && Number(length) !== size) {
          res.discard();
          await ctx.store.remove(job.partialPath);
          throw new DownloadVerificationError(file.path, 'size', String(size), length);
        }
        if (offset > 0) {
          // The server ignored Range: its body starts at byte 0, so start the file over from it.
          ctx.log?.info({ path: file.path, partialBytes: offset }, 'server ignored Range; restarting from zero');
          ctx.progress.discard(counted);
          counted = 0;
          hashes = new ContentHashes(file);
          writeFrom = 0;
        }
      }
      let received = 0;
      try {
        await streamBody(res, job, writeFrom, hashes, ctx, attempt, (n) => {
          received += n;
          counted += n;
          fetchedBytes += n;
        });
      } catch (err) {
        if (ctx.signal.aborted) throw abortError(ctx.signal);
        if (err instanceof DownloadVerificationError) {
          await ctx.store.remove(job.partialPath);
          throw err;
        }
        const stalled = attempt.signal.reason instanceof StallError;
        if (!stalled && !isNetworkError(err)) throw err;
        if (received > 0) failures = 0;
        await retryLater(stalled ? `no data for ${ctx.stallTimeoutMs} ms` : err instanceof Error ? err.message : String(err));
        continue;
      }
      if (writeFrom + received < size) {
        if (received > 0) failures = 0;
        await retryLater(`connection closed after ${writeFrom + received} of ${size} bytes`);
        continue;
      }
      return { ...(await verifyAndFinalize(job, ctx, hashes)), fetchedBytes, resumedFrom: Math.max(0, firstResume) };
    }

    res.discard();
    if (res.status === 416) {
      await ctx.store.remove(job.partialPath);
      await retryLater(`HTTP 416 for Range bytes=${offset}-`);
      continue;
    }
    if (isRetryableStatus(res.status)) {
      const retryAfter = parseRetryAfter(res.header('retry-after'));
      if (res.status === 429 && retryAfter !== null && retryAfter > ctx.retry.maxRetryAfterSeconds) {
        throw new DownloadHttpError(file.path, 429, res.header('x-error-code'), `rate limited; retry after ${retryAfter}s`);
      }
      await retryLater(`HTTP ${res.status}`, retryAfter !== null ? retryAfter * 1000 : undefined);
      continue;
    }
    throw new DownloadHttpError(file.path, res.status, res.header('x-error-code'), res.header('x-error-message') ?? '');
  }
}

function streamBody(
  res: TransportResponse,
  job: FileJob,
  writeFrom: number,
  hashes: ContentHashes,
  ctx: FileDownloadContext,
  attempt: AbortController,
  onBytes: (n: number) => void,
): Promise<{ received: number }> {
  const size = job.file.sizeBytes;
  let received = 0;
  return res.saveTo({
    path: job.partialPath,
    append: writeFrom > 0,
    limiter: ctx.limiter,
    signal: AbortSignal.any([ctx.signal, attempt.signal]),
    stallTimeoutMs: ctx.stallTimeoutMs,
    onStall: () => attempt.abort(new StallError()),
    onChunk: (chunk) => {
      if (writeFrom + received + chunk.length > size) {
        throw new DownloadVerificationError(job.file.path, 'size', String(size), `more than ${size} bytes`);
      }
      hashes.update(chunk);
      received += chunk.length;
      onBytes(chunk.length);
      ctx.progress.addNetwork(chunk.length);
    },
  });
}

async function verifyAndFinalize(job: FileJob, ctx: FileDownloadContext, hashes: ContentHashes): Promise<{ sha256: string }> {
  const { file } = job;
  const d = hashes.digest();
  const fail = async (algorithm: 'sha256' | 'git-sha1', expected: string, actual: string) => {
    await ctx.store.remove(job.partialPath);
    return new DownloadVerificationError(file.path, algorithm, expected, actual);
  };
  if (file.sha256 && d.sha256 !== file.sha256) throw await fail('sha256', file.sha256, d.sha256);
  if (d.gitOid !== null && d.gitOid !== file.gitOid) throw await fail('git-sha1', file.gitOid, d.gitOid);
  await ctx.store.finalize(job.partialPath, job.finalPath);
  return { sha256: d.sha256 };
}
