// The agent as operators run it: the esbuild bundle under plain node, the stand-in nvidia-smi from
// tools/, and an in-process v1 control plane. Covers enroll, delivery, restarts, drops and failures.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZTelemetryBatch } from '@fleetplane/contracts';
import { startFakeControlPlane, type FakeControlPlane } from './testing/fake-control-plane';

const FAKE_SMI = new URL('../../../tools/fake-nvidia-smi/bin/nvidia-smi', import.meta.url).pathname;
const AGENT_DIR = new URL('..', import.meta.url).pathname;
const UUID_A = 'GPU-0a5e1c11-2b3c-4d5e-8f90-a1b2c3d4e5f6';
const UUID_B = 'GPU-0a5e1c11-2b3c-4d5e-8f90-a1b2c3d4e5f7';

let work: string;
let bundle: string;
let cp: FakeControlPlane;
let metrics: Server;
let metricsUrl: string;
let smiConfig: string;
let kernelLog: string;

interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
  logs: Array<Record<string, unknown> & { msg: string; level: number }>;
}

function parseLogs(stderr: string): AgentRun['logs'] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AgentRun['logs'][number]);
}

function agentEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FAKE_NVIDIA_SMI_CONFIG: smiConfig,
    FLEETPLANE_AGENT_LOG_LEVEL: 'info',
    ...extra,
  };
}

function runAgent(args: string[], extra: Record<string, string> = {}): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bundle, ...args], { env: agentEnv(extra), timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr, logs: parseLogs(stderr) });
    });
  });
}

const children = new Set<ChildProcess>();

/** A long-running agent; stop() sends SIGTERM and resolves with its exit code and output. */
function startAgent(args: string[], extra: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [bundle, ...args], { env: agentEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    logs: () => parseLogs(stderr),
    stop: async (): Promise<AgentRun> => {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stdout, stderr, logs: parseLogs(stderr) };
    },
  };
}

// Polling waits: vitest's expect.poll, 50 ms steps, up to 15 s (agents collect every few hundred ms here).
const WAIT = { timeout: 15_000, interval: 50 };

/** A fresh enrolled node: its own credential file and queue directory. */
function node(name: string) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const credentialPath = join(dir, 'agent.json');
  const credential = cp.issueCredential(name);
  writeFileSync(credentialPath, JSON.stringify({ server: cp.url, nodeId: name, clusterId: 'cluster-1', credential }), { mode: 0o600 });
  const queueDir = join(dir, 'queue');
  const common = ['--credential-path', credentialPath, '--queue-dir', queueDir, '--nvidia-smi', FAKE_SMI, '--hostname', 'gpu-node-01'];
  return { dir, credential, credentialPath, queueDir, common };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'agent-process-'));
  bundle = join(work, 'fleetplane-agent.mjs');
  await promisify(execFile)(process.execPath, [join(AGENT_DIR, 'build.mjs'), '--outfile', bundle]);
  cp = await startFakeControlPlane({ reportIntervalSeconds: 10 });
  kernelLog = join(work, 'kern.log');
  writeFileSync(kernelLog, '');
  smiConfig = join(work, 'fake-smi.json');
  writeFileSync(
    smiConfig,
    JSON.stringify({
      node: 'gpu-node-01',
      driverVersion: '550.54.15',
      cudaVersion: '12.4',
      kernelLogPath: kernelLog,
      stateDir: join(work, 'fake-smi-state'),
      xidIntervalSeconds: 86_400,
      gpus: [
        {
          uuid: UUID_A,
          name: 'NVIDIA H100 80GB HBM3',
          memoryTotalMib: 81559,
          pciBusId: '00000000:18:00.0',
          powerLimitW: 700,
          profile: 'busy',
        },
        {
          uuid: UUID_B,
          name: 'NVIDIA H100 80GB HBM3',
          memoryTotalMib: 81559,
          pciBusId: '00000000:3B:00.0',
          powerLimitW: 700,
          profile: 'xid',
        },
      ],
    }),
  );
  const prom = readFileSync(new URL('../test/fixtures/vllm_v0_metrics_gpu_cache_usage.prom', import.meta.url), 'utf8');
  metrics = createServer((_req, res) => res.end(prom));
  await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
  metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL'); // only if a test failed half-way
  await cp?.close();
  await new Promise((r) => metrics?.close(r));
  rmSync(work, { recursive: true, force: true });
});

