// The row and key locks on real Postgres: a second transaction waits for (or, with skipLocked, steps
// around) the first, and a missing row is reported rather than silently "locked".
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '@fleetplane/db';
import { makeNode, testDeps } from '../telemetry/test-support';
import { lockKey, lockRow, tryLockKey } from './locks.sql';

const { prisma } = testDeps();
afterAll(() => prisma.$disconnect());

/** Runs `hold` inside a transaction that stays open until the returned release() is called. */
async function holdOpen(hold: (tx: Db) => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let ready!: () => void;
  const holding = new Promise<void>((r) => (ready = r));
  const done = prisma.$transaction(
    async (tx) => {
      await hold(tx);
      ready();
      await released;
    },
    { timeout: 20_000 },
  );
  await holding;
  return { release, done };
}

describe('locks.sql', () => {
  it('lockRow finds the row, holds it until commit and skips it when asked', async () => {
    const { clusterId } = await makeNode(prisma, 0);
    const first = await holdOpen((tx) => lockRow(tx, 'cluster', clusterId));

    expect(await prisma.$transaction((tx) => lockRow(tx, 'cluster', clusterId, { skipLocked: true }))).toBe(false);
    let secondLocked = false;
    const second = prisma.$transaction(async (tx) => {
      const found = await lockRow(tx, 'cluster', clusterId);
      secondLocked = true;
      return found;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(secondLocked).toBe(false);
    first.release();
    await first.done;
    expect(await second).toBe(true);
  });

  it('lockRow says false for a row that does not exist', async () => {
    expect(await prisma.$transaction((tx) => lockRow(tx, 'rollout', randomUUID()))).toBe(false);
  });

  it('lockKey serialises holders of one key and leaves other keys alone', async () => {
    const key = `test:${randomUUID()}`;
    const first = await holdOpen((tx) => lockKey(tx, key));
    await prisma.$transaction((tx) => lockKey(tx, `${key}:other`));
    let secondLocked = false;
    const second = prisma.$transaction(async (tx) => {
      await lockKey(tx, key);
      secondLocked = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(secondLocked).toBe(false);
    first.release();
    await first.done;
    await second;
    expect(secondLocked).toBe(true);
  });

  it('tryLockKey takes a free key and gives up at once on a held one', async () => {
    const key = `test:${randomUUID()}`;
    const first = await holdOpen(async (tx) => expect(await tryLockKey(tx, key)).toBe(true));
    expect(await prisma.$transaction((tx) => tryLockKey(tx, key))).toBe(false);
    first.release();
    await first.done;
    expect(await prisma.$transaction((tx) => tryLockKey(tx, key))).toBe(true);
  });
});
