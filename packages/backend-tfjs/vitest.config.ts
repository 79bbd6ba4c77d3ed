import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Dawn (test/device-noise.test.ts) loads the Vulkan loader; where Debian's
// libvulkan1 is missing, Chromium's own copy beside its SwiftShader is used.
// Set here, before the test processes start, because the loader reads it then.
const CHROMIUM_LIBS = '/usr/lib/chromium';
if (!existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && existsSync(`${CHROMIUM_LIBS}/libvulkan.so.1`)) {
  process.env['LD_LIBRARY_PATH'] = [process.env['LD_LIBRARY_PATH'], CHROMIUM_LIBS].filter(Boolean).join(':');
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
