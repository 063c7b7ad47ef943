import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ARTIFACT_IDENTITY_FILE, type TEngineLaunchSpec, type TSupervisedEngineKind } from '@fleetplane/contracts';
import { loadArtifactHandler, restartEngineHandler, stopEngineHandler } from './handlers';
import { readDirectoryDigest } from './probe';
import { NodeStateReporter } from './reporter';
import { EngineSupervisor } from './supervisor';

// The engine is the real reference endpoint process, launched by the supervisor as it would launch vLLM.
const CLI = fileURLToPath(new URL('../../../../tools/reference-endpoint/src/cli.ts', import.meta.url));
const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function artifact(ch: string): { dir: string; digest: string } {
  const dir = mkdtempSync(join(tmpdir(), 'engine-artifact-'));
  const digest = ch.repeat(64);
  writeFileSync(join(dir, ARTIFACT_IDENTITY_FILE), JSON.stringify({ id: `art-${ch}`, digest }));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return { dir, digest };
}

async function spec(
  o: {
    kind?: TSupervisedEngineKind;
    env?: Record<string, string>;
    extra?: string[];
    drainSeconds?: number;
    readyTimeoutSeconds?: number;
  } = {},
): Promise<TEngineLaunchSpec> {
  const kind = o.kind ?? 'vllm';
  return {
    kind,
    version: '0.25.0',
    mode: 'child',
    argv: [
      process.execPath,
      '--import',
      'tsx',
      CLI,
      'serve',
      '--engine',
      kind,
      '--artifact-dir',
      '{artifact_dir}',
      '--host',
      '{host}',
      '--port',
      '{port}',
      '--served-model-name',
      'flash',
      '--ttft-ms',
      '1',
      '--itl-ms',
      '1',
      ...(o.extra ?? []),
    ],
    stopArgv: null,
    env: o.env ?? {},
    host: '0.0.0.0',
    port: await freePort(),
    servedModelName: 'flash',
    readyTimeoutSeconds: o.readyTimeoutSeconds ?? 60,
    drainSeconds: o.drainSeconds ?? 5,
  };
}

