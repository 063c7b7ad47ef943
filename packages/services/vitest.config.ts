import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['../db/src/testing/global-setup.ts'],
    // Every file shares the run's one database (fleet-wide health passes, the outbox, rollup
    // watermarks): files run one after another so none sees another's half-finished state.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
