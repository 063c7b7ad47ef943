import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { shelterDirFor } from './embedded-postgres-location';
import { freePort } from './local-net';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './services';

// The machine's own Postgres on 5432 keeps running: the embedded one gets a free port.
const asRoot = process.getuid?.() === 0;
const checkout = mkdtempSync(path.join(os.tmpdir(), 'fp-closed-checkout-'));
const shelterBase = mkdtempSync(path.join(os.tmpdir(), 'fp-shelter-'));
let handle: EmbeddedPostgresHandle | undefined;

afterAll(async () => {
  await handle?.stop();
  rmSync(checkout, { recursive: true, force: true });
  rmSync(shelterBase, { recursive: true, force: true });
});

describe.runIf(asRoot)('embedded PostgreSQL started by root from a directory only root may enter', () => {
  it('runs as the postgres user with its binaries and data in a shelter, instead of failing with EACCES', async () => {
    // As `mktemp -d` makes it: mode 700, owned by root.
    chmodSync(checkout, 0o700);
    chmodSync(shelterBase, 0o755);
    const dataDir = path.join(checkout, '.data');
    mkdirSync(dataDir, { mode: 0o700 });
    const port = await freePort();
    handle = await startEmbeddedPostgres(dataDir, port, { checkoutRoot: checkout, shelterBase });
    expect(handle.shelteredBecause).toMatch(/the postgres user cannot enter/);
    expect(handle.databaseDir).toBe(path.join(shelterDirFor(checkout, shelterBase), 'postgres'));
    const client = new pg.Client({ connectionString: handle.url.replace(/\/fleetplane$/, '/postgres') });
    await client.connect();
    try {
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
      expect(rows[0]!.user).toBe('postgres');
    } finally {
      await client.end();
    }
  }, 120_000);
});
