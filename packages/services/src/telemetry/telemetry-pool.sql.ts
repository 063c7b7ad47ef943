import pg from 'pg';

// The agent API's hot paths (telemetry ingest, command polls and reports) talk to Postgres through a
// plain pg pool: prepared statements and one data-modifying statement per batch, no ORM round trips
// (decision 14; docs/telemetry.md for the measurements). Only query modules (*.sql.ts) use it directly.
export type TelemetryPool = pg.Pool;
/** One connection of the pool, held for a transaction (withPoolTransaction). */
export type TelemetryPoolClient = pg.PoolClient;

const g = globalThis as unknown as { __fleetplaneTelemetryPools?: Map<string, pg.Pool> };

/** One pool per database URL and process; Next.js loads route modules more than once, globalThis does not. */
export function getTelemetryPool(databaseUrl: string, max = 8): TelemetryPool {
  const pools = (g.__fleetplaneTelemetryPools ??= new Map());
  let pool = pools.get(databaseUrl);
  if (!pool) {
    pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000, application_name: 'fleetplane-ingest' });
    // An idle client losing its connection must not crash the web process.
    pool.on('error', () => undefined);
    pools.set(databaseUrl, pool);
  }
  return pool;
}

export async function closeTelemetryPools(): Promise<void> {
  const pools = g.__fleetplaneTelemetryPools;
  if (!pools) return;
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end()));
}

/** Runs `fn` in one transaction on one pooled connection: committed when it returns, rolled back when it throws. */
export async function withPoolTransaction<T>(pool: TelemetryPool, fn: (client: TelemetryPoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** The database URL a pool connects to (the command listener opens its own connection to the same database). */
export function connectionStringOf(pool: TelemetryPool): string | undefined {
  return (pool as unknown as { options: { connectionString?: string } }).options.connectionString;
}