function supervisor(
  stateDir = mkdtempSync(join(tmpdir(), 'engine-state-')),
  backoff = { initialMs: 200, maxMs: 1000, maxConsecutiveFailures: 3 },
) {
  const s = new EngineSupervisor({ stateDir, log, bindHost: '127.0.0.1', backoff, pollMs: 100, killGraceMs: 1000 });
  cleanups.push(async () => {
    await s.stop(0);
    await rm(stateDir, { recursive: true, force: true });
  });
  return { s, stateDir };
}

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const never = new AbortController().signal;
const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('EngineSupervisor with the reference endpoint', () => {
  it('loads an artifact, reports ready with what the engine serves, and the node state reads it from the engine', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const sp = await spec({ extra: ['--load-ms', '300'] });
    const ready = await s.load(sp, a.dir, a.digest, never);
    expect(ready).toMatchObject({ endpointUrl: `http://127.0.0.1:${sp.port}`, servedModelIds: ['flash'], artifactDigest: a.digest });
    expect(ready.loadSeconds).toBeGreaterThanOrEqual(0.3);
    expect(s.status()).toMatchObject({ state: 'ready', kind: 'vllm', restarts: 0, lastError: null, artifactDir: a.dir });
    const puts: unknown[] = [];
    const reporter = new NodeStateReporter({
      client: { putNodeState: async (r) => (puts.push(r), { kind: 'ok' }) },
      supervisor: s,
      cacheReport: null,
      intervalSeconds: 60,
      log,
    });
    const report = await reporter.build();
    expect(report.engine.served).toMatchObject({ modelIds: ['flash'], root: a.dir, artifactDigest: a.digest, maxModelLen: 1_048_576 });
    expect(report.engine.served?.cacheConfig).toMatchObject({ block_size: '16', engine: '0' });
  });

  it.each(['llamacpp', 'sglang', 'mlx', 'nim'] as const)('waits for readiness the way %s signals it', async (kind) => {
    const { s } = supervisor();
    const a = artifact('c');
    const ready = await s.load(await spec({ kind, extra: ['--load-ms', '500'] }), a.dir, a.digest, never);
    expect(ready.loadSeconds).toBeGreaterThanOrEqual(0.5);
    expect(ready.artifactDigest).toBe(a.digest);
  });

  it('an engine that fails to start fails the load with its crash lines and is not restarted', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const sp = await spec({ env: { REF_FAIL_START: 'ValueError: No available memory for the cache blocks.', REF_LOAD_MS: '100' } });
    await expect(s.load(sp, a.dir, a.digest, never)).rejects.toThrow(
      /exited with code 1 before it was ready[\s\S]*No available memory for the cache blocks/,
    );
    expect(s.status()).toMatchObject({ state: 'failed', restarts: 0 });
    expect(s.status().lastError).toContain('Engine core initialization failed');
    await new Promise((r) => setTimeout(r, 600));
    expect(s.status().state).toBe('failed');
  });

  it('a crash after start is restarted with backoff, and the restart count is reported', async () => {
    const { s, stateDir } = supervisor();
    const a = artifact('a');
    const marker = join(stateDir, 'crashed-once');
    await s.load(await spec({ env: { REF_CRASH_AFTER_MS: '300', REF_CRASH_ONCE_MARKER: marker } }), a.dir, a.digest, never);
    const states: string[] = [];
    s.onChange(() => states.push(s.status().state));
    await waitFor('crash then ready again', () => s.status().restarts === 1 && s.status().state === 'ready');
    expect(states.slice(0, 3)).toEqual(['crashed', 'starting', 'ready']);
    expect(s.status().lastError).toContain('EngineDeadError');
  });

  it('an engine that keeps crashing backs off and gives up as failed', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    // It crashes a second after it is ready: ten readiness polls, so the first load sees it ready even on a
    // loaded machine (at 100 ms, one poll, CI saw it die before the poll and the load fail instead).
    await s.load(await spec({ env: { REF_CRASH_AFTER_MS: '1000' } }), a.dir, a.digest, never);
    const crashedAt: number[] = [];
    s.onChange(() => s.status().state === 'crashed' && crashedAt.push(Date.now()));
    await waitFor('given up', () => s.status().state === 'failed', 40_000);
    expect(s.status().restarts).toBe(3);
    expect(s.status().lastError).toMatch(/^Gave up after 3 failed restarts/);
    // Each attempt crashed again before the supervisor gave up (delays 200, 400, 800 ms).
    expect(crashedAt.length).toBeGreaterThanOrEqual(3);
  });

  it('drains before stopping: vLLM with --shutdown-timeout finishes an in-flight request', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const sp = await spec({ extra: ['--shutdown-timeout', '5', '--ttft-ms', '1000'], drainSeconds: 5 });
    const ready = await s.load(sp, a.dir, a.digest, never);
    const inflight = fetch(`${ready.endpointUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flash', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    await new Promise((r) => setTimeout(r, 200));
    const pid = s.status().pid!;
    await stopEngineHandler(s)({ drainSeconds: 5 }, { commandId: 'c', delivery: 1, signal: never, progress: () => {} });
    expect((await inflight).status).toBe(200);
    expect(s.status().state).toBe('stopped');
    expect(pidAlive(pid)).toBe(false);
  });

  it('an engine that does not drain in time (SGLang waits without limit) is killed with its group after the window', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const ready = await s.load(await spec({ kind: 'sglang', drainSeconds: 1 }), a.dir, a.digest, never);
    // A request that will not finish for a minute (the stand-in's injected latency).
    await fetch(`${ready.endpointUrl}/_ref/degradations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"addedLatencyMs":60000}',
    });
    void fetch(`${ready.endpointUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flash', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const pid = s.status().pid!;
    const t0 = Date.now();
    await s.stop(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(pidAlive(pid)).toBe(false);
  });

  it('recover() adopts the engine a killed agent left running, without restarting it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'engine-state-'));
    const first = new EngineSupervisor({ stateDir, log, bindHost: '127.0.0.1', pollMs: 100 });
    const a = artifact('a');
    await first.load(await spec(), a.dir, a.digest, never);
    const pid = first.status().pid!;
    // The agent dies (kill -9): it forgets the engine, which keeps running in its own process group.
    await first.detach();
    const { s } = supervisor(stateDir);
    await s.recover();
    expect(s.status()).toMatchObject({ state: 'ready', pid, artifactDigest: a.digest, restarts: 0 });
    expect(s.currentReady()?.artifactDigest).toBe(a.digest);
    // It is watched again: a stop stops it.
    await s.stop(0);
    expect(pidAlive(pid)).toBe(false);
  });

  it('recover() restarts an engine that died while the agent was down', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'engine-state-'));
    const first = new EngineSupervisor({ stateDir, log, bindHost: '127.0.0.1', pollMs: 100 });
    const a = artifact('a');
    await first.load(await spec(), a.dir, a.digest, never);
    const pid = first.status().pid!;
    await first.detach();
    process.kill(-pid, 'SIGKILL');
    await waitFor('engine gone', () => !pidAlive(pid));
    const { s } = supervisor(stateDir);
    await s.recover();
    await waitFor('restarted', () => s.status().state === 'ready');
    expect(s.status().restarts).toBe(1);
    expect(s.status().pid).not.toBe(pid);
  });

  it('an engine serving another directory fails the load but keeps running, and reports what it really serves', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const b = artifact('b');
    await expect(s.load(await spec({ env: { REF_SERVE_ARTIFACT_DIR: b.dir } }), a.dir, a.digest, never)).rejects.toThrow(
      `The engine serves artifact ${'b'.repeat(12)}, not the requested ${'a'.repeat(12)}`,
    );
    expect(s.status().state).toBe('ready');
    const reporter = new NodeStateReporter({
      client: { putNodeState: async () => ({ kind: 'ok' }) },
      supervisor: s,
      cacheReport: null,
      intervalSeconds: 60,
      log,
    });
    expect((await reporter.build()).engine.served).toMatchObject({ root: b.dir, artifactDigest: b.digest });
  });
});

describe('artifact identity of a model cache directory', () => {
  it("reads the digest from the cache's completion marker beside <cache>/artifacts/<digest>", async () => {
    const cache = mkdtempSync(join(tmpdir(), 'engine-cache-'));
    cleanups.push(() => rm(cache, { recursive: true, force: true }));
    const digest = 'd'.repeat(64);
    const dir = join(cache, 'artifacts', digest);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(cache, 'artifacts', `${digest}.complete.json`), JSON.stringify({ version: 1, id: 'x', digest, label: 'x' }));
    expect(await readDirectoryDigest(dir)).toBe(digest);
    // A marker naming another digest does not vouch for this directory.
    writeFileSync(
      join(cache, 'artifacts', `${digest}.complete.json`),
      JSON.stringify({ version: 1, id: 'x', digest: 'e'.repeat(64), label: 'x' }),
    );
    expect(await readDirectoryDigest(dir)).toBeNull();
  });
});

describe('engine command handlers', () => {
  it('load_artifact ensures: a second delivery of the same load returns the running engine instead of restarting it', async () => {
    const { s } = supervisor();
    const a = artifact('a');
    const launch = await spec();
    let fetched = 0;
    const provider = { ensureArtifact: async () => (fetched++, { dir: a.dir }) };
    const handler = loadArtifactHandler(s, provider);
    const ref = {
      id: 'art-a',
      digest: a.digest,
      label: 'flash@a FP8',
      files: [{ path: 'config.json', sizeBytes: 1, sha256: 'c'.repeat(64) }],
    };
    const ctx = (delivery: number) => ({ commandId: 'cmd1', delivery, signal: never, progress: () => {} });
    const first = await handler({ artifact: ref, launch, bandwidthMbps: null }, ctx(1));
    const pid = s.status().pid;
    const second = await handler({ artifact: ref, launch, bandwidthMbps: null }, ctx(2));
    expect(second).toEqual(first);
    expect(s.status().pid).toBe(pid);
    expect(fetched).toBe(1);
    // restart_engine re-delivered after it already restarted: not restarted twice.
    const restarted = await restartEngineHandler(s)({ reason: 'test' }, ctx(1));
    const pid2 = s.status().pid;
    expect(pid2).not.toBe(pid);
    await restartEngineHandler(s)({ reason: 'test' }, ctx(2));
    expect(s.status().pid).toBe(pid2);
    expect(restarted).toMatchObject({ artifactDigest: a.digest });
  });
});
