import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Route handlers called with real Requests against a real database and Redis (no Next server), and the
// real agent process against the agent API handlers served on a loopback port.
export default defineConfig({
  resolve: { alias: { '~': fileURLToPath(new URL('./src', import.meta.url)) } },
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
    // Every file shares the run's one database (fleet-wide health passes, the outbox): files run one after
    // another, as in packages/services.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
