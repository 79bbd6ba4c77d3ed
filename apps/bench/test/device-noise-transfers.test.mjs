// With core's noise made on the device, what one VarGrad call moves between
// host and device does not depend on N: the bench's own case runner
// (src/run-case.mjs, kind "transfers") counts one warm call at N = 4 and 16
// on TF.js's webgpu backend and on ONNX Runtime's WebGPU EP (our backend's
// noisyGradientMoments, its cotangent one row per group) in Node (Dawn), on
// the fixture MLP. It runs in a child process whose environment points Dawn
// at Chromium's SwiftShader where no Vulkan driver is chosen (src/engines/swiftshader-env.mjs).
// Counts, not times.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { swiftShaderEnv } from '../src/engines/swiftshader-env.mjs';

const APP = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
/**
 * Software WebGPU on a loaded 2-core machine: SwiftShader compiles ONNX
 * Runtime's Gemm shaders at their first dispatch, which took 194 s of the
 * onnx-webgpu child's time in a CI run and 422 s at a load average of 15.
 */
const CHILD_TIMEOUT_MS = 600_000;

/** Why WebGPU cannot run in a child process here, or undefined when it can. */
async function webGpuUnavailable(env) {
  if (env === undefined)
    return 'no Vulkan driver chosen (VK_ICD_FILENAMES, VK_DRIVER_FILES) and no Chromium SwiftShader in /usr/lib/chromium';
  const probe = "import { installWebGpu } from './src/engines/webgpu-node.mjs'; console.log(await installWebGpu()); process.exit(0);";
  try {
    await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: APP, env, timeout: 120_000 });
    return undefined;
  } catch (error) {
    const lines = String(error.stderr || error.message).split('\n');
    return `no WebGPU adapter in Node: ${lines.find((line) => /^\s*\w*Error: /.test(line))?.trim() ?? lines[0]}`;
  }
}

const env = swiftShaderEnv();
const unavailable = await webGpuUnavailable(env);
if (unavailable) console.warn(`device-noise transfers test skipped: ${unavailable}`);

/** The RESULT line of one bench case. */
async function benchCase(spec) {
  const { stdout } = await run(process.execPath, ['src/run-case.mjs', JSON.stringify(spec)], {
    cwd: APP,
    env,
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 2 ** 24,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line from run-case.mjs: ${stdout.slice(-500)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

describe.skipIf(unavailable !== undefined)('bytes per call with device noise', () => {
  it.each(['tfjs-webgpu', 'onnx-webgpu'])(
    '%s: one warm VarGrad call moves the same bytes at N = 4 and N = 16, fewer up than four noisy rows',
    async (engine) => {
      const result = await benchCase({ engine, model: 'mlp', kind: 'transfers', numSamples: [4, 16], threads: 1 });
      expect(result.error).toBeUndefined();
      expect(result.deviceNoise).toBe(true);
      const [four, sixteen] = result.cases.map((c) => {
        expect(c.error).toBeUndefined();
        return c.transfers;
      });
      const exampleBytes = 20 * 4; // the MLP's input [20], float32
      expect(sixteen).toEqual(four);
      // the clean example goes up (for the target's logits and for the noise), never the 4 noisy rows
      expect(four.uploadBytes).toBeGreaterThanOrEqual(exampleBytes);
      expect(four.uploadBytes).toBeLessThan(4 * exampleBytes);
      // the moments mean and m2 come back, each one example's size
      expect(four.downloadBytes).toBeGreaterThanOrEqual(2 * exampleBytes);
    },
    CHILD_TIMEOUT_MS + 60_000,
  );
});
