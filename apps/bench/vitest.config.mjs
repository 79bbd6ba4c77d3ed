import { defineConfig } from 'vitest/config';
import { swiftShaderEnv } from './src/engines/swiftshader-env.mjs';

// Dawn (WebGPU in Node) finds its Vulkan loader when a process starts: where
// no Vulkan driver is chosen, the test processes get Chromium's SwiftShader
// (src/engines/swiftshader-env.mjs), set here before they start.
Object.assign(process.env, swiftShaderEnv() ?? {});

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    // sessions and models are set up in the tests: sized for a loaded 2-core machine
    testTimeout: 120_000,
  },
});
