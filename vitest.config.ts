import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own redis-server and LLM double on free ports, so files can run in parallel.
    pool: 'forks',
    reporters: ['default'],
  },
});
