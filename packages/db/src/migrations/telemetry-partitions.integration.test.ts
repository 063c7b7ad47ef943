// The migration that partitions the raw telemetry tables, applied to a database that already holds rows
// in the old (unpartitioned) layout: every row stays readable through the same tables, the old rows
// become the <table>_legacy partition, engine_sample ids keep counting, and new rows find a home.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, dropDatabase, MIGRATIONS_DIR } from './index';

const MIGRATION = '20261203072000_telemetry_partitions';
const base = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const url = new URL(base);
url.pathname = `/fp_migrate_parts_${randomBytes(4).toString('hex')}`;
const databaseUrl = url.toString();
let before: string;
let client: pg.Client;

beforeAll(async () => {
  // The migrations folder as it was before this migration.
  before = await mkdtemp(path.join(tmpdir(), 'fp-migrations-'));
  for (const entry of await readdir(MIGRATIONS_DIR)) {
    if (entry >= MIGRATION && entry !== 'migration_lock.toml') continue;
    await cp(path.join(MIGRATIONS_DIR, entry), path.join(before, entry), { recursive: true });
  }
  await applyMigrations(databaseUrl, { migrationsDir: before });
  client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await dropDatabase(databaseUrl);
  if (before) await rm(before, { recursive: true, force: true });
});

const HOUR = 3_600_000;

describe(`migration ${MIGRATION} on a populated database`, () => {
  it('keeps the old rows readable, attached as the legacy partition, and stores new ones', async () => {
    const q = (text: string, values: unknown[] = []) => client.query(text, values);
    expect((await q(`SELECT relkind FROM pg_class WHERE relname = 'gpu_sample'`)).rows).toEqual([{ relkind: 'r' }]);
    await q(`INSERT INTO site (id, name, region, data_residency, updated_at) VALUES ('s1', 'site', 'eu-west', 'eu', now())`);
    await q(
      `INSERT INTO cluster (id, name, site_id, serving_engine, engine_version, updated_at) VALUES ('c1', 'cl', 's1', 'vllm', '0.11.2', now())`,
    );
    await q(`INSERT INTO node (id, cluster_id, hostname, updated_at) VALUES ('n1', 'c1', 'node-1', now())`);
    await q(
      `INSERT INTO gpu (id, node_id, uuid, index, model, memory_mib, interconnect, pci_bus_id, updated_at)
       VALUES ('g1', 'n1', 'GPU-1', 0, 'NVIDIA H100 80GB HBM3', 81559, 'nvswitch', '00000000:18:00.0', now())`,
    );
    const now = Date.now();
    const times = [now - 50 * HOUR, now - 2 * HOUR, now - 3 * HOUR + 1234].map((t) => new Date(t));
    for (const [i, t] of times.entries()) {
      await q(`INSERT INTO gpu_sample (gpu_id, node_id, sampled_at, temperature_c, error_states) VALUES ('g1', 'n1', $1, $2, $3)`, [
        t,
        60 + i,
        i === 1 ? JSON.stringify([{ field: 'temperature.gpu', marker: '[GPU requires reset]' }]) : null,
      ]);
      await q(`INSERT INTO engine_sample (node_id, cluster_id, sampled_at, running_requests) VALUES ('n1', 'c1', $1, $2)`, [t, i]);
    }
    const oldIds = (await q(`SELECT id::int FROM engine_sample ORDER BY id`)).rows.map((r: { id: number }) => r.id);

    expect(await applyMigrations(databaseUrl)).toContain(MIGRATION);

    // Partitioned now, with the old table as one partition, up to the end of its newest row's hour.
    expect((await q(`SELECT relname, relkind FROM pg_class WHERE relname IN ('gpu_sample', 'engine_sample') ORDER BY 1`)).rows).toEqual([
      { relname: 'engine_sample', relkind: 'p' },
      { relname: 'gpu_sample', relkind: 'p' },
    ]);
    const newestHourEnd = new Date(Math.floor((now - 2 * HOUR) / HOUR) * HOUR + HOUR);
    for (const table of ['gpu_sample', 'engine_sample']) {
      const parts = await q(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = $1::regclass ORDER BY 1`,
        [table],
      );
      expect(parts.rows.map((r: { name: string }) => r.name)).toEqual([`${table}_default`, `${table}_legacy`]);
      const legacyEnd = await q(
        `SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO [(]''([^'']+)''[)]'))[1]::timestamptz AS "to" FROM pg_class c WHERE relname = $1`,
        [`${table}_legacy`],
      );
      expect(legacyEnd.rows[0].to).toEqual(newestHourEnd);
    }

    // Every old row, every column, through the same table.
    const rows = await q(
      `SELECT sampled_at, temperature_c, error_states, tableoid::regclass::text AS part FROM gpu_sample ORDER BY sampled_at`,
    );
    expect(rows.rows).toEqual(
      [...times]
        .sort((a, b) => a.getTime() - b.getTime())
        .map((t) => {
          const i = times.indexOf(t);
          return {
            sampled_at: t,
            temperature_c: 60 + i,
            error_states: i === 1 ? [{ field: 'temperature.gpu', marker: '[GPU requires reset]' }] : null,
            part: 'gpu_sample_legacy',
          };
        }),
    );
    expect((await q(`SELECT id::int FROM engine_sample ORDER BY id`)).rows.map((r: { id: number }) => r.id)).toEqual(oldIds);

    // New rows: a sample after the old rows' last hour goes to DEFAULT until its hourly partition exists;
    // engine ids continue from the old sequence, which survives dropping the old table.
    const later = new Date(newestHourEnd.getTime() + 60_000);
    await q(`INSERT INTO gpu_sample (gpu_id, node_id, sampled_at) VALUES ('g1', 'n1', $1)`, [later]);
    const home = await q(`SELECT tableoid::regclass::text AS part FROM gpu_sample WHERE sampled_at = $1`, [later]);
    expect(home.rows).toEqual([{ part: 'gpu_sample_default' }]);
    await q(`DROP TABLE engine_sample_legacy`);
    const inserted = await q(
      `INSERT INTO engine_sample (node_id, cluster_id, sampled_at) VALUES ('n1', 'c1', $1) RETURNING id::int, tableoid::regclass::text AS part`,
      [later],
    );
    expect(inserted.rows[0].id).toBeGreaterThan(Math.max(...oldIds));
    expect(inserted.rows[0].part).toBe('engine_sample_default');
    // The same sample twice is still refused by the (gpu_id, sampled_at) key across the partitioned table.
    await expect(q(`INSERT INTO gpu_sample (gpu_id, node_id, sampled_at) VALUES ('g1', 'n1', $1)`, [later])).rejects.toThrow(
      /duplicate key/,
    );
  }, 120_000);
});
