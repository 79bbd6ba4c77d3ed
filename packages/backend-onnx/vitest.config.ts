import { useChromiumVulkanLoader } from '@saliency/dev-support/node-webgpu';
import { defineConfig } from 'vitest/config';

// Dawn (test/float16-compute.test.ts) loads the Vulkan loader: set up before the test processes start.
useChromiumVulkanLoader();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
