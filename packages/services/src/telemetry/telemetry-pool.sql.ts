import pg from 'pg';

// The ingest hot path talks to Postgres through a plain pg pool: one transaction of a handful of
// set-based statements per batch, no ORM round trips (see docs/telemetry.md for the measurements).
const g = globalThis as unknown as { __fleetplaneTelemetryPools?: Map<string, pg.Pool> };

/** One pool per database URL and process; Next.js loads route modules more than once, globalThis does not. */
export function getTelemetryPool(databaseUrl: string, max = 8): pg.Pool {
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
