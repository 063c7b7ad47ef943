import { z } from 'zod';
import { STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { ZManifestFile, type TManifestFile, type TVerifiedFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import { contentKey } from '@fleetplane/domain/revisions/manifest-diff';
import { resolveFileUrl } from '../hub-url';
import { DEFAULT_RETRY, type RetryPolicy } from '../retry';
import { PARTIAL_SUFFIX, type ArtifactStore } from '../store/artifact-store';
import { BandwidthLimiter } from './bandwidth-limiter';
import type { BandwidthBudget, FileSlots } from './limits';
import { downloadOneFile, type DownloadLogger, type FileJob } from './download-file';
import { InsufficientDiskError } from './errors';
import { createHttpTransport } from './http-transport';
import { verifyLocalFile } from './hashing';
import { ProgressTracker, type DownloadProgress } from './progress';

const ZDownloadInput = z.object({
  hubUrl: z
    .string()
    .regex(/^https?:\/\/[^/\s]+/, 'hubUrl must be an http(s) URL')
    .transform((u) => u.replace(/\/+$/, '')),
  repoId: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/, 'repoId looks like owner/name'),
  // A branch could move between files; only a commit sha pins every file to one revision.
  revision: z.string().regex(/^[0-9a-f]{40}$/, 'revision must be a full 40-hex commit sha'),
  files: z.array(ZManifestFile).refine((fs) => new Set(fs.map((f) => f.path)).size === fs.length, 'files contains duplicate paths'),
  artifactKey: z.string().min(1).max(500).optional(),
  accessToken: z.string().startsWith('hf_', "Hub tokens start with 'hf_'").optional(),
  concurrency: z.number().int().min(1).max(64).default(4),
  bandwidthBytesPerSec: z.number().positive().optional(),
  diskMarginBytes: z
    .number()
    .int()
    .nonnegative()
    .default(512 * 1024 * 1024),
  stallTimeoutMs: z.number().int().min(100).default(60_000),
  progressIntervalMs: z.number().int().min(0).default(500),
  verifyExisting: z.enum(['sha256', 'size']).default('sha256'),
});

export interface DownloadFilesOptions extends z.input<typeof ZDownloadInput> {
  store: ArtifactStore;
  /** Share one limiter across calls (e.g. per cluster); overrides bandwidthBytesPerSec. */
  limiter?: BandwidthBudget;
  /** Share a cap on files fetched at once across calls (e.g. per cluster), on top of `concurrency`. */
  slots?: FileSlots;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Path of an identical, already verified file with this sha256 (e.g. from a previous revision), or null. */
  reuse?: (sha256: string) => Promise<string | null>;
  log?: DownloadLogger;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  /** Where files may be fetched from (the Hub and every redirect hop); strict when not given. */
  network?: NetworkPolicy;
  /** Host name resolver (tests); the system resolver by default. */
  resolve?: Resolver;
}

export interface DownloadResult {
  /** In the order of the input manifest. */
  files: TVerifiedFile[];
  /** manifestDigest(files): what approvals bind to. */
  digest: string;
  artifactKey: string;
  stats: {
    fetchedBytes: number;
    downloadedFiles: number;
    resumedFiles: number;
    reusedFiles: number;
    presentFiles: number;
    durationMs: number;
  };
}

type Source =
  | { kind: 'present'; path: string; sha256: string }
  | { kind: 'reuse'; path: string; sha256: string }
  | { kind: 'download'; partialBytes: number };

interface Group {
  files: TManifestFile[];
  source: Source;
}

export function defaultArtifactKey(repoId: string, revision: string): string {
  return `${repoId.replace('/', '--')}/${revision}`;
}

async function runPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Downloads the files of one revision into `store` under `artifactKey`, verified and resumable.
 * Order of business: plan (what is already present, reusable or partial) -> disk check -> download
 * with bounded concurrency -> link duplicates -> digest. Nothing unverified is ever left as a final file.
 */
export async function downloadFiles(options: DownloadFilesOptions): Promise<DownloadResult> {
  const started = performance.now();
  const input = ZDownloadInput.parse(options);
  const { store } = options;
  const key = input.artifactKey ?? defaultArtifactKey(input.repoId, input.revision);
  const outer = options.signal;
  const log = options.log;

  // Identical content under several paths is fetched once and linked.
  const byContent = new Map<string, TManifestFile[]>();
  for (const f of input.files) {
    const k = contentKey(f);
    byContent.set(k, [...(byContent.get(k) ?? []), f]);
  }

  const groups: Group[] = [];
  for (const files of byContent.values()) {
    outer?.throwIfAborted();
    groups.push({ files, source: await planGroup(files, key, store, input.verifyExisting, options.reuse, outer, log) });
  }

  const toFetch = groups.reduce((n, g) => (g.source.kind === 'download' ? n + g.files[0]!.sizeBytes - g.source.partialBytes : n), 0);
  const { freeBytes } = await store.statfs();
  const needed = toFetch + input.diskMarginBytes;
  if (toFetch > 0 && freeBytes < needed) throw new InsufficientDiskError(store.root, needed, freeBytes, toFetch, input.diskMarginBytes);

  const progress = new ProgressTracker(
    input.files.reduce((n, f) => n + f.sizeBytes, 0),
    input.files.length,
    options.onProgress,
    input.progressIntervalMs,
  );
  const limiter = options.limiter ?? (input.bandwidthBytesPerSec ? new BandwidthLimiter(input.bandwidthBytesPerSec) : null);
  const transport = createHttpTransport({
    guard: { policy: options.network ?? STRICT_NETWORK_POLICY, ...(options.resolve ? { resolve: options.resolve } : {}) },
    maxSockets: input.concurrency + 1,
    headTimeoutMs: input.stallTimeoutMs,
  });
  const internal = new AbortController();
  const signal = outer ? AbortSignal.any([outer, internal.signal]) : internal.signal;
  const sha256ByPath = new Map<string, string>();
  const stats = { fetchedBytes: 0, downloadedFiles: 0, resumedFiles: 0, reusedFiles: 0, presentFiles: 0, durationMs: 0 };
  let firstError: unknown = null;

  const placeAll = async (group: Group, sourcePath: string, sha256: string) => {
    for (const f of group.files) {
      const target = store.pathFor(key, f.path);
      if (target !== sourcePath) await store.link(sourcePath, target);
      sha256ByPath.set(f.path, sha256);
      progress.finish(f.path);
    }
  };

  const work = async (group: Group) => {
    if (signal.aborted) return;
    const primary = group.files[0]!;
    try {
      if (group.source.kind !== 'download') {
        for (const f of group.files) progress.addExisting(f.sizeBytes);
        if (group.source.kind === 'present') stats.presentFiles += group.files.length;
        else stats.reusedFiles += group.files.length;
        await placeAll(group, group.source.path, group.source.sha256);
        return;
      }
      const finalPath = store.pathFor(key, primary.path);
      const job: FileJob = {
        file: primary,
        url: resolveFileUrl(input.hubUrl, input.repoId, input.revision, primary.path),
        finalPath,
        partialPath: finalPath + PARTIAL_SUFFIX,
      };
      const release = options.slots ? await options.slots.acquire(signal) : null;
      let result: Awaited<ReturnType<typeof downloadOneFile>>;
      try {
        progress.start(primary.path);
        result = await downloadOneFile(job, {
          transport,
          headers: input.accessToken ? { Authorization: `Bearer ${input.accessToken}` } : {},
          store,
          limiter,
          progress,
          retry: { ...DEFAULT_RETRY, ...options.retry },
          signal,
          stallTimeoutMs: input.stallTimeoutMs,
          log,
          random: options.random,
        });
      } finally {
        release?.();
      }
      stats.fetchedBytes += result.fetchedBytes;
      stats.downloadedFiles++;
      if (result.resumedFrom > 0) stats.resumedFiles++;
      log?.info({ path: primary.path, bytes: primary.sizeBytes, resumedFrom: result.resumedFrom }, 'file verified');
      for (const dup of group.files.slice(1)) progress.addExisting(dup.sizeBytes);
      await placeAll(group, finalPath, result.sha256);
    } catch (err) {
      progress.stop(primary.path);
      firstError ??= err;
      // One bad file fails the revision: stop the others (their partials stay for a resume).
      internal.abort(err);
    }
  };

  // Local work first (no network), then downloads with bounded concurrency.
  try {
    await runPool(
      groups.filter((g) => g.source.kind !== 'download'),
      1,
      work,
    );
    await runPool(
      groups.filter((g) => g.source.kind === 'download'),
      input.concurrency,
      work,
    );
  } finally {
    transport.close();
  }
  if (outer?.aborted) throw outer.reason ?? new DOMException('The download was aborted', 'AbortError');
  if (firstError) throw firstError;

  progress.emit(true);
  const files = input.files.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes, sha256: sha256ByPath.get(f.path)! }));
  stats.durationMs = Math.round(performance.now() - started);
  return { files, digest: manifestDigest(files), artifactKey: key, stats };
}

