// The worker warns at start about Redis settings that lose jobs, and reads them from INFO where a
// managed Redis refuses CONFIG. Private redis-server processes on free loopback ports, configured
// for each case; real worker processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import '@fleetplane/db/testing';
import { readRedisSettings } from '@fleetplane/queue';
import { waitFor } from '@fleetplane/services/testing';

const CHILD = fileURLToPath(new URL('./testing/worker-child.ts', import.meta.url));
const processes: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startRedis(args: string[]): Promise<string> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'fp-redis-settings-'));
  dirs.push(dir);
  processes.push(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], { stdio: 'ignore' }));
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(async () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }, 10_000);
  return url;
}

async function workerOutput(redisUrl: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: redisUrl,
      FLEETPLANE_QUEUE_PREFIX: `fptest-settings-${randomBytes(4).toString('hex')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    () => out.includes('worker ready'),
    60_000,
    () => `worker did not start: ${out}`,
  );
  child.kill('SIGTERM');
  return out;
}

describe('Redis settings at worker start', () => {
  it('warns when Redis persists nothing and may evict job keys', async () => {
    const url = await startRedis(['--appendonly', 'no', '--save', '', '--maxmemory-policy', 'allkeys-lru']);
    const out = await workerOutput(url);
    expect(out).toMatch(/Redis persists nothing \(appendonly no, save /);
    expect(out).toMatch(/maxmemory-policy is allkeys-lru/);
  }, 90_000);

  it('is quiet for append-only persistence and noeviction, also when CONFIG is refused (read from INFO)', async () => {
    // As managed Redis services do: the CONFIG command is not available.
    const url = await startRedis([
      '--appendonly',
      'yes',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--rename-command',
      'CONFIG',
      '',
    ]);
    const redis = new Redis(url);
    try {
      await expect(redis.call('CONFIG', 'GET', 'appendonly')).rejects.toThrow(/unknown command/i);
      expect(await readRedisSettings(redis)).toEqual({ appendonly: 'yes', save: null, maxmemoryPolicy: 'noeviction' });
    } finally {
      redis.disconnect();
    }
    const out = await workerOutput(url);
    expect(out).not.toMatch(/persists nothing|RDB snapshots only|maxmemory-policy is/);
  }, 90_000);
});
