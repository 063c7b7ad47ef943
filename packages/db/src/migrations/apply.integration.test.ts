import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations, dropDatabase } from './index';

const base = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const url = new URL(base);
url.pathname = `/fp_migrate_${randomBytes(4).toString('hex')}`;
const databaseUrl = url.toString();

afterAll(() => dropDatabase(databaseUrl));

describe('applyMigrations (WebAssembly engine over @prisma/adapter-pg)', () => {
  it('creates the database, applies every migration once, and records them', async () => {
    const first = await applyMigrations(databaseUrl);
    expect(first.length).toBeGreaterThan(0);
    const second = await applyMigrations(databaseUrl);
    expect(second).toEqual([]);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string; finished_at: Date | null }>(
        'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(rows.map((r) => r.migration_name)).toEqual(first);
      expect(rows.every((r) => r.finished_at !== null)).toBe(true);
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      const names = tables.rows.map((r) => r.table_name);
      for (const t of [
        'cluster',
        'node',
        'gpu',
        'gpu_sample',
        'model_revision',
        'artifact',
        'pipeline_run',
        'validation_run',
        'upgrade_proposal',
        'audit_event',
        'alert',
        'join_token',
      ]) {
        expect(names).toContain(t);
      }
    } finally {
      await client.end();
    }
  }, 60_000);
});