// Batches are attributed to nodes through the credential they were sent with; tests use distinct
// credentials, so filtering by the batch ids a test saw is enough.
const since = (start: number) => cp.batches.slice(start);

describe('enroll', () => {
  it('stores the credential atomically with mode 0600', async () => {
    cp.tokens.set('fpj_good_token_0001', 'valid');
    const credentialPath = join(work, 'enroll', 'etc', 'agent.json');
    const run = await runAgent([
      'enroll',
      '--server',
      cp.url,
      '--token',
      'fpj_good_token_0001',
      '--credential-path',
      credentialPath,
      '--hostname',
      'gpu-node-01',
      '--nvidia-smi',
      FAKE_SMI,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Enrolled as node node-\d+ in cluster cluster-1; credential saved\.\n$/);
    expect(statSync(credentialPath).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(credentialPath, 'utf8'));
    expect(stored).toEqual({
      server: cp.url,
      nodeId: expect.stringMatching(/^node-/),
      clusterId: 'cluster-1',
      credential: expect.stringMatching(/^fpa_/),
      reportIntervalSeconds: 10,
    });
    expect(cp.credentials.has(stored.credential)).toBe(true);
    expect(cp.enrollments.at(-1)).toEqual({
      joinToken: 'fpj_good_token_0001',
      hostname: 'gpu-node-01',
      agentVersion: '0.1.0',
      driverVersion: '550.54.15',
      cudaVersion: '12.4',
    });
    expect(readdirSync(join(work, 'enroll', 'etc'))).toEqual(['agent.json']); // no temp or probe files left

    const again = await runAgent([
      'enroll',
      '--server',
      cp.url,
      '--token',
      'fpj_good_token_0001',
      '--credential-path',
      credentialPath,
      '--hostname',
      'gpu-node-01',
      '--nvidia-smi',
      FAKE_SMI,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`already enrolled as node ${stored.nodeId}`);
  });

  it.each([
    ['used', 'fpj_used_token_0001', /already used/],
    ['expired', 'fpj_expired_tok_001', /expired/],
    ['revoked', 'fpj_revoked_tok_001', /not accepted: it is unknown or was revoked/],
  ] as const)('explains a %s token and writes nothing', async (state, token, message) => {
    cp.tokens.set(token, state);
    const credentialPath = join(work, `enroll-${state}`, 'agent.json');
    const run = await runAgent([
      'enroll',
      '--server',
      cp.url,
      '--token',
      token,
      '--credential-path',
      credentialPath,
      '--hostname',
      'gpu-node-01',
      '--nvidia-smi',
      FAKE_SMI,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(existsSync(credentialPath)).toBe(false);
  });
});

describe('run', () => {
  it('--once posts GPU samples, host facts and Xid events from the stand-in nvidia-smi', async () => {
    const n = node('once');
    const start = cp.batches.length;
    const run = await runAgent(['run', '--once', '--kernel-log', kernelLog, ...n.common]);
    expect(run.code, run.stderr).toBe(0);
    const [batch] = since(start);
    expect(since(start)).toHaveLength(1);
    expect(ZTelemetryBatch.parse(batch)).toEqual(batch);
    expect(batch!.host).toEqual({ hostname: 'gpu-node-01', agentVersion: '0.1.0', driverVersion: '550.54.15', cudaVersion: '12.4' });
    expect(batch!.gpuSamples.map((g) => [g.uuid, g.pciBusId])).toEqual([
      [UUID_A, '00000000:18:00.0'],
      [UUID_B, '00000000:3B:00.0'],
    ]);
    expect(batch!.gpuSamples[0]!.utilizationGpuPct).toBeGreaterThan(0);
    // The xid profile wrote real NVRM lines for GPU B; they are matched to it by PCI id.
    // One burst per window: three Xid 13 lines, or one Xid 79 plus the driver's separate "fallen off the
    // bus" message (reported as its own event, kind fallen_off_bus) after a "GPU at" line.
    const xids = batch!.xidEvents.map((e) => [e.xid, e.kind]);
    expect([
      [
        [13, 'xid'],
        [13, 'xid'],
        [13, 'xid'],
      ],
      [
        [79, 'xid'],
        [79, 'fallen_off_bus'],
      ],
    ]).toContainEqual(xids);
    for (const e of batch!.xidEvents) expect(e).toMatchObject({ pciBusId: '00000000:3B:00.0', gpuUuid: UUID_B });
    expect(batch!.droppedSamples).toBe(0);
    expect(readdirSync(join(n.queueDir, 'pending'))).toEqual([]);

    const second = await runAgent(['run', '--once', '--kernel-log', kernelLog, ...n.common]);
    expect(second.code).toBe(0);
    expect(since(start)[1]!.xidEvents).toEqual([]); // each kernel log line is reported once, across restarts
  });

  it('queues on disk while the server is away, survives a restart, then delivers every batch exactly once and in order', async () => {
    const n = node('outage');
    const start = cp.batches.length;
    const args = ['run', '--interval', '0.4', '--retry-max-seconds', '0.3', ...n.common];
    const first = startAgent(args);
    await expect.poll(() => since(start).length, WAIT).toBeGreaterThanOrEqual(2);
    await cp.stop();
    await expect.poll(() => first.logs().filter((l) => l.msg.startsWith('delivery failed')).length, WAIT).toBeGreaterThanOrEqual(1);
    await expect.poll(() => first.logs().filter((l) => l.msg === 'collected').length, WAIT).toBeGreaterThanOrEqual(6);
    const firstRun = await first.stop();
    expect(firstRun.code).toBe(0);
    const pending = readdirSync(join(n.queueDir, 'pending')).filter((f) => f.endsWith('.json'));
    expect(pending.length).toBeGreaterThanOrEqual(3);

    const second = startAgent(args); // restarted while the server is still down
    await expect.poll(() => second.logs().filter((l) => l.msg === 'collected').length, WAIT).toBeGreaterThanOrEqual(2);
    await cp.start();
    await expect.poll(() => readdirSync(join(n.queueDir, 'pending')).filter((f) => f.endsWith('.json')).length, WAIT).toBe(0);
    const secondRun = await second.stop();
    expect(secondRun.code).toBe(0);
    // A cycle may have queued one more batch just before SIGTERM: it waits on disk for the next start.
    const flush = await runAgent(['run', '--once', ...n.common]);
    expect(flush.code, flush.stderr).toBe(0);

    const runs = [firstRun, secondRun, flush];
    const collected = runs
      .flatMap((r) => r.logs)
      .filter((l) => l.msg === 'collected')
      .map((l) => l.batchId as string);
    const received = since(start);
    // Every collected batch arrived, none twice, in collection order.
    expect(received.map((b) => b.batchId)).toEqual(collected);
    const stamps = received.map((b) => Date.parse(b.gpuSamples[0]!.sampledAt));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
    expect(received.reduce((sum, b) => sum + b.gpuSamples.length, 0)).toBe(collected.length * 2);
    // Steady memory stays well under 80 MB.
    for (const l of runs.flatMap((r) => r.logs).filter((x) => x.msg === 'collected'))
      expect(l.rssBytes as number).toBeLessThan(80 * 1024 * 1024);
  }, 60_000);

  it('drops the oldest batches past --queue-max-bytes and reports them in droppedSamples', async () => {
    const n = node('overflow');
    const start = cp.batches.length;
    const args = ['run', '--once', '--queue-max-bytes', '4096', ...n.common];
    const env = { FLEETPLANE_AGENT_SERVER: `http://127.0.0.1:${cp.port}` };
    await cp.stop();
    try {
      for (let i = 0; i < 3; i++) {
        const run = await runAgent(args, env);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('stay queued in');
      }
    } finally {
      await cp.start();
    }
    const last = await runAgent(args, env);
    expect(last.code, last.stderr).toBe(0);
    const received = since(start);
    const produced = 4 * 2;
    const delivered = received.reduce((sum, b) => sum + b.gpuSamples.length, 0);
    expect(received.length).toBeLessThan(4);
    expect(delivered).toBeGreaterThan(0);
    expect(received[0]!.droppedSamples).toBe(produced - delivered);
    expect(received.slice(1).every((b) => b.droppedSamples === 0)).toBe(true);
    const stamps = received.map((b) => Date.parse(b.gpuSamples[0]!.sampledAt));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  }, 60_000);

  it('--dry-run prints the batch and sends and writes nothing, without a credential', async () => {
    const requests = cp.telemetryRequests.length;
    const queueDir = join(work, 'dry', 'queue');
    const run = await runAgent([
      'run',
      '--dry-run',
      '--once',
      '--nvidia-smi',
      FAKE_SMI,
      '--hostname',
      'gpu-node-01',
      '--credential-path',
      join(work, 'dry', 'none.json'),
      '--queue-dir',
      queueDir,
      '--metrics-url',
      metricsUrl,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const printed = ZTelemetryBatch.parse(JSON.parse(run.stdout));
    expect(printed.gpuSamples).toHaveLength(2);
    expect(printed.engineSamples[0]).toMatchObject({ engine: 'vllm', promptTokensTotal: 148 });
    expect(cp.telemetryRequests.length).toBe(requests);
    expect(existsSync(queueDir)).toBe(false);
  });

  it('keeps reporting engine metrics when nvidia-smi is missing', async () => {
    const n = node('no-driver');
    const start = cp.batches.length;
    const run = await runAgent([
      'run',
      '--once',
      ...n.common,
      '--nvidia-smi',
      join(work, 'missing', 'nvidia-smi'),
      '--metrics-url',
      metricsUrl,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [batch] = since(start);
    expect(batch!.gpuSamples).toEqual([]);
    expect(batch!.engineSamples).toEqual([
      expect.objectContaining({
        engine: 'vllm',
        modelName: 'Qwen/Qwen2.5-Coder-1.5B-Instruct',
        kvCacheUsageFraction: 0,
        generationTokensTotal: 955,
      }),
    ]);
    expect(batch!.host.driverVersion).toBeNull();
    expect(run.logs.some((l) => l.level === 50 && /nvidia-smi not found at .*; other sources keep reporting/.test(l.msg))).toBe(true);
  });

  it('says the credential was revoked and keeps the batch queued', async () => {
    const n = node('revoked');
    cp.credentials.get(n.credential)!.revoked = true;
    const run = await runAgent(['run', '--once', ...n.common]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused this node's credential \(Unknown or revoked node credential\): re-enroll the node/);
    expect(readdirSync(join(n.queueDir, 'pending')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('moves a batch the server refuses to dead-letter and never resends it', async () => {
    const n = node('refused');
    cp.rejectWhen(() => true);
    let refused: AgentRun;
    try {
      refused = await runAgent(['run', '--once', ...n.common]);
    } finally {
      cp.rejectWhen(null);
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/server refused batch [0-9a-f-]{36}: Batch .* refused by test rule; moved to dead-letter/);
    const dead = readdirSync(join(n.queueDir, 'dead-letter'));
    expect(dead.filter((f) => f.endsWith('.error.json'))).toHaveLength(1);
    const reason = JSON.parse(
      readFileSync(
        join(
          n.queueDir,
          'dead-letter',
          dead.find((f) => f.endsWith('.error.json'))!,
        ),
        'utf8',
      ),
    );
    expect(reason).toMatchObject({ status: 400, code: 'invalid_payload', issues: [{ path: 'gpuSamples', message: 'refused' }] });
    const refusedId = dead.find((f) => !f.endsWith('.error.json'))!.slice(17, 53);
    const ok = await runAgent(['run', '--once', ...n.common]);
    expect(ok.code).toBe(0);
    expect(cp.telemetryRequests.filter((r) => r.batchId === refusedId)).toHaveLength(1);
  });

  it("dead-letters a batch naming another node's GPU (403 forbidden) and goes on with the next ones", async () => {
    const n = node('forbidden');
    cp.rejectWhen(() => true, 'forbidden');
    let refused: AgentRun;
    try {
      refused = await runAgent(['run', '--once', ...n.common]);
    } finally {
      cp.rejectWhen(null);
    }
    expect(refused.stderr).toMatch(/server refused batch [0-9a-f-]{36}: .*moved to dead-letter/);
    const dead = readdirSync(join(n.queueDir, 'dead-letter'));
    const reason = JSON.parse(
      readFileSync(
        join(
          n.queueDir,
          'dead-letter',
          dead.find((f) => f.endsWith('.error.json'))!,
        ),
        'utf8',
      ),
    );
    expect(reason).toMatchObject({ status: 403, code: 'forbidden' });
    expect(readdirSync(join(n.queueDir, 'pending')).filter((f) => f.endsWith('.json'))).toHaveLength(0);
    const ok = await runAgent(['run', '--once', ...n.common]);
    expect(ok.code).toBe(0);
  });
});
