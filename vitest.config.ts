import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'kamaelia-xstate/machines': fileURLToPath(new URL('./machines/index.ts', import.meta.url)),
      'kamaelia-xstate/otel': fileURLToPath(new URL('./src/otel/index.ts', import.meta.url)),
      'kamaelia-xstate/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'kamaelia-xstate': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Socket tests bind real loopback ports; two workers keep the 2-core machine responsive.
    maxWorkers: 2,
  },
});
