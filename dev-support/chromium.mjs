// Headless Debian Chromium with software WebGL and WebGPU (SwiftShader), as
// found to work on machines without a GPU, in a fresh profile each time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  // No network of its own: this machine refuses it, and the tests need none.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Chromium in a fresh profile; `close` ends it and removes the profile. */
export async function launchChromium({ viewport = { width: 1400, height: 900 } } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'saliency-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `work` in a fresh Chromium, then closes it. */
export async function withChromium(work, options) {
  const browser = await launchChromium(options);
  try {
    return await work(browser.context);
  } finally {
    await browser.close();
  }
}
