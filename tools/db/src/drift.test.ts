import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSchemaAgainstMigrations, SCHEMA_PATH } from './index';

describe('migration drift check', () => {
  it('schema.prisma and prisma/migrations agree', async () => {
    const sql = await diffSchemaAgainstMigrations();
    expect(sql, `schema.prisma has changes no migration covers; run npm run db:migration -- <name>\n${sql}`).toBe('');
  }, 60_000);

  it('detects a schema change that has no migration', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-drift-'));
    const schema = await readFile(SCHEMA_PATH, 'utf8');
    const changed = schema.replace('model Site {', 'model Site {\n  driftProbe String?');
    const schemaPath = path.join(dir, 'schema.prisma');
    await writeFile(schemaPath, changed);
    const sql = await diffSchemaAgainstMigrations({ schemaPath });
    expect(sql).toMatch(/ALTER TABLE "site" ADD COLUMN\s+"driftProbe" TEXT/);
  }, 60_000);
});
