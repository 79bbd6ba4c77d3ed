import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    // sessions and models are set up in the tests: sized for a loaded 2-core machine
    testTimeout: 120_000,
  },
});
