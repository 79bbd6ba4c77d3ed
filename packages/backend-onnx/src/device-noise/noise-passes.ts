import { noiseKey, sizeOf, WGSL_NORMAL, WGSL_PHILOX, type DeviceNoiseGenerator, type NoiseDescription } from '@saliency/core';
import {
  BUFFER_USAGE,
  createBuffer,
  dispatch,
  filledBuffer,
  readBack,
  uploadedBuffer,
  type GpuBuffer,
  type GpuDevice,
} from './gpu-device.js';

/** The invocation's index over a dispatch that may use two dimensions (`gpu-device.ts`, `dispatch`). */
const INVOCATION_INDEX = `
  let index = id.x + id.y * count.x * 64u;`;
const MAIN_HEAD = `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) count : vec3<u32>) {`;

/** Row `g·n + i` of the output: `clean[g] + σ_g · z(seed, firstExample + g, firstSample + i, ·)` (core's `NoiseDescription`). */
const NOISY_ROWS_SHADER = `${WGSL_PHILOX}${WGSL_NORMAL}
struct NoiseParams {
  seed0 : u32,
  seed1 : u32,
  firstExample : u32,
  firstSample : u32,
  samples : u32,
  size : u32,
  rows : u32,
  unused : u32,
}
@group(0) @binding(0) var<uniform> params : NoiseParams;
@group(0) @binding(1) var<storage, read> clean : array<f32>;
@group(0) @binding(2) var<storage, read> sigma : array<f32>;
@group(0) @binding(3) var<storage, read_write> noisy : array<f32>;
${MAIN_HEAD}${INVOCATION_INDEX}
  if (index >= params.rows * params.size) {
    return;
  }
  let row = index / params.size;
  let e = index - row * params.size;
  let g = row / params.samples;
  let sampleIndex = params.firstSample + (row - g * params.samples);
  let z = saliencyStandardNormal(params.seed0, params.seed1, params.firstExample + g, sampleIndex, e);
  noisy[index] = clean[g * params.size + e] + sigma[g] * z;
}
`;

/** The 4 words of counter `[c0 + q (mod 2³²), c1, c2, c3]` at `words[4q…]`. */
const PHILOX_WORDS_SHADER = `${WGSL_PHILOX}
struct WordParams {
  c0 : u32,
  c1 : u32,
  c2 : u32,
  c3 : u32,
  k0 : u32,
  k1 : u32,
  blocks : u32,
  unused : u32,
}
@group(0) @binding(0) var<uniform> params : WordParams;
@group(0) @binding(1) var<storage, read_write> words : array<vec4<u32>>;
${MAIN_HEAD}${INVOCATION_INDEX}
  if (index >= params.blocks) {
    return;
  }
  words[index] = saliencyPhilox(vec4<u32>(params.c0 + index, params.c1, params.c2, params.c3), vec2<u32>(params.k0, params.k1));
}
`;

/**
 * The noisy rows `[G·n, ...S]` that `noise` describes for the clean examples
 * `clean` (`G·D` values), made on `device` into a new storage buffer that the
 * caller owns (and destroys): only the clean examples and σ are uploaded.
 */
export function noisyRowsBuffer(device: GpuDevice, clean: Float32Array, noise: NoiseDescription): GpuBuffer {
  return filledBuffer(device, noisyRowsBytes(noise), (noisy) => writeNoisyRows(device, clean, noise, noisy));
}

/** The bytes of the rows `noise` describes, as float32. */
export function noisyRowsBytes(noise: NoiseDescription): number {
  return noise.sigma.length * noise.samples * sizeOf(noise.exampleShape) * 4;
}

/**
 * Writes the noisy rows `noise` describes for `clean` into the storage
 * buffer `destination` (of at least `noisyRowsBytes(noise)`), on `device`'s
 * queue: work submitted after it on that queue reads them.
 */
export function writeNoisyRows(device: GpuDevice, clean: Float32Array, noise: NoiseDescription, destination: GpuBuffer): void {
  const size = sizeOf(noise.exampleShape);
  const rows = noise.sigma.length * noise.samples;
  const [seed0, seed1] = noiseKey(noise.seed);
  const params = Uint32Array.of(seed0, seed1, noise.firstExample, noise.firstSample, noise.samples, size, rows, 0);
  const inputs = [
    uploadedBuffer(device, params, BUFFER_USAGE.UNIFORM),
    uploadedBuffer(device, clean, BUFFER_USAGE.STORAGE),
    uploadedBuffer(device, Float32Array.from(noise.sigma), BUFFER_USAGE.STORAGE),
  ];
  try {
    dispatch(device, NOISY_ROWS_SHADER, [...inputs, destination], rows * size);
  } finally {
    // Destroying a buffer after submit is allowed: WebGPU keeps it until the submitted work is done.
    for (const buffer of inputs) buffer.destroy();
  }
}

/** The device passes of core's noise read back (`DeviceNoiseGenerator`), for the agreement check. */
export function deviceNoiseGenerator(device: GpuDevice): DeviceNoiseGenerator {
  return {
    async philoxWords(counter, key, blocks) {
      const params = uploadedBuffer(device, Uint32Array.of(...counter, ...key, blocks, 0), BUFFER_USAGE.UNIFORM);
      const words = createBuffer(device, blocks * 16, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC);
      try {
        dispatch(device, PHILOX_WORDS_SHADER, [params, words], blocks);
        return new Uint32Array(await readBack(device, words, blocks * 16));
      } finally {
        params.destroy();
        words.destroy();
      }
    },
    async standardNormals(seed, example, sample, size) {
      // The noisy-rows pass itself, on a zero example with σ = 1.
      const description = { seed, sigma: Float64Array.of(1), firstExample: example, firstSample: sample, samples: 1, exampleShape: [size] };
      const normals = noisyRowsBuffer(device, new Float32Array(size), description);
      try {
        return new Float32Array(await readBack(device, normals, size * 4));
      } finally {
        normals.destroy();
      }
    },
  };
}
