import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { listCommits } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRepos } from './demo-repos';
import { startFakeHub, type FakeHub } from './hub';
import { parseSafetensorsHeader } from './content/safetensors';

const FLASH = 'deepseek-ai/DeepSeek-V4-Flash';
const received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
    res.end('ok');
  });
});
const dataDir = mkdtempSync(path.join(tmpdir(), 'fake-hub-data-'));
let hub: FakeHub;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  hub = await startFakeHub({ dataDir, webhook: { url: `http://127.0.0.1:${port}/hooks/hf`, secret: 's3cret' } });
});
afterAll(async () => {
  await hub.close();
  await new Promise((r) => receiver.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const repo = (id = FLASH) => hub.repos().find((r) => r.id === id)!;

describe('publishing', () => {
  it('is deterministic: the demo seed gives the same shas on every start', async () => {
    const other = await startFakeHub({ repos: demoRepos() });
    try {
      expect(other.repos().map((r) => r.headSha)).toEqual(hub.repos().map((r) => r.headSha));
    } finally {
      await other.close();
    }
    for (const r of hub.repos()) {
      expect(r.commits.length).toBeGreaterThanOrEqual(3);
      expect(r.files.reduce((n, f) => n + f.size, 0)).toBeLessThan(8 * 1024 * 1024);
    }
  });

  it('creates a commit that moves the branch, extends history and fires the webhook', async () => {
    const before = repo();
    const { sha } = await hub.publish(FLASH, { title: 'Add notes', files: { 'NOTES.md': 'hello\n' } });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const after = repo();
    expect(after.headSha).toBe(sha);
    expect(after.commits[0]).toMatchObject({ id: sha, title: 'Add notes' });
    expect(after.commits[1]!.id).toBe(before.headSha);
    const commits = [];
    for await (const c of listCommits({ repo: FLASH, hubUrl: hub.url })) commits.push(c.oid);
    expect(commits[0]).toBe(sha);
    const hook = received.at(-1)!;
    expect(hook.headers['x-webhook-secret']).toBe('s3cret');
    expect(hook.body).toMatchObject({
      event: { action: 'update', scope: 'repo.content' },
      repo: { type: 'model', name: FLASH, headSha: sha },
      updatedRefs: [{ ref: 'refs/heads/main', oldSha: before.headSha, newSha: sha }],
    });
    expect(hub.webhookLog.at(-1)).toMatchObject({ status: 200, error: null, headSha: sha });
  });

  it('deletes files with null and refuses to delete what does not exist', async () => {
    await hub.publish(FLASH, { title: 'Remove notes', files: { 'NOTES.md': null } });
    expect(repo().files.some((f) => f.path === 'NOTES.md')).toBe(false);
    await expect(hub.publish(FLASH, { title: 'x', files: { 'NOTES.md': null } })).rejects.toThrow(/does not exist/);
  });

  it('publishes over HTTP with zod validation', async () => {
    const url = `${hub.url}/_fake/repos/${FLASH}/commits`;
    const bad = await fetch(url, { method: 'POST', body: JSON.stringify({ files: { '../x': 'a' } }) });
    expect(bad.status).toBe(400);
    const msg = ((await bad.json()) as { error: string }).error;
    expect(msg).toMatch(/title/);
    const ok = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ title: 'Add data', files: { 'extra/data.bin': { base64: Buffer.from('abc').toString('base64') } } }),
    });
    expect(ok.status).toBe(201);
    const { sha } = (await ok.json()) as { sha: string };
    expect(repo().headSha).toBe(sha);
    const missing = await fetch(`${hub.url}/_fake/repos/nobody/none/commits`, {
      method: 'POST',
      body: JSON.stringify({ title: 't', files: { a: 'b' } }),
    });
    expect(missing.status).toBe(404);
  });

  it('makes realistic demo changes of each kind', async () => {
    const base = repo();
    const weights = (await (
      await fetch(`${hub.url}/_fake/repos/${FLASH}/publish-demo`, { method: 'POST', body: JSON.stringify({ kind: 'weights' }) })
    ).json()) as { sha: string; paths: string[] };
    expect(weights.paths).toHaveLength(1);
    expect(weights.paths[0]).toMatch(/\.safetensors$/);
    const changed = repo().files.find((f) => f.path === weights.paths[0])!;
    const old = base.files.find((f) => f.path === weights.paths[0])!;
    expect(changed.sha256).not.toBe(old.sha256);
    expect(changed.size).toBe(old.size);
    const bytes = Buffer.from(await (await fetch(`${hub.url}/${FLASH}/resolve/main/${changed.path}`)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(changed.sha256);
    expect(() => parseSafetensorsHeader(bytes)).not.toThrow();

    const tok = await hub.publishDemo(FLASH, 'tokenizer');
    expect(tok.paths).toEqual(['tokenizer_config.json']);
    const cfg = (await (await fetch(`${hub.url}/${FLASH}/resolve/${tok.sha}/tokenizer_config.json`)).json()) as { chat_template: string };
    expect(cfg.chat_template).toMatch(/^\{#- template revision \d+ -#\}/);

    const docs = await hub.publishDemo(FLASH, 'docs');
    expect(docs.paths).toEqual(['README.md']);
    const gguf = await hub.publishDemo('unsloth/DeepSeek-V4-Flash-GGUF', 'weights');
    expect(gguf.paths[0]).toMatch(/\.gguf$/);
    const badKind = await fetch(`${hub.url}/_fake/repos/${FLASH}/publish-demo`, { method: 'POST', body: JSON.stringify({ kind: 'nope' }) });
    expect(badKind.status).toBe(400);
  });

  it('serves the same repos and history after a restart on the same data dir', async () => {
    const before = hub.repos();
    const again = await startFakeHub({ dataDir });
    try {
      expect(again.repos()).toEqual(before);
    } finally {
      await again.close();
    }
    expect(existsSync(path.join(dataDir, 'journal.jsonl'))).toBe(true);
  });

  it('streams large synthetic files without buffering and caches their digest', async () => {
    const size = 24 * 1024 * 1024 + 13;
    const { sha } = await hub.publish(FLASH, { title: 'Big shard', files: { 'big.safetensors': { sizeBytes: size, seed: 'big-1' } } });
    const file = repo().files.find((f) => f.path === 'big.safetensors')!;
    expect(file).toMatchObject({ size, lfs: true });
    const res = await fetch(`${hub.url}/${FLASH}/resolve/${sha}/big.safetensors`);
    const hash = createHash('sha256');
    let n = 0;
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(c);
      n += c.length;
    }
    expect(n).toBe(size);
    expect(hash.digest('hex')).toBe(file.sha256);
    expect(existsSync(path.join(dataDir, 'synthetic-digests.json'))).toBe(true);
  });
});
