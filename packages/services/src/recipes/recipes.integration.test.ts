// Built-in recipes are recorded as version 1 the first time a transaction resolves them (a run planning its
// builds, the Models page listing build targets). Two transactions doing it at once must both get that row:
// a unique violation inside a transaction would abort it, and its next read fails with 25P02.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase, type TestDatabase } from '@fleetplane/db/testing';
import { resolveRecipe } from './recipes.service';

// Its own database: the run's shared one may have recorded every built-in already, which skips the insert.
let db: TestDatabase;
let prisma: PrismaClient;
beforeAll(async () => {
  db = await createTestDatabase('fp_recipes');
  prisma = createPrismaClient(db.url, { max: 4 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

it('two transactions recording the same built-in at once both get its version 1', async () => {
  expect(await prisma.quantRecipe.count({ where: { name: 'bf16' } })).toBe(0);
  const first = prisma.$transaction(
    async (tx) => {
      const r = await resolveRecipe(tx, 'bf16');
      await sleep(300);
      return r;
    },
    { timeout: 10_000 },
  );
  await sleep(50);
  // This insert waits on the first transaction's row, then meets the conflict once that one commits.
  const second = prisma.$transaction(
    async (tx) => {
      const r = await resolveRecipe(tx, 'bf16');
      await tx.quantRecipe.count();
      return r;
    },
    { timeout: 10_000 },
  );
  const [a, b] = await Promise.all([first, second]);
  expect(b.id).toBe(a.id);
  expect(b.version).toBe(1);
  expect(await prisma.quantRecipe.count({ where: { name: 'bf16' } })).toBe(1);
});
