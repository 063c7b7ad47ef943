import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '@fleetplane/fake-hub';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';
import { NetworkPolicyError, STRICT_NETWORK_POLICY, type NetworkPolicy } from '@fleetplane/net';
import { checkRepo } from '../check-repo';
import { LocalDirectoryStore } from '../store/local-directory-store';
import { downloadFiles, type DownloadFilesOptions } from './download-files';
import { DownloadHttpError, DownloadVerificationError, InsufficientDiskError } from './errors';
import type { DownloadProgress } from './progress';

const REPO = 'acme/weights';
const MB = 1024 * 1024;
// The fake Hub listens on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };
const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterSeconds: 2 };
let hub: FakeHub;
let root: string;
let store: LocalDirectoryStore;

beforeAll(async () => {
  hub = await startFakeHub({
    repos: [
      {
        id: REPO,
        commits: [
          {
            title: 'init',
            files: {
              'config.json': '{"model_type":"deepseek_v4"}\n',
              'model-00001-of-00002.safetensors': { sizeBytes: 3 * MB + 17, seed: 'shard-1' },
              'model-00002-of-00002.safetensors': { sizeBytes: 2 * MB, seed: 'shard-2' },
              'copy/model-00002-of-00002.safetensors': { sizeBytes: 2 * MB, seed: 'shard-2' },
            },
          },
        ],
      },
      {
        id: 'acme/private',
        private: true,
        tokens: ['hf_ok'],
        commits: [{ title: 'init', files: { 'w.safetensors': { sizeBytes: 4096, seed: 'p' } } }],
      },
    ],
  });
});
afterAll(() => hub.close());
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hub-download-'));
  store = new LocalDirectoryStore(root, { durable: false });
  hub.clearFaults();
  hub.clearRequestLog();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function manifest(repoId = REPO, accessToken?: string): Promise<{ sha: string; files: TManifestFile[] }> {
  const r = await checkRepo({ network: LOOPBACK, hubUrl: hub.url, repoId, branch: 'main', filePatterns: [], accessToken });
  if (r.status !== 'changed') throw new Error(JSON.stringify(r));
  return { sha: r.headSha, files: r.commits.at(-1)!.files };
}