async function planGroup(
  files: TManifestFile[],
  key: string,
  store: ArtifactStore,
  verifyExisting: 'sha256' | 'size',
  reuse: DownloadFilesOptions['reuse'],
  signal: AbortSignal | undefined,
  log: DownloadLogger | undefined,
): Promise<Source> {
  const primary = files[0]!;
  for (const f of files) {
    const final = store.pathFor(key, f.path);
    const existing = await store.exists(final);
    if (!existing) continue;
    if (existing.sizeBytes === primary.sizeBytes) {
      if (verifyExisting === 'size' && primary.sha256) return { kind: 'present', path: final, sha256: primary.sha256 };
      const sha256 = await verifyLocalFile(final, primary, signal);
      if (sha256) return { kind: 'present', path: final, sha256 };
    }
    // Never keep a final file that does not match the manifest.
    log?.warn({ path: f.path }, 'existing file does not match the manifest; deleting it');
    await store.remove(final);
  }
  if (primary.sha256 && reuse) {
    const candidate = await reuse(primary.sha256);
    const found = candidate ? await store.exists(candidate) : null;
    if (candidate && found?.sizeBytes === primary.sizeBytes) return { kind: 'reuse', path: candidate, sha256: primary.sha256 };
    if (candidate) log?.warn({ path: primary.path, candidate }, 'reuse candidate is missing or has the wrong size; downloading instead');
  }
  const partial = await store.exists(store.pathFor(key, primary.path) + PARTIAL_SUFFIX);
  return { kind: 'download', partialBytes: partial && partial.sizeBytes <= primary.sizeBytes ? partial.sizeBytes : 0 };
}
