import { defineConfig } from 'vitest/config';

// The suites spawn the built command and load real runtimes; on a loaded
// 2-core machine one spawn can take tens of seconds, so hooks get the same
// generous limit as tests (vitest's default hook limit is 10 s).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
