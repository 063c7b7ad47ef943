import { createHash } from 'node:crypto';
import { fileDownloadInfo, downloadFile, listCommits, listFiles, modelInfo, pathsInfo, fileExists } from '@huggingface/hub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoRepos } from './demo-repos';
import { gitBlobOid } from './git-hash';
import { startFakeHub, type FakeHub } from './hub';
import { parseSafetensorsHeader } from './content/safetensors';
import { accessSeeds } from './test-seeds';

let hub: FakeHub;
const FLASH = 'deepseek-ai/DeepSeek-V4-Flash';

beforeAll(async () => {
  hub = await startFakeHub({ repos: [...demoRepos(), ...accessSeeds()], treePageSize: 3 });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequestLog();
});

const get = (path: string, init?: RequestInit) => fetch(`${hub.url}${path}`, { redirect: 'manual', ...init });

describe('model info', () => {
  it('serves the fields hub.js and Python read, with blobs metadata', async () => {
    const res = await get(`/api/models/${FLASH}?blobs=true`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { siblings: Array<Record<string, unknown>> };
    const head = hub.repos().find((r) => r.id === FLASH)!;
    expect(body).toMatchObject({ id: FLASH, sha: head.headSha, private: false, gated: false, lastModified: '2026-04-29T14:00:00.000Z' });
    expect(body._id).toMatch(/^[0-9a-f]{24}$/);
    const shard = body.siblings.find((s) => s.rfilename === 'model-00001-of-00002.safetensors')!;
    const file = head.files.find((f) => f.path === shard.rfilename)!;
    expect(shard).toEqual({
      rfilename: shard.rfilename,
      size: file.size,
      blobId: file.oid,
      lfs: { sha256: file.sha256, size: file.size, pointerSize: expect.any(Number) },
    });
    const config = body.siblings.find((s) => s.rfilename === 'config.json')!;
    expect(config.lfs).toBeUndefined();
    expect(body.safetensors).toMatchObject({
      parameters: { BF16: expect.any(Number), F8_E4M3: expect.any(Number), I8: expect.any(Number) },
    });
  });

  it('works through hub.js modelInfo (revision HEAD, a tag and a sha)', async () => {
    const head = hub.repos().find((r) => r.id === FLASH)!;
    const info = await modelInfo({ name: FLASH, hubUrl: hub.url, additionalFields: ['sha', 'filePaths'] });
    expect(info.name).toBe(FLASH);
    expect(info.sha).toBe(head.headSha);
    expect(info.filePaths).toContain('tokenizer_config.json');
    const tagged = await modelInfo({ name: FLASH, hubUrl: hub.url, revision: 'v1.0', additionalFields: ['sha'] });
    expect(tagged.sha).toBe(head.tags['v1.0']);
    const bySha = await modelInfo({ name: FLASH, hubUrl: hub.url, revision: head.commits[1]!.id, additionalFields: ['sha'] });
    expect(bySha.sha).toBe(head.commits[1]!.id);
  });

  it('answers If-None-Match with 304 and no body', async () => {
    const first = await get(`/api/models/${FLASH}/revision/main`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    await first.arrayBuffer();
    const second = await get(`/api/models/${FLASH}/revision/main`, { headers: { 'If-None-Match': etag } });
    expect(second.status).toBe(304);
    expect(await second.text()).toBe('');
    expect(second.headers.get('etag')).toBe(etag);
    await hub.publishDemo(FLASH, 'docs');
    const third = await get(`/api/models/${FLASH}/revision/main`, { headers: { 'If-None-Match': etag } });
    expect(third.status).toBe(200);
    expect(third.headers.get('etag')).not.toBe(etag);
  });

  it('reports unknown repos and revisions with X-Error-Code', async () => {
    const anon = await get('/api/models/nobody/nothing');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('x-error-code')).toBe('RepoNotFound');
    const authed = await get('/api/models/nobody/nothing', { headers: { Authorization: 'Bearer hf_x' } });
    expect(authed.status).toBe(404);
    const rev = await get(`/api/models/${FLASH}/revision/no-such-branch`);
    expect(rev.status).toBe(404);
    expect(rev.headers.get('x-error-code')).toBe('RevisionNotFound');
    expect(rev.headers.get('x-error-message')).toMatch(/no-such-branch/);
    expect(((await rev.json()) as { error: string }).error).toMatch(/Invalid rev id/);
  });
});

describe('tree, paths-info, refs, commits', () => {
  it('lists files with oid, size and lfs through hub.js, following Link pages', async () => {
    const entries = [];
    for await (const e of listFiles({ repo: FLASH, hubUrl: hub.url, recursive: true })) entries.push(e);
    expect(entries.length).toBe(10);
    const pages = hub.requestLog.filter((e) => e.path.includes('/tree/'));
    expect(pages.length).toBe(4); // page size 3
    const shard = entries.find((e) => e.path === 'model-00002-of-00002.safetensors')!;
    expect(shard.lfs?.oid).toMatch(/^[0-9a-f]{64}$/);
    expect(shard.lfs?.size).toBe(shard.size);
    const readme = entries.find((e) => e.path === 'README.md')!;
    expect(readme.lfs).toBeUndefined();
    const text = await (await get(`/${FLASH}/resolve/main/README.md`)).arrayBuffer();
    expect(readme.oid).toBe(gitBlobOid(new Uint8Array(text)));
  });

  it('lists sub-directories non-recursively and 404s missing paths', async () => {
    const top = (await (await get('/api/models/unsloth/DeepSeek-V4-Flash-GGUF/tree/main')).json()) as Array<{ type: string; path: string }>;
    expect(top.filter((e) => e.type === 'directory').map((e) => e.path)).toEqual(['Q4_K_M', 'Q8_0']);
    const sub = (await (await get('/api/models/unsloth/DeepSeek-V4-Flash-GGUF/tree/main/Q8_0')).json()) as Array<{ path: string }>;
    expect(sub.map((e) => e.path)).toEqual(['Q8_0/DeepSeek-V4-Flash-Q8_0.gguf']);
    const missing = await get('/api/models/unsloth/DeepSeek-V4-Flash-GGUF/tree/main/nope');
    expect(missing.headers.get('x-error-code')).toBe('EntryNotFound');
  });

  it('answers paths-info (JSON from hub.js, form from Python) with lastCommit on expand', async () => {
    const head = hub.repos().find((r) => r.id === 'deepseek-ai/DeepSeek-V4-Pro')!;
    const infos = await pathsInfo({
      repo: 'deepseek-ai/DeepSeek-V4-Pro',
      paths: ['tokenizer_config.json', 'missing.txt'],
      expand: true,
      hubUrl: hub.url,
    });
    expect(infos).toHaveLength(1);
    expect(infos[0]!.lastCommit.title).toBe('Fix chat template: drop reasoning content from history');
    expect(infos[0]!.lastCommit.id).toBe(head.commits[1]!.id);
    const form = await get('/api/models/deepseek-ai/DeepSeek-V4-Pro/paths-info/main', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'paths=config.json&paths=README.md&expand=False',
    });
    expect(((await form.json()) as Array<{ path: string }>).map((e) => e.path)).toEqual(['config.json', 'README.md']);
    const bad = await get('/api/models/deepseek-ai/DeepSeek-V4-Pro/paths-info/main', { method: 'POST', body: '{"paths":"x"}' });
    expect(bad.status).toBe(400);
  });

  it('serves refs with branches and tags', async () => {
    const refs = (await (await get(`/api/models/${FLASH}/refs?include_prs=1`)).json()) as Record<string, unknown>;
    const head = hub.repos().find((r) => r.id === FLASH)!;
    expect(refs).toEqual({
      branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: head.headSha }],
      converts: [],
      tags: [{ name: 'v1.0', ref: 'refs/tags/v1.0', targetCommit: head.tags['v1.0'] }],
      pullRequests: [],
    });
  });

  it('lists commits newest first and pages with Link rel="next"', async () => {
    const commits = [];
    for await (const c of listCommits({ repo: 'acme/many', hubUrl: hub.url, batchSize: 3 })) commits.push(c);
    expect(commits.map((c) => c.title)).toEqual(['commit 6', 'commit 5', 'commit 4', 'commit 3', 'commit 2', 'commit 1', 'commit 0']);
    expect(commits[0]!.date.toISOString()).toBe('2026-05-07T00:00:00.000Z');
    expect(commits.every((c) => /^[0-9a-f]{40}$/.test(c.oid))).toBe(true);
    expect(hub.requestLog.filter((e) => e.path.includes('/commits/'))).toHaveLength(3);
  });
});

