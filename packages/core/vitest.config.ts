import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Pure computation, but CI runs every package's tests at once on two busy
    // cores: the bulk-noise checks take seconds there, past the 5 s default.
    testTimeout: 60_000,
  },
});
