import type { Db } from './client';

/** Resolves when Postgres answers a trivial query: readiness checks and start-up of the web app and the worker. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
