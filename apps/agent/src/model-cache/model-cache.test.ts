// The model cache against a loopback HTTP server that serves real bytes the way the control plane's artifact
// route does (Range, If-Range with the sha256 ETag, 206 / 416, 404), and can cut or corrupt a response.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TArtifactRef, TCommandProgress } from '@fleetplane/contracts';
import { AgentApiClient } from '../api/client';
import { evictArtifactHandler, prefetchArtifactHandler } from './handlers';
import { manifestDigestOf, ModelCache, type DiskSpace } from './model-cache';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Served {
  artifactId: string;
  path: string;
  range: string | null;
  ifRange: string | null;
  bytes: number;
}

type Fault = { kind: 'truncate'; after: number } | { kind: 'corrupt' } | { kind: 'status'; status: number } | null;

interface ArtifactServer {
  url: string;
  served: Served[];
  /** Decides per request whether to misbehave (n = how many requests this file has had, from 1). */
  fault: (req: { path: string; n: number }) => Fault;
  close(): Promise<void>;
}

const artifacts = new Map<string, Record<string, Buffer>>();

async function startServer(): Promise<ArtifactServer> {
  const counts = new Map<string, number>();
  const state: ArtifactServer = { url: '', served: [], fault: () => null, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const m = /^\/api\/agent\/v1\/artifacts\/([^/]+)\/files\/(.+)$/.exec(req.url ?? '');
    const files = m ? artifacts.get(decodeURIComponent(m[1]!)) : undefined;
    const filePath = m ? m[2]!.split('/').map(decodeURIComponent).join('/') : '';
    const body = files?.[filePath];
    if (req.headers.authorization !== 'Bearer fpn_test' || !body) {
      res.writeHead(req.headers.authorization ? 404 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: `no file ${filePath}` } }));
      return;
    }
    const n = (counts.get(filePath) ?? 0) + 1;
    counts.set(filePath, n);
    const fault = state.fault({ path: filePath, n });
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'try later' } }));
      return;
    }
    const etag = `"${sha256(body)}"`;
    const range = req.headers.range ?? null;
    const ifRange = (req.headers['if-range'] as string | undefined) ?? null;
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const rm = range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (rm && (ifRange === null || ifRange === etag)) {
      start = Number(rm[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    let out = body.subarray(start);
    if (fault?.kind === 'corrupt') {
      out = Buffer.from(out);
      out[Math.floor(out.length / 2)]! ^= 0xff;
    }
    headers['content-length'] = String(out.length);
    res.writeHead(status, headers);
    if (fault?.kind === 'truncate') {
      const part = out.subarray(0, fault.after);
      state.served.push({ artifactId: m![1]!, path: filePath, range, ifRange, bytes: part.length });
      res.write(part, () => res.destroy());
      return;
    }
    state.served.push({ artifactId: m![1]!, path: filePath, range, ifRange, bytes: out.length });
    res.end(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}

function makeArtifact(id: string, files: Record<string, Buffer>): TArtifactRef {
  artifacts.set(id, files);
  const manifest = Object.entries(files).map(([p, b]) => ({ path: p, sizeBytes: b.length, sha256: sha256(b) }));
  return { id, digest: manifestDigestOf(manifest), label: `test/${id}`, files: manifest };
}

/** A file system of `capacity` bytes holding only the cache: free = capacity - bytes of distinct inodes under it. */
function fakeDisk(capacity: number) {
  return async (dir: string): Promise<DiskSpace> => {
    const seen = new Set<number>();
    let used = 0;
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile()) continue;
      const st = await stat(path.join(e.parentPath, e.name)).catch(() => null);
      if (st && !seen.has(st.ino)) {
        seen.add(st.ino);
        used += st.size;
      }
    }
    return { totalBytes: capacity, freeBytes: Math.max(0, capacity - used) };
  };
}

let server: ArtifactServer;
let root: string;
let client: AgentApiClient;
const progress: TCommandProgress[] = [];
const opts = (signal = new AbortController().signal, bandwidthMbps: number | null = null) => ({
  signal,
  progress: (p: TCommandProgress) => progress.push(p),
  bandwidthMbps,
});

function cacheIn(dir: string, over: Partial<ConstructorParameters<typeof ModelCache>[0]> = {}) {
  return new ModelCache({ dir, client, protectedDigests: () => new Set(), reserveBytes: 0, retryBaseDelayMs: 10, ...over });
}

beforeAll(async () => {
  server = await startServer();
  client = new AgentApiClient({ server: server.url, credential: 'fpn_test' });
  root = await mkdtemp(path.join(tmpdir(), 'fleetplane-model-cache-'));
});

afterEach(() => {
  server.fault = () => null;
  server.served.length = 0;
  progress.length = 0;
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string) {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('ModelCache.ensureArtifact', () => {
  it('downloads every file, verified, into artifacts/<digest>/, writes the marker last, and returns at once the second time', async () => {
    const ref = makeArtifact('a-basic', {
      'config.json': Buffer.from('{"model_type":"deepseek_v4"}'),
      'weights/model-00001-of-00002.safetensors': randomBytes(700_000),
      'weights/model-00002-of-00002.safetensors': randomBytes(300_001),
      'empty.txt': Buffer.alloc(0),
    });
    // A cache directory that does not exist yet (a node's first prefetch), on the real statfs.
    const cache = cacheIn(path.join(await freshDir('basic'), 'not-yet', 'model-cache'));
    const first = await cache.ensureArtifact(ref, opts());
    expect(first.alreadyComplete).toBe(false);
    expect(first.downloadedBytes).toBe(1_000_001 + 28);
    for (const f of ref.files) expect(sha256(await readFile(path.join(first.dir, f.path)))).toBe(f.sha256);
    expect(first.dir.endsWith(`artifacts/${ref.digest}`)).toBe(true);
    expect(existsSync(`${first.dir}.complete.json`)).toBe(true);
    // Nothing but the artifact's own files in the directory the engine is pointed at.
    expect((await readdir(first.dir, { recursive: true })).sort()).toEqual(
      [
        'config.json',
        'empty.txt',
        'weights',
        'weights/model-00001-of-00002.safetensors',
        'weights/model-00002-of-00002.safetensors',
      ].sort(),
    );
    expect(progress.at(-1)).toMatchObject({ phase: 'verified', bytesDone: 1_000_029, bytesTotal: 1_000_029 });

    const requests = server.served.length;
    const again = await cache.ensureArtifact(ref, opts());
    expect(again).toMatchObject({ dir: first.dir, alreadyComplete: true, downloadedBytes: 0 });
    expect(server.served.length).toBe(requests);
  });

  it('resumes a cut connection with Range and If-Range from where the partial file ends', async () => {
    const body = randomBytes(600_000);
    const ref = makeArtifact('a-truncate', { 'big.bin': body });
    server.fault = ({ n }) => (n === 1 ? { kind: 'truncate', after: 200_000 } : null);
    const cache = cacheIn(await freshDir('truncate'));
    const result = await cache.ensureArtifact(ref, opts());
    expect((await readFile(path.join(result.dir, 'big.bin'))).equals(body)).toBe(true);
    expect(server.served).toHaveLength(2);
    const resume = server.served[1]!;
    // The client kept what reached it before the cut (at most what the server wrote; a destroyed socket may drop its tail).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(resume.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(server.served[0]!.bytes);
    expect(resume.ifRange).toBe(`"${sha256(body)}"`);
    // Only the missing tail travelled again.
    expect(resumedAt + resume.bytes).toBe(body.length);
  });

  it('resumes a partial file left by an earlier process (agent killed mid-download)', async () => {
    const body = randomBytes(400_000);
    const ref = makeArtifact('a-killed', { 'shard.bin': body });
    const dir = await freshDir('killed');
    // What a killed agent leaves: the first 150,000 bytes in staging, no marker.
    await mkdir(path.join(dir, 'staging', ref.digest), { recursive: true });
    await writeFile(path.join(dir, 'staging', ref.digest, 'shard.bin'), body.subarray(0, 150_000));
    const cache = cacheIn(dir);
    expect((await cache.report()).artifacts).toEqual([{ digest: ref.digest, sizeBytes: 150_000, complete: false, lastUsedAt: null }]);
    const result = await cache.ensureArtifact(ref, opts());
    expect((await readFile(path.join(result.dir, 'shard.bin'))).equals(body)).toBe(true);
    expect(server.served.map((s) => s.range)).toEqual(['bytes=150000-']);
    expect(existsSync(path.join(dir, 'staging', ref.digest))).toBe(false);
  });

  it('discards corrupted bytes and fetches the file again once', async () => {
    const body = randomBytes(300_000);
    const ref = makeArtifact('a-corrupt-once', { 'w.bin': body });
    server.fault = ({ n }) => (n === 1 ? { kind: 'corrupt' } : null);
    const cache = cacheIn(await freshDir('corrupt-once'));
    const result = await cache.ensureArtifact(ref, opts());
    expect((await readFile(path.join(result.dir, 'w.bin'))).equals(body)).toBe(true);
    // The second fetch starts from zero: a corrupted partial is never resumed.
    expect(server.served.map((s) => s.range)).toEqual([null, null]);
  });

  it('fails naming the file when the bytes are wrong twice, and keeps nothing of it', async () => {
    const ref = makeArtifact('a-corrupt-always', { 'ok.json': Buffer.from('{}'), 'bad/w.bin': randomBytes(100_000) });
    server.fault = ({ path: p }) => (p === 'bad/w.bin' ? { kind: 'corrupt' } : null);
    const dir = await freshDir('corrupt-always');
    const cache = cacheIn(dir, { concurrency: 1 });
    await expect(cache.ensureArtifact(ref, opts())).rejects.toThrow(
      /^bad\/w\.bin: sha256 mismatch twice \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/,
    );
    expect(existsSync(path.join(dir, 'staging', ref.digest, 'bad', 'w.bin'))).toBe(false);
    expect(existsSync(path.join(dir, 'artifacts', ref.digest, 'bad', 'w.bin'))).toBe(false);
    expect(existsSync(path.join(dir, 'artifacts', `${ref.digest}.complete.json`))).toBe(false);
    expect((await cache.report()).artifacts.find((a) => a.digest === ref.digest)?.complete).toBe(false);
  });

  it("retries server errors and fails permanently on a refusal (404) with the server's message", async () => {
    const ref = makeArtifact('a-flaky', { 'x.bin': randomBytes(1000) });
    server.fault = ({ n }) => (n <= 2 ? { kind: 'status', status: 503 } : null);
    await cacheIn(await freshDir('flaky')).ensureArtifact(ref, opts());
    expect(server.served).toHaveLength(1);

    const missing = { ...ref, id: 'a-not-on-server' };
    await expect(cacheIn(await freshDir('refused')).ensureArtifact(missing, opts())).rejects.toThrow(
      'x.bin: the control plane answered 404: no file x.bin',
    );
  });

  it('refuses a ref whose manifest does not hash to its digest before writing anything', async () => {
    const ref = makeArtifact('a-lying', { 'x.bin': randomBytes(10) });
    const dir = await freshDir('lying');
    await expect(cacheIn(dir).ensureArtifact({ ...ref, digest: 'f'.repeat(64) }, opts())).rejects.toThrow(/does not hash to its digest/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reuses identical files of another cached artifact by hard link instead of downloading them', async () => {
    const shared = randomBytes(500_000);
    const a = makeArtifact('a-v1', { 'config.json': Buffer.from('{"v":1}'), 'model.safetensors': shared });
    const b = makeArtifact('a-v2-tokenizer', { 'config.json': Buffer.from('{"v":2}'), 'model.safetensors': shared });
    const cache = cacheIn(await freshDir('reuse'));
    const first = await cache.ensureArtifact(a, opts());
    server.served.length = 0;
    const second = await cache.ensureArtifact(b, opts());
    expect(second.reusedFiles).toBe(1);
    expect(server.served.map((s) => s.path)).toEqual(['config.json']);
    const [sa, sb] = await Promise.all([stat(path.join(first.dir, 'model.safetensors')), stat(path.join(second.dir, 'model.safetensors'))]);
    expect(sb.ino).toBe(sa.ino);
    expect(sb.nlink).toBe(2);
    // Evicting the first keeps the second intact.
    await cache.evict(a.digest);
    expect(sha256(await readFile(path.join(second.dir, 'model.safetensors')))).toBe(sha256(shared));
  });

  it('keeps to the bandwidth cap (token bucket), measured', async () => {
    const body = randomBytes(1_500_000);
    const ref = makeArtifact('a-capped', { 'slow.bin': body });
    const cache = cacheIn(await freshDir('capped'));
    const started = performance.now();
    // 8 Mbit/s = 1,000,000 bytes/s: 1.5 MB needs about 1.4 s after the 100 kB burst.
    await cache.ensureArtifact(ref, opts(undefined, 8));
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(1.3);
    expect(seconds).toBeLessThan(6);
    const rates = progress.filter((p) => p.phase === 'downloading' && (p.bytesDone ?? 0) > 500_000).map((p) => p.bytesPerSecond ?? 0);
    expect(Math.max(...rates)).toBeLessThan(1_300_000);
  });

  it('runs one fetch per artifact at a time: a second caller waits and finds it complete', async () => {
    const ref = makeArtifact('a-twice', { 't.bin': randomBytes(300_000) });
    const cache = cacheIn(await freshDir('twice'));
    const [a, b] = await Promise.all([cache.ensureArtifact(ref, opts()), cache.ensureArtifact(ref, opts())]);
    expect([a.alreadyComplete, b.alreadyComplete].sort()).toEqual([false, true]);
    expect(server.served).toHaveLength(1);
  });

  it('stops when the command is cancelled and leaves a partial to resume', async () => {
    const body = randomBytes(2_000_000);
    const ref = makeArtifact('a-cancel', { 'c.bin': body });
    const dir = await freshDir('cancel');
    const controller = new AbortController();
    const pending = cacheIn(dir).ensureArtifact(ref, opts(controller.signal, 8));
    setTimeout(() => controller.abort(new Error('command cancelled')), 400);
    await expect(pending).rejects.toThrow('command cancelled');
    const partial = await stat(path.join(dir, 'staging', ref.digest, 'c.bin'));
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThan(body.length);
    server.served.length = 0;
    await cacheIn(dir).ensureArtifact(ref, opts());
    expect(server.served[0]!.range).toBe(`bytes=${partial.size}-`);
  });
});

describe('ModelCache disk space and eviction', () => {
  it('refuses a download that cannot fit even after evicting everything unprotected, evicting nothing', async () => {
    const dir = await freshDir('full');
    const old = makeArtifact('a-old', { 'o.bin': randomBytes(300_000) });
    const serving = makeArtifact('a-serving', { 's.bin': randomBytes(300_000) });
    const disk = fakeDisk(1_000_000);
    const protectedDigests = () => new Set([serving.digest]);
    const cache = cacheIn(dir, { diskSpace: disk, protectedDigests });
    await cache.ensureArtifact(old, opts());
    await cache.ensureArtifact(serving, opts());
    const big = makeArtifact('a-big', { 'b.bin': randomBytes(800_000) });
    server.served.length = 0;
    await expect(cache.ensureArtifact(big, opts())).rejects.toThrow(
      /^Not enough disk space in .+ for test\/a-big: 781\.3 KiB to download, [\d.]+ KiB free, 0 B kept in reserve; evicting every unprotected artifact would free only 293\.0 KiB \(protected: [0-9a-f]{12}\)/,
    );
    expect(server.served).toHaveLength(0);
    const left = (await cache.report()).artifacts.map((a) => a.digest).sort();
    expect(left).toEqual([old.digest, serving.digest].sort());
  });

  it('evicts least-recently-used unprotected artifacts to make room, never a protected one', async () => {
    const dir = await freshDir('evict');
    const a = makeArtifact('a-lru-1', { 'a.bin': randomBytes(250_000) });
    const b = makeArtifact('a-lru-2', { 'b.bin': randomBytes(250_000) });
    const c = makeArtifact('a-lru-3', { 'c.bin': randomBytes(250_000) });
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const now = () => new Date((clock += 1000));
    // c is what the engine serves, and the oldest: it must survive anyway.
    const cache = cacheIn(dir, { diskSpace: fakeDisk(1_000_000), protectedDigests: () => new Set([c.digest]), now });
    await cache.ensureArtifact(c, opts());
    await cache.ensureArtifact(a, opts());
    await cache.ensureArtifact(b, opts());
    await cache.ensureArtifact(a, opts()); // a used again: b is now the least recently used unprotected one
    const d = makeArtifact('a-lru-4', { 'd.bin': randomBytes(400_000) });
    await cache.ensureArtifact(d, opts());
    const left = (await cache.report()).artifacts;
    expect(left.map((x) => x.digest).sort()).toEqual([a.digest, c.digest, d.digest].sort());
    expect(left.every((x) => x.complete)).toBe(true);
    await expect(cache.evict(c.digest)).rejects.toThrow(/protected/);
    expect(existsSync(path.join(dir, 'artifacts', c.digest, 'c.bin'))).toBe(true);
  });

  it('reports total, free and every cached artifact with its last use', async () => {
    const dir = await freshDir('report');
    const a = makeArtifact('a-report', { 'r.bin': randomBytes(1234) });
    const cache = cacheIn(dir, { diskSpace: fakeDisk(10_000_000), now: () => new Date('2026-12-03T08:00:00.000Z') });
    expect(await cache.report()).toEqual({ totalBytes: 10_000_000, freeBytes: 10_000_000, artifacts: [] });
    await cache.ensureArtifact(a, opts());
    expect(await cache.report()).toMatchObject({
      totalBytes: 10_000_000,
      artifacts: [{ digest: a.digest, sizeBytes: 1234, complete: true, lastUsedAt: '2026-12-03T08:00:00.000Z' }],
    });
    // The real statfs works on the real directory too.
    const real = await cacheIn(dir).report();
    expect(real.totalBytes).toBeGreaterThan(0);
    expect(real.freeBytes).toBeGreaterThan(0);
  });
});

describe('command handlers', () => {
  it('prefetch ensures the artifact (a re-delivery returns at once); evict removes it and is a no-op when absent', async () => {
    const ref = makeArtifact('a-handlers', { 'h.bin': randomBytes(5000) });
    const cache = cacheIn(await freshDir('handlers'));
    const ctx = { commandId: 'cmd1', delivery: 1, signal: new AbortController().signal, progress: () => undefined };
    const first = await prefetchArtifactHandler(cache)({ artifact: ref, bandwidthMbps: null }, ctx);
    expect(first).toMatchObject({ digest: ref.digest, sizeBytes: 5000, downloadedBytes: 5000, alreadyComplete: false });
    const again = await prefetchArtifactHandler(cache)({ artifact: ref, bandwidthMbps: null }, { ...ctx, delivery: 2 });
    expect(again).toMatchObject({ downloadedBytes: 0, alreadyComplete: true });
    expect(await evictArtifactHandler(cache)({ digest: ref.digest }, ctx)).toEqual({ digest: ref.digest, evicted: true, freedBytes: 5000 });
    expect(await evictArtifactHandler(cache)({ digest: ref.digest }, { ...ctx, delivery: 2 })).toEqual({
      digest: ref.digest,
      evicted: false,
      freedBytes: 0,
    });
  });
});

describe('manifestDigestOf', () => {
  it("matches the control plane's manifestDigest (same vector as packages/domain/src/revisions/manifest-digest.ts)", () => {
    expect(
      manifestDigestOf([
        { path: 'b/model.safetensors', sizeBytes: 10, sha256: 'a'.repeat(64) },
        { path: 'a.json', sizeBytes: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
        { path: 'B.txt', sizeBytes: 3, sha256: 'b'.repeat(64) },
      ]),
    ).toBe('ce07c77a500534511edb2b2824ca007d3c0aa6ff4985f48aada74d05f65c78e9');
  });
});
