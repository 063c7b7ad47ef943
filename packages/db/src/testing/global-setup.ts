// Vitest globalSetup for integration tests: one migrated database per test run, dropped afterwards.
import 'vitest';
import type { TestProject } from 'vitest/node';
import { createTestDatabase } from './test-database';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const db = await createTestDatabase();
  project.provide('databaseUrl', db.url);
  process.env.DATABASE_URL = db.url;
  return async () => {
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  };
}
