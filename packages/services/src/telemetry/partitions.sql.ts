// Partition DDL and catalogue reads for the hourly-partitioned raw telemetry tables (decision 13).
// Prisma cannot describe partitions, so all of it is SQL; relation names come from the table list and
// the catalogue, never from a request, and are checked and quoted anyway.
import { Prisma, type Db } from '@fleetplane/db';
import type { PartitionBounds } from '@fleetplane/domain';

const HOUR_ORIGIN = Prisma.sql`TIMESTAMPTZ '2000-01-01 00:00:00+00'`;

function quoted(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unexpected relation name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const ident = (name: string): Prisma.Sql => Prisma.raw(quoted(name));

/** The partitions of `table` with their bounds, read from the catalogue (pg_get_expr of the bound, parsed back by Postgres). */
export async function listPartitions(db: Db, table: string): Promise<PartitionBounds[]> {
  const rows = await db.$queryRaw<{ name: string; bound: string; from: Date | null; to: Date | null }[]>`
    SELECT c.relname AS name, b.bound,
           (regexp_match(b.bound, 'FROM [(]''([^'']+)''[)]'))[1]::timestamptz AS "from",
           (regexp_match(b.bound, 'TO [(]''([^'']+)''[)]'))[1]::timestamptz AS "to"
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
     WHERE i.inhparent = ${table}::regclass
     ORDER BY c.relname`;
  return rows.map((r) => ({ name: r.name, from: r.from, to: r.to, isDefault: r.bound === 'DEFAULT' }));
}

/** DDL in this transaction gives up after `ms` waiting for a lock instead of queueing every writer behind it. */
export async function setLocalLockTimeout(tx: Db, ms: number): Promise<void> {
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${Math.trunc(ms)}ms'`);
}

/** The hours in [from, to) that have rows waiting in the DEFAULT partition `defaultName`. */
export async function strayHours(tx: Db, defaultName: string, from: Date, to: Date): Promise<Date[]> {
  const rows = await tx.$queryRaw<{ hour: Date }[]>`
    SELECT DISTINCT date_bin('1 hour', sampled_at, ${HOUR_ORIGIN}) AS hour FROM ONLY ${ident(defaultName)}
     WHERE sampled_at >= ${from} AND sampled_at < ${to}`;
  return rows.map((r) => r.hour);
}

/**
 * Creates partition `part` of `table` and attaches it, first moving its hour's rows out of the DEFAULT
 * partition (when there is one). Created on its own and attached, rather than CREATE TABLE … PARTITION
 * OF: rows waiting in DEFAULT for this hour must leave it first, or attaching the hour would violate
 * DEFAULT's bound. Returns the rows moved.
 */
export async function createAndAttachPartition(
  tx: Db,
  table: string,
  part: { name: string; from: Date; to: Date },
  defaultName: string | null,
): Promise<number> {
  await tx.$executeRaw`CREATE TABLE ${ident(part.name)} (LIKE ${ident(table)} INCLUDING DEFAULTS)`;
  const moved = defaultName
    ? await tx.$executeRaw`
        WITH moved AS (DELETE FROM ONLY ${ident(defaultName)} WHERE sampled_at >= ${part.from} AND sampled_at < ${part.to} RETURNING *)
        INSERT INTO ${ident(part.name)} SELECT * FROM moved`
    : 0;
  await tx.$executeRawUnsafe(
    `ALTER TABLE ${quoted(table)} ATTACH PARTITION ${quoted(part.name)} FOR VALUES FROM ('${part.from.toISOString()}') TO ('${part.to.toISOString()}')`,
  );
  return moved;
}

/** Drops partition `name`; returns the planner's estimate of the rows it held. */
export async function dropPartition(tx: Db, name: string): Promise<number> {
  const [est] = await tx.$queryRaw<{ n: number }[]>`
    SELECT GREATEST(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = to_regclass(${name})`;
  await tx.$executeRaw`DROP TABLE IF EXISTS ${ident(name)}`;
  return Math.round(est?.n ?? 0);
}

/** The relation and time column of one partition's own rows, for a batched row delete. */
export function partitionRows(name: string): { relation: Prisma.Sql; column: Prisma.Sql } {
  return { relation: Prisma.sql`ONLY ${ident(name)}`, column: Prisma.raw('"sampled_at"') };
}
