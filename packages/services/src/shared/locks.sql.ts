// Locks held until the caller's transaction ends. Prisma has no `SELECT ... FOR UPDATE` and no advisory
// locks, so every feature that serialises work on a row or a key takes its lock here.
import { Prisma, type Db } from '@fleetplane/db';

/** Tables whose rows a transaction locks to serialise changes of one record. */
export type LockableTable = 'cluster' | 'pipeline_run' | 'pipeline_step' | 'rollout' | 'upgrade_proposal' | 'validation_run';

/**
 * Locks one row until commit; false when no row has that id. `skipLocked` returns false at once instead
 * of waiting when another transaction holds it (a sweeper leaves the row to whoever is working on it).
 */
export async function lockRow(tx: Db, table: LockableTable, id: string, opts: { skipLocked?: boolean } = {}): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM ${Prisma.raw(`"${table}"`)} WHERE id = ${id} FOR UPDATE ${opts.skipLocked ? Prisma.raw('SKIP LOCKED') : Prisma.empty}`;
  return rows.length === 1;
}

/**
 * A transaction-scoped advisory lock on a key that is not a row (all checks of one repo, all proposals of
 * one cluster): concurrent holders of the same key run one after another.
 */
export async function lockKey(tx: Db, key: string): Promise<void> {
  // ::text because Prisma cannot read the void that pg_advisory_xact_lock returns.
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))::text`;
}

/** Like lockKey, but false at once when another transaction holds the key (a run already under way is left to finish alone). */
export async function tryLockKey(tx: Db, key: string): Promise<boolean> {
  const [row] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext(${key})) AS locked`;
  return row?.locked === true;
}
