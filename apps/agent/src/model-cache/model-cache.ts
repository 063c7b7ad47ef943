// The node's model cache: artifacts fetched from the control plane over the agent API, verified, kept on
// local disk for the engine. Layout under `dir`:
//   artifacts/<digest>/<path>           verified files (the directory the engine is pointed at)
//   artifacts/<digest>.complete.json    written last, atomically: the artifact is complete (+ its manifest, last use)
//   staging/<digest>/<path>             partial downloads, resumed with Range after a crash or a cut connection
// A file only moves from staging into the artifact directory after its sha256 matched, so whatever sits in
// artifacts/<digest>/ is verified, and only the marker makes the directory usable.
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  ZArtifactFileRef,
  ZArtifactRef,
  type TArtifactFileRef,
  type TArtifactRef,
  type TCommandProgress,
  type TNodeStateReport,
} from '@fleetplane/contracts';
import type { StreamResponse } from '../api/http-stream';
import type { ArtifactProvider } from '../node-commands/handler';
import { mbpsToBytesPerSecond, sleep, TokenBucket } from './token-bucket';

/** What the cache needs from the agent API client (AgentApiClient implements it). */
export interface ArtifactFileSource {
  openArtifactFile(
    artifactId: string,
    relativePath: string,
    opts: { offset: number; etag: string; signal?: AbortSignal },
  ): Promise<StreamResponse>;
}

export interface DiskSpace {
  totalBytes: number;
  freeBytes: number;
}

export interface ModelCacheLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ModelCacheOptions {
  dir: string;
  client: ArtifactFileSource;
  /** Cap when a command names none (Mbit/s); null or absent = not limited. */
  bandwidthMbps?: number | null;
  /** Digests that must never be evicted: the one the engine serves and those open commands reference. */
  protectedDigests: () => Set<string>;
  /** Bytes kept free on the cache's file system (default 1 GiB): the engine, logs and the OS need room too. */
  reserveBytes?: number;
  /** Files of one artifact downloaded at once (default 2). */
  concurrency?: number;
  /** Attempts per file that bring no new bytes before the file fails (default 5). */
  maxAttemptsWithoutProgress?: number;
  /** First retry delay; doubles per attempt, at most 10 s (default 500 ms). */
  retryBaseDelayMs?: number;
  /** statfs of the cache's file system; tests pass a small disk. */
  diskSpace?: (dir: string) => Promise<DiskSpace>;
  log?: ModelCacheLog;
  now?: () => Date;
}

export interface EnsureResult {
  dir: string;
  /** Bytes fetched over the network by this call (0 when it was already complete). */
  downloadedBytes: number;
  /** Files hard-linked from other cached artifacts with the same sha256. */
  reusedFiles: number;
  /** True when the artifact was complete before the call. */
  alreadyComplete: boolean;
}

const ZMarker = z.strictObject({
  version: z.literal(1),
  id: z.string(),
  digest: z.string(),
  label: z.string(),
  sizeBytes: z.number().int().min(0),
  files: z.array(ZArtifactFileRef),
  completedAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime(),
});
type Marker = z.infer<typeof ZMarker>;

const DIGEST_NAME = /^[0-9a-f]{64}$/;
const MARKER_SUFFIX = '.complete.json';
const PROGRESS_INTERVAL_MS = 250;

/**
 * sha256 of the canonical manifest: sorted by path (code-unit order), one `path\tsize\tsha256\n` line per
 * file. The same rule as the control plane's manifestDigest (packages/domain/src/revisions/manifest-digest.ts,
 * which the agent may not import); the cache directory is named by it, so a ref whose files do not hash to
 * its digest is refused before anything is written.
 */