function opts(m: { sha: string; files: TManifestFile[] }, extra: Partial<DownloadFilesOptions> = {}): DownloadFilesOptions {
  return {
    hubUrl: hub.url,
    repoId: REPO,
    revision: m.sha,
    files: m.files,
    store,
    retry: fastRetry,
    diskMarginBytes: 0,
    network: LOOPBACK,
    ...extra,
  };
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const fileRequests = () => hub.requestLog.filter((e) => e.path.includes('/resolve/') || e.path.startsWith('/_cdn/'));
const cdnRequests = (name: string) =>
  hub.requestLog.filter((e) => e.path.startsWith('/_cdn/') && decodeURIComponent(e.path.split('?')[0]!).endsWith(`/${name}`));

describe('downloadFiles', () => {
  it('downloads nothing from a Hub the network policy refuses (strict by default)', async () => {
    const m = await manifest();
    hub.clearRequestLog();
    const { network: _allowed, ...strictByDefault } = opts(m);
    for (const o of [strictByDefault, opts(m, { network: STRICT_NETWORK_POLICY })]) {
      const err = await downloadFiles(o).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkPolicyError);
      expect((err as Error).message).toMatch(/^refused by network policy: 127\.0\.0\.1 is a loopback address/);
    }
    expect(fileRequests()).toHaveLength(0);
  });

  it('downloads, verifies and returns sha256s and the manifest digest', async () => {
    const m = await manifest();
    hub.clearRequestLog();
    const progress: DownloadProgress[] = [];
    const result = await downloadFiles(opts(m, { onProgress: (p) => progress.push(p), progressIntervalMs: 0 }));
    const real = hub.repos().find((r) => r.id === REPO)!.files;
    expect(result.files.map((f) => f.path)).toEqual(m.files.map((f) => f.path));
    for (const f of result.files) {
      const onDisk = path.join(root, 'acme--weights', m.sha, f.path);
      expect(sha256File(onDisk)).toBe(f.sha256);
      expect(real.find((r) => r.path === f.path)!.sha256).toBe(f.sha256);
      expect(existsSync(`${onDisk}.partial`)).toBe(false);
    }
    expect(result.digest).toBe(manifestDigest(result.files));
    expect(result.artifactKey).toBe(`acme--weights/${m.sha}`);
    // The duplicate shard is linked, not fetched twice.
    expect(result.stats.downloadedFiles).toBe(3);
    expect(hub.requestLog.filter((e) => e.path.includes('model-00002-of-00002')).length).toBe(2); // one redirect + one CDN body
    const a = statSync(path.join(root, 'acme--weights', m.sha, 'model-00002-of-00002.safetensors'));
    const b = statSync(path.join(root, 'acme--weights', m.sha, 'copy/model-00002-of-00002.safetensors'));
    expect(a.ino).toBe(b.ino);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ bytesDone: last.bytesTotal, filesDone: 4, filesTotal: 4, etaSeconds: 0, currentFiles: [] });
    expect(progress.some((p) => p.currentFiles.length > 0 && p.bytesDone < p.bytesTotal)).toBe(true);
    expect(await store.list(result.artifactKey)).toHaveLength(4);
  });

  it('resumes an interrupted transfer from the partial size and verifies the result', async () => {
    const m = await manifest();
    hub.clearRequestLog();
    hub.setFaults({ dropAfterBytes: { bytes: MB, path: 'model-00001-of-00002.safetensors' } });
    const result = await downloadFiles(opts(m, { concurrency: 1 }));
    const bodies = cdnRequests('model-00001-of-00002.safetensors');
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toMatchObject({ range: null, aborted: true, bytesSent: MB });
    // Everything that reached the disk is kept and the retry asks only for the rest. How much had
    // reached the disk when the socket died depends on scheduling: on a loaded machine it can be
    // nothing, and then the retry correctly starts from zero (the deterministic resume-from-partial
    // case is the next test).
    const resumedAt = bodies[1]!.range ? Number(/^bytes=(\d+)-$/.exec(bodies[1]!.range)?.[1]) : 0;
    expect(resumedAt).toBeGreaterThanOrEqual(0);
    expect(resumedAt).toBeLessThanOrEqual(MB);
    expect(bodies[1]).toMatchObject({ status: resumedAt > 0 ? 206 : 200, aborted: false, bytesSent: 3 * MB + 17 - resumedAt });
    expect(result.stats.resumedFiles).toBe(resumedAt > 0 ? 1 : 0);
    const f = result.files.find((x) => x.path === 'model-00001-of-00002.safetensors')!;
    expect(sha256File(path.join(root, result.artifactKey, f.path))).toBe(f.sha256);
  });

  it('resumes a partial left by an earlier run, and restarts from zero when the server ignores Range', async () => {
    const m = await manifest();
    const target = m.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!;
    const body = Buffer.from(await (await fetch(`${hub.url}/${REPO}/resolve/${m.sha}/${target.path}`)).arrayBuffer());
    const partial = path.join(root, 'acme--weights', m.sha, `${target.path}.partial`);
    mkdirSync(path.dirname(partial), { recursive: true });
    writeFileSync(partial, body.subarray(0, 12345));
    hub.clearRequestLog();
    await downloadFiles(opts({ sha: m.sha, files: [target] }));
    expect(cdnRequests(target.path).map((e) => e.range)).toEqual(['bytes=12345-']);

    // A server that answers 200 to a Range request: the body starts at byte 0.
    writeFileSync(partial, body.subarray(0, 999));
    rmSync(path.join(root, 'acme--weights', m.sha, target.path));
    hub.setFaults({ ignoreRange: {} });
    hub.clearRequestLog();
    const logs: string[] = [];
    const r = await downloadFiles(
      opts({ sha: m.sha, files: [target] }, { log: { info: (_o, msg) => logs.push(msg ?? ''), warn: () => undefined } }),
    );
    expect(logs).toContain('server ignored Range; restarting from zero');
    expect(cdnRequests(target.path).map((e) => [e.range, e.status])).toEqual([['bytes=999-', 200]]);
    expect(sha256File(path.join(root, r.artifactKey, target.path))).toBe(target.sha256);
  });

  it('rejects corrupted bytes with DownloadVerificationError and keeps nothing', async () => {
    const m = await manifest();
    hub.setFaults({ corruptByteAt: { offset: 1000, path: 'model-00001-of-00002.safetensors' } });
    const err = await downloadFiles(opts(m, { concurrency: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadVerificationError);
    const v = err as DownloadVerificationError;
    const expected = m.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!.sha256!;
    expect(v.path).toBe('model-00001-of-00002.safetensors');
    expect(v.message).toContain(expected);
    expect(v.message).toContain(v.actual);
    expect(v.actual).not.toBe(expected);
    const dir = path.join(root, 'acme--weights', m.sha);
    expect(existsSync(path.join(dir, 'model-00001-of-00002.safetensors'))).toBe(false);
    expect(existsSync(path.join(dir, 'model-00001-of-00002.safetensors.partial'))).toBe(false);
  });

  it('verifies small (non-LFS) files by git oid', async () => {
    const m = await manifest();
    const cfg = m.files.find((f) => f.path === 'config.json')!;
    const err = await downloadFiles(opts({ sha: m.sha, files: [{ ...cfg, gitOid: '0'.repeat(40) }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadVerificationError);
    expect((err as DownloadVerificationError).algorithm).toBe('git-sha1');
    expect(existsSync(path.join(root, 'acme--weights', m.sha, 'config.json'))).toBe(false);
  });

  it('refuses before any file request when the disk is too small', async () => {
    const m = await manifest();
    const tiny = new LocalDirectoryStore(root, { statfs: async () => ({ bavail: 1000, bsize: 4096, blocks: 100_000 }) });
    hub.clearRequestLog();
    const err = await downloadFiles(opts(m, { store: tiny, diskMarginBytes: MB })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientDiskError);
    const d = err as InsufficientDiskError;
    expect(d.freeBytes).toBe(4_096_000);
    expect(d.toFetchBytes).toBe(m.files.reduce((n, f) => n + f.sizeBytes, 0) - 2 * MB);
    expect(d.neededBytes).toBe(d.toFetchBytes + MB);
    expect(d.message).toContain(String(d.neededBytes));
    expect(d.message).toContain(String(d.freeBytes));
    expect(hub.requestLog).toHaveLength(0);
  });

  it('reuses identical files from an earlier revision without requesting them', async () => {
    const m1 = await manifest();
    const first = await downloadFiles(opts(m1));
    const { sha: sha2 } = await hub.publish(REPO, {
      title: 'new shard 1',
      files: { 'model-00001-of-00002.safetensors': { sizeBytes: 3 * MB + 17, seed: 'shard-1-v2' } },
    });
    const m2 = await manifest();
    expect(m2.sha).toBe(sha2);
    const previous = new Map(first.files.map((f) => [f.sha256, path.join(root, first.artifactKey, f.path)]));
    hub.clearRequestLog();
    const second = await downloadFiles(opts(m2, { reuse: async (sha) => previous.get(sha) ?? null }));
    const requested = fileRequests().map((e) => decodeURIComponent(e.path));
    expect(requested.some((p) => p.endsWith('/model-00001-of-00002.safetensors'))).toBe(true);
    expect(requested.some((p) => p.includes('model-00002-of-00002'))).toBe(false);
    expect(second.stats.reusedFiles).toBe(2);
    const reused = path.join(root, second.artifactKey, 'model-00002-of-00002.safetensors');
    expect(statSync(reused).ino).toBe(
      statSync(previous.get(second.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!.sha256)!).ino,
    );
    expect(second.digest).not.toBe(first.digest);

    // Calling again for the same revision finds every file present and verified: no file requests.
    hub.clearRequestLog();
    const third = await downloadFiles(opts(m2));
    expect(fileRequests()).toHaveLength(0);
    expect(third.stats.presentFiles).toBe(4);
    expect(third.digest).toBe(second.digest);
  });

  it('deletes a tampered final file and downloads it again', async () => {
    const m = await manifest();
    const cfg = m.files.find((f) => f.path === 'config.json')!;
    const r = await downloadFiles(opts({ sha: m.sha, files: [cfg] }));
    const p = path.join(root, r.artifactKey, 'config.json');
    writeFileSync(p, '{"model_type":"tampered"}\n'.padEnd(cfg.sizeBytes, ' ').slice(0, cfg.sizeBytes));
    hub.clearRequestLog();
    const again = await downloadFiles(opts({ sha: m.sha, files: [cfg] }));
    expect(again.stats.downloadedFiles).toBe(1);
    expect(readFileSync(p, 'utf8')).toBe('{"model_type":"deepseek_v4"}\n');
  });

  it('cancels on abort, keeping the partial for a later resume and no final file', async () => {
    const m = await manifest();
    const target = m.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
    hub.setFaults({ bandwidthBytesPerSec: 2 * MB });
    const ctl = new AbortController();
    const run = downloadFiles(
      opts(
        { sha: m.sha, files: [target] },
        { signal: ctl.signal, progressIntervalMs: 0, onProgress: (p) => p.bytesDone > MB / 2 && ctl.abort() },
      ),
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const final = path.join(root, 'acme--weights', m.sha, target.path);
    expect(existsSync(final)).toBe(false);
    const partialSize = statSync(`${final}.partial`).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThan(target.sizeBytes);
    hub.clearFaults();
    hub.clearRequestLog();
    const resumed = await downloadFiles(opts({ sha: m.sha, files: [target] }));
    expect(cdnRequests(target.path).map((e) => e.range)).toEqual([`bytes=${partialSize}-`]);
    expect(resumed.files[0]!.sha256).toBe(target.sha256);
  });

  it('retries 5xx, honours a bandwidth cap, and fails fast on auth errors', async () => {
    const m = await manifest();
    const target = m.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!;
    hub.setFaults({ status5xx: { requests: 2, path: '/_cdn/**' } });
    const t0 = performance.now();
    await downloadFiles(opts({ sha: m.sha, files: [target] }, { bandwidthBytesPerSec: 4 * MB }));
    const seconds = (performance.now() - t0) / 1000;
    expect(cdnRequests(target.path).map((e) => e.status)).toEqual([503, 503, 200]);
    expect(seconds).toBeGreaterThan(0.2); // 2 MiB at 4 MiB/s after a 1 MiB burst

    const p = await manifest('acme/private', 'hf_ok');
    const err = await downloadFiles({ ...opts(p), repoId: 'acme/private' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadHttpError);
    expect((err as DownloadHttpError).status).toBe(401);
    const ok = await downloadFiles({ ...opts(p), repoId: 'acme/private', accessToken: 'hf_ok' });
    expect(ok.files[0]!.sha256).toBe(p.files[0]!.sha256);
  });

  it('validates its input', async () => {
    const m = await manifest();
    await expect(downloadFiles(opts({ sha: 'main', files: m.files }))).rejects.toThrow(/40-hex/);
    await expect(downloadFiles(opts({ sha: m.sha, files: [m.files[0]!, m.files[0]!] }))).rejects.toThrow(/duplicate/);
  });
});
