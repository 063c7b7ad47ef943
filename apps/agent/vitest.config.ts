import { defineConfig } from 'vitest/config';

// The process tests spawn the bundled agent many times; on a busy 2-core runner each spawn can take
// a second or two, so the default 5 s per test is too tight. Unit tests finish in milliseconds anyway.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
