// Applying Prisma migrations without Prisma's native engine: drives the WebAssembly schema engine over
// @prisma/adapter-pg. Lives in the data package because the per-test-run database (./testing) needs it;
// the migration CLI in tools/db (migrate, create, drift) builds on it. Not part of the main entry point,
// so the web app and the worker never load the engine.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { openSchemaEngine, type EngineLogger } from './schema-engine';
import { readMigrationsFolder } from './migrations-folder';

export { openSchemaEngine, type EngineLogger, type SchemaEngine } from './schema-engine';
export { LOCKFILE_CONTENT, readMigrationsFolder, writeMigration } from './migrations-folder';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SCHEMA_PATH = path.join(repoRoot, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = path.join(repoRoot, 'prisma/migrations');

export const NO_FILTERS = { externalTables: [], externalEnums: [] };

export interface MigrationPaths {
  schemaPath?: string;
  migrationsDir?: string;
  log?: EngineLogger;
}

/** Creates the database named in the URL when it does not exist yet (as `prisma migrate deploy` does). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL has no database name: ${redact(databaseUrl)}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Applies every migration not yet recorded in `_prisma_migrations`. Returns the names applied. */
export async function applyMigrations(databaseUrl: string, opts: MigrationPaths = {}): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const schema = await readFile(opts.schemaPath ?? SCHEMA_PATH, 'utf8');
  const migrationsList = await readMigrationsFolder(opts.migrationsDir ?? MIGRATIONS_DIR);
  // Own the pool so it can be closed: freeing the engine does not end its connections, and a
  // lingering connection would block e.g. using the database as a template.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const engine = await openSchemaEngine(schema, new PrismaPg(pool), opts.log);
  try {
    const result = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return result.appliedMigrationNames;
  } finally {
    engine.free();
    await pool.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}
