import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { openSchemaEngine, type EngineLogger } from './schema-engine.ts';
import { readMigrationsFolder, writeMigration } from './migrations-folder.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCHEMA_PATH = path.join(repoRoot, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = path.join(repoRoot, 'prisma/migrations');

const NO_FILTERS = { externalTables: [], externalEnums: [] };

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

/**
 * SQL that would bring the migrations up to schema.prisma; empty when they agree.
 * The migrations are replayed on an in-memory PGlite shadow database, so no server is touched.
 */
export async function diffSchemaAgainstMigrations(opts: MigrationPaths = {}): Promise<string> {
  const schemaPath = opts.schemaPath ?? SCHEMA_PATH;
  const schema = await readFile(schemaPath, 'utf8');
  const migrationsList = await readMigrationsFolder(opts.migrationsDir ?? MIGRATIONS_DIR);
  const engine = await openSchemaEngine(schema, new PrismaPGlite(new PGlite()), opts.log);
  try {
    const result = await engine.diff({
      // With no migrations yet the engine cannot tell the connector from a lockfile: diff from empty.
      from: migrationsList.migrationDirectories.length ? { tag: 'migrations', ...migrationsList } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
      script: true,
      exitCode: null,
      shadowDatabaseUrl: null,
      filters: NO_FILTERS,
    } as Parameters<typeof engine.diff>[0]);
    return normaliseScript(result.stdout ?? '');
  } finally {
    engine.free();
  }
}

/** Writes prisma/migrations/<timestamp>_<name>/migration.sql for the current schema change. */
export async function createMigration(name: string, opts: MigrationPaths = {}): Promise<string | null> {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`Migration name must be snake_case letters, digits and underscores, got "${name}"`);
  }
  const migrationsDir = opts.migrationsDir ?? MIGRATIONS_DIR;
  const sql = await diffSchemaAgainstMigrations(opts);
  if (!sql) return null;
  const folder = `${timestamp(new Date())}_${name}`;
  return writeMigration(migrationsDir, folder, `${sql}\n`);
}

function normaliseScript(script: string): string {
  const trimmed = script.trim();
  // The engine prints this comment for an empty diff.
  if (trimmed === '' || trimmed === '-- This is an empty migration.') return '';
  return trimmed;
}

function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
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
