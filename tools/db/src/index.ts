// Creating migrations and checking drift (dev-time tooling; PGlite as the shadow database). Applying
// them lives in @fleetplane/db/migrations, which the per-test-run database also uses.
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import {
  MIGRATIONS_DIR,
  NO_FILTERS,
  openSchemaEngine,
  readMigrationsFolder,
  SCHEMA_PATH,
  writeMigration,
  type MigrationPaths,
} from '@fleetplane/db/migrations';

export {
  applyMigrations,
  dropDatabase,
  ensureDatabase,
  MIGRATIONS_DIR,
  redact,
  SCHEMA_PATH,
  type MigrationPaths,
} from '@fleetplane/db/migrations';

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
