import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // These tests start servers and child processes: on a shared 2-core CI box under load that takes seconds,
    // and vitest's 5 s / 10 s defaults failed there with nothing wrong. Each test still waits on real events.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
