import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Builds the WebAssembly kernel (when missing or its source changed) once, before the test files run.
    globalSetup: ['./scripts/build-kernel.mjs'],
  },
});
