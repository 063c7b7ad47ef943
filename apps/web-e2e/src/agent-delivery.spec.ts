// The real agent against the real production server, through an outage: the agent (apps/agent bundle,
// reading the stand-in nvidia-smi) enrolls, reports, keeps collecting into its disk queue while the
// server is down, and after the restart every collected sample is stored exactly once. This spec runs
// its OWN production server (apps/web/server.mjs) on the same build against the e2e database, so it can stop and restart it
// without disturbing the server the browser tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrismaClient } from '@fleetplane/db';
import { freePort } from '@fleetplane/dev/local-net';
import { FAKE_NVIDIA_SMI_BIN, fakeH100, fakeNvidiaSmiEnv, writeFakeNvidiaSmiConfig } from '@fleetplane/fake-nvidia-smi';
import { expect, test } from './fixtures/test';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HOST = 'delivery-test-node';

/** Stop the server and anything it started (Next may fork workers): the whole tree. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i += 1) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // exited
    }
  }
  return out;
}

async function stopTree(child: ChildProcess) {
  const tree = processTree(child.pid!).reverse();
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
}

function startServer(port: number): ChildProcess & { output: string } {
  const child = spawn(process.execPath, [path.join(root, 'apps/web/server.mjs'), '-p', String(port), '-H', '127.0.0.1'], {
    cwd: path.join(root, 'apps/web'),
    env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: process.env.E2E_DATABASE_URL, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  }) as ChildProcess & { output: string };
  child.output = '';
  child.stderr!.on('data', (d: Buffer) => (child.output += d.toString()));
  return child;
}

/** Up, or a clear failure with the server's own words when it exits instead. */
async function serverUp(server: ChildProcess & { output: string }, url: string) {
  await until(
    'the server',
    async () => {
      if (server.exitCode !== null) throw new Error(`the web server exited (${server.exitCode}): ${server.output.slice(-500)}`);
      return fetch(`${url}/api/health`).then((r) => r.ok);
    },
    60_000,
  );
}

async function until<T>(what: string, fn: () => Promise<T | null | false | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      // A dead server is a failure now, not a timeout later; a refused connection is just "not yet".
      if (e instanceof Error && e.message.startsWith('the web server exited')) throw e;
      return null;
    });
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('an agent keeps collecting through a server outage and every sample is stored exactly once', async () => {
  test.setTimeout(120_000);
  const databaseUrl = process.env.E2E_DATABASE_URL;
  expect(databaseUrl, 'run through src/run-e2e.ts, which provides E2E_DATABASE_URL').toBeTruthy();
  const prisma = createPrismaClient(databaseUrl!);
  const dir = mkdtempSync(path.join(tmpdir(), 'fp-delivery-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server = startServer(port);
  let agent: ChildProcess | undefined;
  try {
    await serverUp(server, url);
    const cluster = await prisma.cluster.findUniqueOrThrow({ where: { name: 'lab-rtx5090-llamacpp' } });
    const token = `fpj_${randomBytes(32).toString('base64url')}`;
    await prisma.joinToken.create({
      data: {
        clusterId: cluster.id,
        tokenHash: createHash('sha256').update(token).digest('hex'),
        tokenPrefix: token.slice(0, 12),
        expiresAt: new Date(Date.now() + 600_000),
        description: 'delivery e2e',
      },
    });

    const smi = path.join(dir, 'smi.json');
    writeFakeNvidiaSmiConfig(smi, {
      node: HOST,
      driverVersion: '580.95.05',
      cudaVersion: '13.0',
      gpus: [fakeH100(HOST, 0), fakeH100(HOST, 1, 'idle')],
    });
    const bundle = path.join(root, 'apps/agent/dist/fleetplane-agent.mjs');
    const cmd = existsSync(bundle) ? [bundle] : ['--import', 'tsx', path.join(root, 'apps/agent/src/index.ts')];
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fakeNvidiaSmiEnv(smi) };
    const credentialPath = path.join(dir, 'agent.json');
    const queueDir = path.join(dir, 'queue');

    const enrollCode = await new Promise<number | null>((resolve) => {
      spawn(
        process.execPath,
        [
          ...cmd,
          'enroll',
          '--server',
          url,
          '--token',
          token,
          '--credential-path',
          credentialPath,
          '--hostname',
          HOST,
          '--nvidia-smi',
          FAKE_NVIDIA_SMI_BIN,
        ],
        { env, stdio: 'ignore' },
      ).on('exit', resolve);
    });
    expect(enrollCode).toBe(0);
    const node = await prisma.node.findUniqueOrThrow({ where: { clusterId_hostname: { clusterId: cluster.id, hostname: HOST } } });

    // Every batch the agent queues, from its own log: batch id and how many GPU samples it holds.
    const collected = new Map<string, number>();
    let warnings = 0;
    const runArgs = [
      'run',
      '--credential-path',
      credentialPath,
      '--queue-dir',
      queueDir,
      '--nvidia-smi',
      FAKE_NVIDIA_SMI_BIN,
      '--hostname',
      HOST,
    ];
    const watch = (child: ChildProcess) => {
      let buf = '';
      child.stderr!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          try {
            const entry = JSON.parse(line) as { msg?: string; batchId?: string; gpuSamples?: number; level?: number };
            if (entry.msg === 'collected' && entry.batchId) collected.set(entry.batchId, entry.gpuSamples ?? 0);
            if ((entry.level ?? 0) >= 40) warnings += 1;
          } catch {
            // not a log line
          }
        }
      });
    };
    agent = spawn(process.execPath, [...cmd, ...runArgs, '--interval', '0.5', '--retry-max-seconds', '1'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    watch(agent);

    await until('three delivered batches', async () => (await prisma.ingestBatch.count({ where: { nodeId: node.id } })) >= 3);
    // GPUs the node reported for the first time were registered, not dropped.
    expect(await prisma.gpu.count({ where: { nodeId: node.id } })).toBe(2);

    // Outage: the agent keeps collecting into its disk queue and retries with backoff.
    await stopTree(server);
    const queuedAtStop = collected.size;
    await until('five batches queued during the outage', async () => collected.size >= queuedAtStop + 5);
    expect(warnings).toBeGreaterThan(0);

    server = startServer(port);
    await serverUp(server, url);
    await until(
      'the backlog delivered',
      async () => (await prisma.ingestBatch.count({ where: { nodeId: node.id } })) >= queuedAtStop + 5,
      30_000,
    );

    // Stop the agent, then flush whatever it still holds with one `run --once` (exit 0 = queue empty).
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
    const once = spawn(process.execPath, [...cmd, ...runArgs, '--once'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    watch(once);
    expect(await new Promise<number | null>((resolve) => once.on('exit', resolve))).toBe(0);

    const batches = await prisma.ingestBatch.findMany({ where: { nodeId: node.id }, select: { batchId: true } });
    expect(new Set(batches.map((b) => b.batchId))).toEqual(new Set(collected.keys()));
    const expectedSamples = [...collected.values()].reduce((a, b) => a + b, 0);
    expect(expectedSamples).toBeGreaterThanOrEqual(2 * 10);
    expect(await prisma.gpuSample.count({ where: { nodeId: node.id } })).toBe(expectedSamples);
  } finally {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    await stopTree(server);
    await prisma.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
