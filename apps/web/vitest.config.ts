import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Route handlers called with real Requests against a real database and Redis (no Next server).
export default defineConfig({
  resolve: { alias: { '~': fileURLToPath(new URL('./src', import.meta.url)) } },
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
