// Each test run gets its own freshly migrated database, so runs never interfere and nothing needs
// resetting by hand. Migrating with the wasm engine takes seconds, so the migrated schema is kept
// as a template database keyed by a hash of prisma/migrations and cloned per run (milliseconds).
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations, dropDatabase, MIGRATIONS_DIR } from '../migrations';

export const TEST_SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  const dirs = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const dir of dirs) {
    hash.update(dir);
    hash.update(await readFile(path.join(MIGRATIONS_DIR, dir, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 12);
}

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function ensureTemplate(serverUrl: string): Promise<string> {
  const template = `fp_template_${await migrationsHash()}`;
  await withAdmin(serverUrl, async (admin) => {
    // Serialise concurrent test runs building the same template.
    await admin.query('SELECT pg_advisory_lock(727274)');
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate', [template]);
      if (rowCount) return;
      await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      await applyMigrations(withDatabase(serverUrl, template));
      await admin.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock(727274)');
    }
  });
  return template;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'fp_test', serverUrl = TEST_SERVER_URL): Promise<TestDatabase> {
  const template = await ensureTemplate(serverUrl);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withAdmin(serverUrl, (admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = withDatabase(serverUrl, name);
  return { url, name, drop: () => dropDatabase(url) };
}