export function manifestDigestOf(files: readonly TArtifactFileRef[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.path === sorted[i - 1]!.path) throw new Error(`Duplicate path in the artifact manifest: ${sorted[i]!.path}`);
  return createHash('sha256')
    .update(sorted.map((f) => `${f.path}\t${f.sizeBytes}\t${f.sha256}\n`).join(''), 'utf8')
    .digest('hex');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

async function statOrNull(p: string) {
  try {
    return await stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

async function defaultDiskSpace(dir: string): Promise<DiskSpace> {
  const s = await statfs(dir);
  return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
}

/** Joins a manifest path under `root`; the contract already refuses `..`, this refuses anything that escapes anyway. */
function inside(root: string, relativePath: string): string {
  const full = path.resolve(root, ...relativePath.split('/'));
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
    throw new Error(`Refusing a manifest path outside the artifact: ${relativePath}`);
  return full;
}

async function drain(body: StreamResponse['body'], limit = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= limit) break;
    }
  } catch {
    // the message is best effort
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

function serverMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message;
  } catch {
    // not a v1 error body
  }
  return text.trim().slice(0, 200) || '(no body)';
}

/** Progress over the whole artifact, reported at most every PROGRESS_INTERVAL_MS. */
class ProgressMeter {
  private lastReport = 0;
  private readonly startedAt = performance.now();
  downloaded = 0;

  constructor(
    private done: number,
    private readonly total: number,
    private readonly report: (p: TCommandProgress) => void,
  ) {}

  add(n: number) {
    this.done += n;
    if (n > 0) this.downloaded += n;
    const t = performance.now();
    if (t - this.lastReport >= PROGRESS_INTERVAL_MS) this.flush(t);
  }

  /** Bytes already on disk from an earlier attempt or process: done, but not fetched by this call. */
  resume(n: number) {
    this.done += n;
  }

  flush(t = performance.now(), phase = 'downloading') {
    this.lastReport = t;
    const seconds = (t - this.startedAt) / 1000;
    this.report({
      phase,
      bytesDone: Math.max(0, this.done),
      bytesTotal: this.total,
      bytesPerSecond: seconds > 0 ? Math.round(this.downloaded / seconds) : 0,
    });
  }
}

