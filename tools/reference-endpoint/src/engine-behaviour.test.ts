import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ARTIFACT_IDENTITY_FILE } from '@fleetplane/contracts';
import { startReferenceEndpoint, type TReferenceEndpoint } from './server';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const open: TReferenceEndpoint[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});
const start = async (o: Parameters<typeof startReferenceEndpoint>[0]) => {
  const ep = await startReferenceEndpoint(o);
  open.push(ep);
  return ep;
};

function artifactDir(digestChar: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ref-artifact-'));
  writeFileSync(join(dir, ARTIFACT_IDENTITY_FILE), JSON.stringify({ id: `art-${digestChar}`, digest: digestChar.repeat(64), label: 'x' }));
  return dir;
}

describe('readiness per engine', () => {
  it('llama.cpp: /health 503 "Loading model" while loading, then 200 {"status":"ok"}', async () => {
    // Long enough that the first request lands inside the load even on a loaded box (300 ms did not).
    const ep = await start({ engine: 'llamacpp', loadMs: 2_000 });
    const r1 = await fetch(`${ep.url}/health`);
    expect(r1.status).toBe(503);
    expect(await r1.json()).toEqual({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    await ep.loaded;
    const r2 = await fetch(`${ep.url}/health`);
    expect([r2.status, await r2.json()]).toEqual([200, { status: 'ok' }]);
  });
  it('SGLang: /health and /health_generate 503 while starting and while draining', async () => {
    const ep = await start({ engine: 'sglang', loadMs: 2_000 });
    expect((await fetch(`${ep.url}/health_generate`)).status).toBe(503);
    await ep.loaded;
    expect((await fetch(`${ep.url}/health_generate`)).status).toBe(200);
    ep.beginDrain();
    expect((await fetch(`${ep.url}/health`)).status).toBe(503);
  });
  it('mlx: /health 200 at once; a completion waits for the load', async () => {
    const ep = await start({ engine: 'mlx', loadMs: 400, timing: { ttftBaseMs: 1, itlMs: 1 } });
    expect((await fetch(`${ep.url}/health`)).status).toBe(200);
    const t0 = Date.now();
    const res = await fetch(`${ep.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: ep.options.servedModelName, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
    });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });
  it('vLLM: connections refused until loaded (start resolves only then)', async () => {
    const t0 = Date.now();
    const ep = await start({ engine: 'vllm', loadMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect((await fetch(`${ep.url}/health`)).status).toBe(200);
  });
  it('NIM: live/ready split', async () => {
    const ep = await start({ engine: 'nim' });
    expect((await fetch(`${ep.url}/v1/health/live`)).status).toBe(200);
    expect(await (await fetch(`${ep.url}/v1/health/ready`)).json()).toMatchObject({ object: 'health.response', status: 'ready' });
  });
});

describe('artifact identity', () => {
  it('serves the directory as root, its digest as a metrics label, and vllm:cache_config_info', async () => {
    const dir = artifactDir('a');
    const ep = await start({ artifactDir: dir, servedModelName: 'flash' });
    const models = (await (await fetch(`${ep.url}/v1/models`)).json()) as { data: { id: string; root: string }[] };
    expect(models.data[0]).toMatchObject({ id: 'flash', root: dir });
    const metrics = await (await fetch(`${ep.url}/metrics`)).text();
    expect(metrics).toContain(`reference_endpoint:artifact_info{model_name="flash",root="${dir}",artifact_digest="${'a'.repeat(64)}"} 1`);
    expect(metrics).toMatch(/vllm:cache_config_info\{block_size="16",cache_dtype="auto",.*engine="0"\} 1/);
  });
  it('the "serve something else" fault reports the other directory', async () => {
    const other = artifactDir('b');
    const ep = await start({ artifactDir: artifactDir('a'), serveArtifactDir: other });
    expect(ep.served).toEqual({ root: other, digest: 'b'.repeat(64) });
  });
});

function runCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--ready-json', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const url = async () => {
    for (let i = 0; i < 400 && !stdout.includes('listening'); i++) await new Promise((r) => setTimeout(r, 25));
    return (JSON.parse(stdout.split('\n')[0]!) as { url: string }).url;
  };
  return { child, exited, url, out: () => ({ stdout, stderr }) };
}

describe('process faults and shutdown', () => {
  it('fails to start: vLLM crash lines, exit 1', async () => {
    const p = runCli([], { REF_FAIL_START: 'ValueError: No available memory for the cache blocks.', REF_LOAD_MS: '50' });
    expect((await p.exited).code).toBe(1);
    expect(p.out().stderr).toContain('RuntimeError: Engine core initialization failed. See root cause above.');
    expect(p.out().stderr).toContain('No available memory for the cache blocks');
  }, 20_000);
  it('crashes after start with exit 1', async () => {
    const p = runCli(['--crash-after-ms', '200']);
    await p.url();
    expect((await p.exited).code).toBe(1);
    expect(p.out().stderr).toContain('EngineDeadError');
  }, 20_000);
  it('llama.cpp: SIGTERM does not drain, the in-flight request is cut and it exits 0', async () => {
    const p = runCli(['--engine', 'llamacpp', '--ttft-ms', '5000']);
    const url = await p.url();
    await new Promise((r) => setTimeout(r, 100));
    const req = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-ai/DeepSeek-V4-Flash', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    }).then(
      (r) => r.status,
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 150));
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await req).toBe('cut');
  }, 20_000);
  it('mlx: SIGTERM kills at once (only SIGINT is handled)', async () => {
    const p = runCli(['--engine', 'mlx']);
    await p.url();
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
  }, 20_000);
  it('vLLM with --shutdown-timeout waits for an in-flight request, then exits 0', async () => {
    const p = runCli(['--shutdown-timeout', '5', '--ttft-ms', '600']);
    const url = await p.url();
    const req = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-ai/DeepSeek-V4-Flash', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    await new Promise((r) => setTimeout(r, 150));
    p.child.kill('SIGTERM');
    expect((await req).status).toBe(200);
    expect((await p.exited).code).toBe(0);
  }, 20_000);
});