describe('resolve and CDN', () => {
  it('serves small files directly with git-oid ETag, commit, length and Range', async () => {
    const head = hub.repos().find((r) => r.id === FLASH)!;
    const cfg = head.files.find((f) => f.path === 'config.json')!;
    const headRes = await get(`/${FLASH}/resolve/main/config.json`, { method: 'HEAD' });
    expect(headRes.status).toBe(200);
    expect(headRes.headers.get('etag')).toBe(`"${cfg.oid}"`);
    expect(headRes.headers.get('x-repo-commit')).toBe(head.headSha);
    expect(headRes.headers.get('content-length')).toBe(String(cfg.size));
    expect(headRes.headers.get('accept-ranges')).toBe('bytes');
    const whole = Buffer.from(await (await get(`/${FLASH}/resolve/main/config.json`)).arrayBuffer());
    expect(gitBlobOid(whole)).toBe(cfg.oid);
    const part = await get(`/${FLASH}/resolve/main/config.json`, { headers: { Range: 'bytes=2-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 2-9/${cfg.size}`);
    expect(part.headers.get('content-length')).toBe('8');
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(2, 10))).toBe(true);
    const tail = await get(`/${FLASH}/resolve/main/config.json`, { headers: { Range: `bytes=${cfg.size - 2}-` } });
    expect(await tail.text()).toBe('}\n');
    const bad = await get(`/${FLASH}/resolve/main/config.json`, { headers: { Range: `bytes=${cfg.size}-` } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${cfg.size}`);
  });

  it('redirects LFS files to the CDN with X-Linked-Etag/Size, and the CDN honours Range', async () => {
    const head = hub.repos().find((r) => r.id === FLASH)!;
    const shard = head.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
    const redirect = await get(`/${FLASH}/resolve/main/${shard.path}`, { method: 'HEAD' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('x-linked-etag')).toBe(`"${shard.sha256}"`);
    expect(redirect.headers.get('x-linked-size')).toBe(String(shard.size));
    expect(redirect.headers.get('x-repo-commit')).toBe(head.headSha);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${hub.url}/_cdn/`)).toBe(true);
    const full = await fetch(location);
    const bytes = Buffer.from(await full.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(shard.sha256);
    expect(() => parseSafetensorsHeader(bytes)).not.toThrow();
    const ranged = await fetch(location, { headers: { Range: 'bytes=100-' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-${shard.size - 1}/${shard.size}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100))).toBe(true);
    const forged = await fetch(location.replace(/sig=[0-9a-f]+/, `sig=${'0'.repeat(64)}`));
    expect(forged.status).toBe(403);
    const raw = await get(`/${FLASH}/raw/main/${shard.path}`);
    expect(await raw.text()).toContain(`oid sha256:${shard.sha256}`);
  });

  it('works with hub.js fileDownloadInfo, downloadFile and a ranged slice', async () => {
    const head = hub.repos().find((r) => r.id === FLASH)!;
    const shard = head.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!;
    const info = await fileDownloadInfo({ repo: FLASH, path: shard.path, hubUrl: hub.url });
    expect(info).toMatchObject({ size: shard.size, etag: `"${shard.sha256}"` });
    const blob = (await downloadFile({ repo: FLASH, path: shard.path, hubUrl: hub.url }))!;
    expect(blob.size).toBe(shard.size);
    const whole = Buffer.from(await blob.arrayBuffer());
    expect(createHash('sha256').update(whole).digest('hex')).toBe(shard.sha256);
    hub.clearRequestLog();
    const slice = Buffer.from(await blob.slice(1000, 2000).arrayBuffer());
    expect(slice.equals(whole.subarray(1000, 2000))).toBe(true);
    expect(hub.requestLog.map((e) => e.range)).toContain('bytes=1000-1999');
    expect(await fileDownloadInfo({ repo: FLASH, path: 'nope.bin', hubUrl: hub.url })).toBeNull();
    expect(await fileExists({ repo: FLASH, path: 'config.json', hubUrl: hub.url })).toBe(true);
  });
});

describe('private and gated repos', () => {
  it('hides private repos without a granted token (401 RepoNotFound)', async () => {
    for (const headers of [{}, { Authorization: 'Bearer hf_wrong' }] as Array<Record<string, string>>) {
      const res = await get('/api/models/acme/private-model', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-error-code')).toBe('RepoNotFound');
      const file = await get('/acme/private-model/resolve/main/config.json', { headers });
      expect(file.status).toBe(401);
    }
    await expect(modelInfo({ name: 'acme/private-model', hubUrl: hub.url })).rejects.toMatchObject({ statusCode: 401 });
    const info = await modelInfo({ name: 'acme/private-model', hubUrl: hub.url, accessToken: 'hf_private_ok' });
    expect(info.private).toBe(true);
    const blob = await downloadFile({
      repo: 'acme/private-model',
      path: 'model.safetensors',
      hubUrl: hub.url,
      accessToken: 'hf_private_ok',
    });
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(Buffer.alloc(64, 7));
  });

  it('shows gated metadata to everyone but serves files only to granted tokens', async () => {
    const meta = await get('/api/models/acme/gated-model');
    expect(meta.status).toBe(200);
    expect(((await meta.json()) as { gated: unknown }).gated).toBe('manual');
    const anon = await get('/acme/gated-model/resolve/main/config.json');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('x-error-code')).toBe('GatedRepo');
    const denied = await get('/acme/gated-model/resolve/main/config.json', { headers: { Authorization: 'Bearer hf_not_granted' } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-error-code')).toBe('GatedRepo');
    const ok = await get('/acme/gated-model/resolve/main/config.json', { headers: { Authorization: 'Bearer hf_granted' } });
    expect(ok.status).toBe(200);
    const auto = await get('/acme/auto-gated/resolve/main/config.json', { headers: { Authorization: 'Bearer hf_anyone' } });
    expect(auto.status).toBe(200);
  });
});