/** Resolves when `p` settles (either way); rejects with the signal's reason if it is aborted first. */
function untilSettledOrAborted(p: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** A failure that retrying cannot fix (the server refused, the disk is full, the bytes were wrong twice). */
class PermanentError extends Error {}

export class ModelCache implements ArtifactProvider {
  private readonly dir: string;
  private readonly reserveBytes: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly diskSpace: (dir: string) => Promise<DiskSpace>;
  private readonly now: () => Date;
  /** One ensure per digest at a time in this process; a second caller waits for the first, then finds it complete. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ModelCacheOptions) {
    this.dir = path.resolve(options.dir);
    this.reserveBytes = options.reserveBytes ?? 1024 ** 3;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.maxAttempts = Math.max(1, options.maxAttemptsWithoutProgress ?? 5);
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
    this.diskSpace = options.diskSpace ?? defaultDiskSpace;
    this.now = options.now ?? (() => new Date());
  }

  artifactDir(digest: string): string {
    return path.join(this.dir, 'artifacts', digest);
  }

  private markerPath(digest: string): string {
    return path.join(this.dir, 'artifacts', `${digest}${MARKER_SUFFIX}`);
  }

  private stagingDir(digest: string): string {
    return path.join(this.dir, 'staging', digest);
  }

  /**
   * Makes sure the artifact is complete and verified on local disk and returns its directory. Idempotent:
   * a complete artifact returns at once; a half-finished one (agent killed, connection cut) resumes where
   * it stopped.
   */
  async ensureArtifact(
    refInput: TArtifactRef,
    opts: { signal: AbortSignal; progress: (p: TCommandProgress) => void; bandwidthMbps: number | null },
  ): Promise<EnsureResult> {
    const ref = ZArtifactRef.parse(refInput);
    const computed = manifestDigestOf(ref.files);
    if (computed !== ref.digest)
      throw new PermanentError(`The manifest of ${ref.label} does not hash to its digest ${ref.digest} (got ${computed}); refusing it`);
    for (;;) {
      const earlier = this.inflight.get(ref.digest);
      if (!earlier) break;
      await untilSettledOrAborted(earlier, opts.signal);
    }
    const run = this.ensure(ref, opts);
    this.inflight.set(ref.digest, run);
    try {
      return await run;
    } finally {
      if (this.inflight.get(ref.digest) === run) this.inflight.delete(ref.digest);
    }
  }

  private async readMarker(digest: string): Promise<Marker | null> {
    try {
      const parsed = ZMarker.safeParse(JSON.parse(await readFile(this.markerPath(digest), 'utf8')));
      return parsed.success && parsed.data.digest === digest ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async writeMarker(marker: Marker): Promise<void> {
    const target = this.markerPath(marker.digest);
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(marker), { flush: true });
    await rename(tmp, target);
  }

  /** Complete when the marker says so and every file is still there with its size (someone may have deleted one). */
  private async completeMarker(ref: TArtifactRef): Promise<Marker | null> {
    const marker = await this.readMarker(ref.digest);
    if (!marker) return null;
    const dir = this.artifactDir(ref.digest);
    for (const f of ref.files) {
      const st = await statOrNull(inside(dir, f.path));
      if (!st || st.size !== f.sizeBytes) {
        await rm(this.markerPath(ref.digest), { force: true });
        this.options.log?.warn({ digest: ref.digest, path: f.path }, 'cached artifact lost a file; fetching it again');
        return null;
      }
    }
    return marker;
  }

  private async ensure(
    ref: TArtifactRef,
    opts: { signal: AbortSignal; progress: (p: TCommandProgress) => void; bandwidthMbps: number | null },
  ): Promise<EnsureResult> {
    const dir = this.artifactDir(ref.digest);
    const totalBytes = ref.files.reduce((n, f) => n + f.sizeBytes, 0);
    const existing = await this.completeMarker(ref);
    if (existing) {
      await this.writeMarker({ ...existing, lastUsedAt: this.now().toISOString() });
      opts.progress({ phase: 'cached', bytesDone: totalBytes, bytesTotal: totalBytes });
      return { dir, downloadedBytes: 0, reusedFiles: 0, alreadyComplete: true };
    }
    opts.signal.throwIfAborted();
    // statfs needs the directory to exist: a node's first prefetch creates the cache.
    await mkdir(this.dir, { recursive: true });
    const staging = this.stagingDir(ref.digest);

    // 1. What is already here, and what identical files other cached artifacts can lend by hard link.
    const lendable = await this.lendableFiles(ref.digest);
    let remaining: TArtifactFileRef[] = [];
    const toLink: Array<{ f: TArtifactFileRef; source: string }> = [];
    let doneBytes = 0;
    for (const f of ref.files) {
      const st = await statOrNull(inside(dir, f.path));
      if (st?.isFile() && st.size === f.sizeBytes) {
        doneBytes += f.sizeBytes;
        continue;
      }
      const source = lendable.get(f.sha256);
      if (source && (await statOrNull(source))?.size === f.sizeBytes) toLink.push({ f, source });
      else remaining.push(f);
    }

    // 2. Room for what is left (partials already on disk count as fetched), before anything is written.
    let partialBytes = 0;
    for (const f of remaining) partialBytes += Math.min(f.sizeBytes, (await statOrNull(inside(staging, f.path)))?.size ?? 0);
    const needBytes = remaining.reduce((n, f) => n + f.sizeBytes, 0) - partialBytes;
    await this.makeRoom(needBytes, ref);

    await mkdir(dir, { recursive: true });
    let reusedFiles = 0;
    for (const { f, source } of toLink) {
      const target = inside(dir, f.path);
      try {
        await rm(target, { recursive: true, force: true });
        await mkdir(path.dirname(target), { recursive: true });
        await link(source, target);
        reusedFiles += 1;
        doneBytes += f.sizeBytes;
      } catch (e) {
        // Another file system, links not allowed, or the source was evicted meanwhile: download it instead.
        this.options.log?.warn({ err: (e as Error).message, path: f.path }, 'could not hard-link an identical cached file');
        remaining = [...remaining, f];
      }
    }

    // 3. Download, verify, move into place.
    const meter = new ProgressMeter(doneBytes, totalBytes, opts.progress);
    const mbps = opts.bandwidthMbps ?? this.options.bandwidthMbps ?? null;
    const bucket = mbps ? new TokenBucket(mbpsToBytesPerSecond(mbps)) : null;
    const queue = [...remaining];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) await this.downloadFile(ref, f, { signal: opts.signal, bucket, meter });
    };
    const workers = Array.from({ length: Math.min(this.concurrency, queue.length) }, worker);
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    // 4. The marker, last: from now on the directory is complete and usable.
    const at = this.now().toISOString();
    await this.writeMarker({
      version: 1,
      id: ref.id,
      digest: ref.digest,
      label: ref.label,
      sizeBytes: totalBytes,
      files: ref.files,
      completedAt: at,
      lastUsedAt: at,
    });
    await rm(staging, { recursive: true, force: true });
    meter.flush(performance.now(), 'verified');
    this.options.log?.info(
      { digest: ref.digest, downloadedBytes: meter.downloaded, reusedFiles, files: ref.files.length },
      `artifact ${ref.label} is complete in the model cache`,
    );
    return { dir, downloadedBytes: meter.downloaded, reusedFiles, alreadyComplete: false };
  }

  /** sha256 -> path of a verified file in another complete artifact. */
  private async lendableFiles(except: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const digest of await this.cachedDigests()) {
      if (digest === except) continue;
      const marker = await this.readMarker(digest);
      if (!marker) continue;
      for (const f of marker.files) if (!out.has(f.sha256)) out.set(f.sha256, inside(this.artifactDir(digest), f.path));
    }
    return out;
  }

  /** Every digest with anything on disk: complete, or a directory / staging area without a marker. */
  private async cachedDigests(): Promise<string[]> {
    const names = new Set<string>();
    for (const sub of ['artifacts', 'staging']) {
      let entries: string[] = [];
      try {
        entries = await readdir(path.join(this.dir, sub));
      } catch {
        continue;
      }
      for (const e of entries) {
        const name = e.endsWith(MARKER_SUFFIX) ? e.slice(0, -MARKER_SUFFIX.length) : e;
        if (DIGEST_NAME.test(name)) names.add(name);
      }
    }
    return [...names].sort();
  }

  /** Bytes of a directory tree, counting only files no other artifact links to (what deleting it frees). */
  private async diskBytes(root: string, freeableOnly: boolean): Promise<number> {
    let total = 0;
    let entries;
    try {
      entries = await readdir(root, { withFileTypes: true, recursive: true });
    } catch {
      return 0;
    }
    for (const e of entries) {
      if (!e.isFile()) continue;
      const st = await statOrNull(path.join(e.parentPath, e.name));
      if (st && (!freeableOnly || st.nlink <= 1)) total += st.size;
    }
    return total;
  }

  /**
   * Evicts least-recently-used artifacts that nothing protects until `needBytes` fit with the reserve kept
   * free. Leftovers of abandoned downloads go first, then complete artifacts by last use. When even evicting
   * everything evictable would not make room, nothing is evicted and the download is refused.
   */
  private async makeRoom(needBytes: number, ref: TArtifactRef): Promise<void> {
    const space = await this.diskSpace(this.dir);
    const shortBy = needBytes + this.reserveBytes - space.freeBytes;
    if (shortBy <= 0) return;
    const protectedSet = new Set([...this.options.protectedDigests(), ...this.inflight.keys(), ref.digest]);
    const candidates: Array<{ digest: string; complete: boolean; lastUsed: number; bytes: number }> = [];
    for (const digest of await this.cachedDigests()) {
      if (protectedSet.has(digest)) continue;
      const marker = await this.readMarker(digest);
      const bytes = (await this.diskBytes(this.artifactDir(digest), true)) + (await this.diskBytes(this.stagingDir(digest), true));
      candidates.push({ digest, complete: marker !== null, lastUsed: marker ? Date.parse(marker.lastUsedAt) : 0, bytes });
    }
    candidates.sort((a, b) => Number(a.complete) - Number(b.complete) || a.lastUsed - b.lastUsed);
    const freeable = candidates.reduce((n, c) => n + c.bytes, 0);
    if (freeable < shortBy) {
      const kept = [...protectedSet].filter((d) => d !== ref.digest).map((d) => d.slice(0, 12));
      throw new PermanentError(
        `Not enough disk space in ${this.dir} for ${ref.label}: ${formatBytes(needBytes)} to download, ${formatBytes(space.freeBytes)} free, ` +
          `${formatBytes(this.reserveBytes)} kept in reserve; evicting every unprotected artifact would free only ${formatBytes(freeable)}` +
          (kept.length ? ` (protected: ${kept.join(', ')})` : ''),
      );
    }
    let freed = 0;
    for (const c of candidates) {
      if (freed >= shortBy) break;
      await this.remove(c.digest);
      freed += c.bytes;
      this.options.log?.info(
        { digest: c.digest, bytes: c.bytes, for: ref.digest },
        `evicted ${c.complete ? 'artifact' : 'unfinished download'} to make room`,
      );
    }
  }

  private async remove(digest: string): Promise<void> {
    // Marker first: a crash half-way leaves an incomplete artifact, never a "complete" one with holes.
    await rm(this.markerPath(digest), { force: true });
    await rm(this.artifactDir(digest), { recursive: true, force: true });
    await rm(this.stagingDir(digest), { recursive: true, force: true });
  }

  private async downloadFile(
    ref: TArtifactRef,
    f: TArtifactFileRef,
    ctx: { signal: AbortSignal; bucket: TokenBucket | null; meter: ProgressMeter },
  ): Promise<void> {
    const partial = inside(this.stagingDir(ref.digest), f.path);
    const target = inside(this.artifactDir(ref.digest), f.path);
    await mkdir(path.dirname(partial), { recursive: true });
    await mkdir(path.dirname(target), { recursive: true });
    if (f.sizeBytes === 0) {
      // Nothing to fetch, but the manifest must still be right about it.
      const empty = createHash('sha256').digest('hex');
      if (f.sha256 !== empty) throw new PermanentError(`${f.path}: an empty file cannot have sha256 ${f.sha256}`);
      await writeFile(target, '');
      return;
    }
    const etag = `"${f.sha256}"`;
    let corrupt = 0;
    let attemptsWithoutProgress = 0;
    let counted = 0; // bytes of this file counted in the meter
    const retry = async (why: string, madeProgress: boolean) => {
      attemptsWithoutProgress = madeProgress ? 1 : attemptsWithoutProgress + 1;
      if (attemptsWithoutProgress >= this.maxAttempts)
        throw new PermanentError(`${f.path}: download failed ${attemptsWithoutProgress} times in a row: ${why}`);
      this.options.log?.warn({ path: f.path, attempt: attemptsWithoutProgress }, `artifact file download interrupted (${why}); resuming`);
      await sleep(Math.min(10_000, this.retryBaseDelayMs * 2 ** (attemptsWithoutProgress - 1)), ctx.signal);
    };

    for (;;) {
      ctx.signal.throwIfAborted();
      let have = (await statOrNull(partial))?.size ?? 0;
      if (have > f.sizeBytes) {
        await rm(partial, { force: true });
        have = 0;
      }
      let hash: Hash = createHash('sha256');
      if (have > 0) {
        // The hash must cover the whole file: re-read what an earlier attempt left before appending.
        for await (const chunk of createReadStream(partial, { end: have - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
      }
      ctx.meter.resume(have - counted);
      counted = have;

      let received = 0;
      if (have < f.sizeBytes) {
        let res: StreamResponse;
        try {
          res = await this.options.client.openArtifactFile(ref.id, f.path, { offset: have, etag, signal: ctx.signal });
        } catch (e) {
          ctx.signal.throwIfAborted();
          await retry((e as Error).message, false);
          continue;
        }
        let append = have > 0;
        if (res.status === 200) {
          append = false; // the whole file: start over
          if (have > 0) {
            ctx.meter.add(-counted);
            counted = 0;
            have = 0;
            hash = createHash('sha256');
          }
        } else if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
          if (!m || Number(m[1]) !== have || Number(m[3]) !== f.sizeBytes) {
            res.body.destroy();
            await rm(partial, { force: true });
            await retry(`the server answered a resume with another range (${String(res.headers['content-range'])})`, false);
            continue;
          }
        } else if (res.status === 416) {
          await drain(res.body);
          await rm(partial, { force: true });
          await retry('the server refused the resume range (416); starting the file over', false);
          continue;
        } else {
          const text = await drain(res.body);
          const message = `${f.path}: the control plane answered ${res.status}: ${serverMessage(text)}`;
          if (res.status === 408 || res.status === 429 || res.status >= 500) {
            await retry(message, false);
            continue;
          }
          throw new PermanentError(message);
        }

        const out = createWriteStream(partial, { flags: append ? 'a' : 'w' });
        let writeError: Error | null = null;
        out.on('error', (e) => (writeError = e));
        let streamError: Error | null = null;
        try {
          for await (const chunk of res.body) {
            const buf = chunk as Buffer;
            if (have + received + buf.length > f.sizeBytes) {
              streamError = new Error('the server sent more bytes than the manifest says');
              break;
            }
            if (ctx.bucket) await ctx.bucket.take(buf.length, ctx.signal);
            hash.update(buf);
            received += buf.length;
            ctx.meter.add(buf.length);
            counted += buf.length;
            if (!out.write(buf)) await once(out, 'drain');
            if (writeError) break;
          }
        } catch (e) {
          streamError = e as Error;
        } finally {
          res.body.destroy();
          out.end();
          await once(out, 'close').catch(() => undefined);
        }
        if (writeError) throw new PermanentError(`${f.path}: cannot write to the model cache: ${(writeError as Error).message}`);
        ctx.signal.throwIfAborted();
        if (streamError?.message === 'the server sent more bytes than the manifest says') {
          // Wrong bytes, like a bad sha256: handled below as corruption.
        } else if (have + received < f.sizeBytes) {
          await retry(
            streamError ? streamError.message : `connection closed after ${have + received} of ${f.sizeBytes} bytes`,
            received > 0,
          );
          continue;
        }
      }

      const actual = have + received > f.sizeBytes ? 'too many bytes' : hash.digest('hex');
      if (actual !== f.sha256) {
        await rm(partial, { force: true });
        ctx.meter.add(-counted);
        counted = 0;
        corrupt += 1;
        if (corrupt > 1)
          throw new PermanentError(`${f.path}: sha256 mismatch twice (expected ${f.sha256}, got ${actual}); the bytes were discarded`);
        this.options.log?.warn({ path: f.path, expected: f.sha256, actual }, 'artifact file failed its sha256 check; fetching it again');
        continue;
      }
      await rename(partial, target);
      return;
    }
  }

  /** Removes a cached artifact unless it is protected or being fetched; removing an absent one is a no-op. */
  async evict(digest: string): Promise<{ evicted: boolean; freedBytes: number }> {
    if (!DIGEST_NAME.test(digest)) throw new Error(`Not an artifact digest: ${digest.slice(0, 80)}`);
    if (this.options.protectedDigests().has(digest))
      throw new PermanentError(
        `Artifact ${digest.slice(0, 12)} is protected (the engine serves it or an open command needs it); not evicted`,
      );
    if (this.inflight.has(digest)) throw new PermanentError(`Artifact ${digest.slice(0, 12)} is being fetched; not evicted`);
    const bytes = (await this.diskBytes(this.artifactDir(digest), true)) + (await this.diskBytes(this.stagingDir(digest), true));
    const present = (await this.cachedDigests()).includes(digest);
    if (present) await this.remove(digest);
    return { evicted: present, freedBytes: present ? bytes : 0 };
  }

  /** The cache as the node state report carries it. */
  async report(): Promise<TNodeStateReport['cache']> {
    await mkdir(this.dir, { recursive: true });
    const space = await this.diskSpace(this.dir);
    const artifacts: TNodeStateReport['cache']['artifacts'] = [];
    for (const digest of await this.cachedDigests()) {
      const marker = await this.readMarker(digest);
      artifacts.push(
        marker
          ? { digest, sizeBytes: marker.sizeBytes, complete: true, lastUsedAt: marker.lastUsedAt }
          : {
              digest,
              sizeBytes: (await this.diskBytes(this.artifactDir(digest), false)) + (await this.diskBytes(this.stagingDir(digest), false)),
              complete: false,
              lastUsedAt: null,
            },
      );
    }
    artifacts.sort((a, b) => (b.lastUsedAt ?? '').localeCompare(a.lastUsedAt ?? ''));
    return { totalBytes: space.totalBytes, freeBytes: space.freeBytes, artifacts: artifacts.slice(0, 1000) };
  }
}
