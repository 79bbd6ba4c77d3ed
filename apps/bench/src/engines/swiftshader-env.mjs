// Chromium's SwiftShader as Dawn's Vulkan device in Node, on a machine
// without a GPU (/work/shared/notes/environment.md is where this was
// found; Debian's chromium ships SwiftShader's Vulkan driver and a Vulkan
// loader in its own folder). The loader is found by the dynamic linker when a
// process starts, so this is the environment of a child process: the
// test of bytes per call and a reduced run of the gpu profile use it.
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const CHROMIUM_LIB = '/usr/lib/chromium';

/**
 * `env` with Dawn pointed at Chromium's SwiftShader (VK_ICD_FILENAMES, its
 * libvulkan.so.1 on LD_LIBRARY_PATH, an XDG_RUNTIME_DIR); `env` itself where
 * a Vulkan driver is chosen already; undefined where Chromium's SwiftShader
 * is not installed.
 */
export function swiftShaderEnv(env = process.env) {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return env;
  const icd = join(CHROMIUM_LIB, 'vk_swiftshader_icd.json');
  if (!existsSync(icd)) return undefined;
  const runtimeDir = env.XDG_RUNTIME_DIR ?? join(os.tmpdir(), `xdg-runtime-${process.getuid?.() ?? 'user'}`);
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  return {
    ...env,
    VK_ICD_FILENAMES: icd,
    LD_LIBRARY_PATH: [CHROMIUM_LIB, env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    XDG_RUNTIME_DIR: runtimeDir,
  };
}
