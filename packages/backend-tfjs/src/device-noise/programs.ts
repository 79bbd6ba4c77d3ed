import * as tf from '@tensorflow/tfjs-core';
import { noiseKey, WGSL_NORMAL, WGSL_PHILOX, type NoiseDescription } from '@saliency/core';
import { GLSL_NORMAL, GLSL_PHILOX } from './glsl.js';

/**
 * The two device programs of core's noise, for TF.js's webgl backend
 * (`compileAndRun` of a GPGPU program in GLSL ES 3.0) and webgpu backend
 * (`runWebGPUProgram` of a WGSL compute program). The backends' own
 * program types live in their packages, which this one does not import:
 * the structures below are the parts of them used here.
 */
interface WebGLProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms: { name: string; type: 'int' }[];
}
interface WebGLBackendLike {
  compileAndRun(program: WebGLProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms: number[][]): tf.TensorInfo;
}
interface WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  getUserCode(): string;
}
interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms: { type: 'uint32'; data: number[] }[],
  ): tf.TensorInfo;
}

/** Which device program family runs on the active TF.js backend, if any. */
export type DeviceNoiseKind = 'webgl' | 'webgpu';

/**
 * The device noise of the active TF.js backend: `webgpu`, or `webgl` on
 * WebGL 2 (GLSL ES 3.0 has the unsigned integers) with float32 render
 * targets (the noise must not be rounded to float16); otherwise none, and
 * core writes the noisy rows on the host.
 */
export function deviceNoiseKind(): DeviceNoiseKind | undefined {
  const name = tf.getBackend();
  const backend = tf.backend() as unknown as Partial<WebGLBackendLike & WebGPUBackendLike>;
  if (name === 'webgpu' && typeof backend.runWebGPUProgram === 'function') return 'webgpu';
  if (
    name === 'webgl' &&
    typeof backend.compileAndRun === 'function' &&
    tf.env().getNumber('WEBGL_VERSION') === 2 &&
    tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')
  ) {
    return 'webgl';
  }
  return undefined;
}

/** Uniforms as their uint32 words; GLSL takes them as `int` (the bits kept by `uint(int)`). */
type Uniforms = Record<string, number>;

/**
 * Runs one program, `[rows, columns]` float32 out, whose body computes
 * `value` for the element at (`row`, `column`) from the `uint` uniforms;
 * `inputs` are float32 buffers read by `readInput` snippets.
 */
function runProgram(
  key: string,
  outputShape: [number, number],
  inputs: tf.Tensor[],
  inputNames: string[],
  uniforms: Uniforms,
  body: { glsl: string; wgsl: string },
): tf.Tensor2D {
  const kind = deviceNoiseKind();
  const names = Object.keys(uniforms);
  let info: tf.TensorInfo;
  if (kind === 'webgl') {
    const program: WebGLProgram = {
      variableNames: inputNames,
      outputShape,
      customUniforms: names.map((name) => ({ name, type: 'int' })),
      userCode: `${GLSL_PHILOX}${GLSL_NORMAL}
        void main() {
          ivec2 coords = getOutputCoords();
          int row = coords.x;
          int column = coords.y;
          ${names.map((name) => `uint ${name}U = uint(${name});`).join('\n')}
          ${body.glsl}
        }`,
    };
    const values = names.map((name) => [uniforms[name]! | 0]);
    info = (tf.backend() as unknown as WebGLBackendLike).compileAndRun(program, inputs, 'float32', values);
  } else if (kind === 'webgpu') {
    const workgroup = 64;
    const program: WebGPUProgram = {
      variableNames: inputNames,
      outputShape,
      shaderKey: `saliency_${key}`,
      dispatchLayout: { x: [0, 1] },
      dispatch: [Math.ceil((outputShape[0] * outputShape[1]) / workgroup), 1, 1],
      workgroupSize: [workgroup, 1, 1],
      size: true,
      uniforms: names.map((name) => `${name} : u32,`).join(' '),
      getUserCode: () => `${WGSL_PHILOX}${WGSL_NORMAL}
        fn main(index : i32) {
          if (index < uniforms.size) {
            let row = index / uniforms.outShape.y;
            let column = index - row * uniforms.outShape.y;
            ${names.map((name) => `let ${name}U = uniforms.${name};`).join('\n')}
            ${body.wgsl}
          }
        }`,
    };
    const values = names.map((name) => ({ type: 'uint32' as const, data: [uniforms[name]! >>> 0] }));
    info = (tf.backend() as unknown as WebGPUBackendLike).runWebGPUProgram(program, inputs, 'float32', values);
  } else {
    throw new Error(`TF.js backend ${tf.getBackend()} has no device noise`);
  }
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D;
}

/**
 * The noisy rows `[G·n, D]` that `noise` describes for the clean examples
 * `clean` `[G, D]` (D = the example's size), generated and added on the
 * device: row `g·n + i` is `clean[g] + σ_g · z(seed, firstExample + g, firstSample + i, ·)`.
 */
export function noisyRowsOnDevice(clean: tf.Tensor2D, noise: NoiseDescription): tf.Tensor2D {
  const [groups, size] = clean.shape;
  const [seed0, seed1] = noiseKey(noise.seed);
  return tf.tidy(() =>
    runProgram(
      'noisy_rows',
      [groups * noise.samples, size],
      [clean, tf.tensor1d(Float32Array.from(noise.sigma))],
      ['x', 'sigma'],
      {
        noiseSeed0: seed0,
        noiseSeed1: seed1,
        noiseFirstExample: noise.firstExample,
        noiseFirstSample: noise.firstSample,
        noiseSamples: noise.samples,
      },
      {
        glsl: `
          int g = row / int(noiseSamplesU);
          uint sampleIndex = noiseFirstSampleU + uint(row - g * int(noiseSamplesU));
          float z = saliencyStandardNormal(noiseSeed0U, noiseSeed1U, noiseFirstExampleU + uint(g), sampleIndex, uint(column));
          setOutput(getX(g, column) + getSigma(g) * z);`,
        wgsl: `
          let g = row / i32(noiseSamplesU);
          let sampleIndex = noiseFirstSampleU + u32(row - g * i32(noiseSamplesU));
          let z = saliencyStandardNormal(noiseSeed0U, noiseSeed1U, noiseFirstExampleU + u32(g), sampleIndex, u32(column));
          result[index] = x[g * uniforms.outShape.y + column] + sigma[g] * z;`,
      },
    ),
  );
}

/**
 * The Philox4x32-10 words of `blocks` consecutive counters
 * `[c0 + q (mod 2³²), c1, c2, c3]` under `key`, computed by the device
 * program and read back: the check that the device's integer rounds are
 * core's, bit for bit. A float32 output holds 24 bits exactly, so each word
 * comes back as its two 16-bit halves.
 */
export async function philoxWordsOnDevice(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
  blocks: number,
): Promise<Uint32Array> {
  const halves = runProgram(
    'philox_words',
    [blocks, 8],
    [],
    [],
    { wordsC0: counter[0], wordsC1: counter[1], wordsC2: counter[2], wordsC3: counter[3], wordsK0: key[0], wordsK1: key[1] },
    {
      glsl: `
          uvec4 w = saliencyPhilox(uvec4(wordsC0U + uint(row), wordsC1U, wordsC2U, wordsC3U), uvec2(wordsK0U, wordsK1U));
          uint word = w[column >> 1];
          setOutput(float((column & 1) == 0 ? word >> 16u : word & 0xFFFFu));`,
      wgsl: `
          let w = saliencyPhilox(vec4<u32>(wordsC0U + u32(row), wordsC1U, wordsC2U, wordsC3U), vec2<u32>(wordsK0U, wordsK1U));
          let word = w[column >> 1u];
          result[index] = f32(select(word & 0xFFFFu, word >> 16u, (column & 1) == 0));`,
    },
  );
  try {
    const values = await halves.data<'float32'>();
    return Uint32Array.from({ length: 4 * blocks }, (_, w) => values[2 * w]! * 65536 + values[2 * w + 1]!);
  } finally {
    halves.dispose();
  }
}

/**
 * Core's standard normals `z(seed, example, sample, e)` for `e < size`,
 * generated by the device program (the noisy-rows program with a zero
 * example and σ = 1) and read back.
 */
export async function standardNormalsOnDevice(seed: number, example: number, sample: number, size: number): Promise<Float32Array> {
  const normals = tf.tidy(() =>
    noisyRowsOnDevice(tf.fill([1, size], 0), {
      seed,
      sigma: Float64Array.of(1),
      firstExample: example,
      firstSample: sample,
      samples: 1,
      exampleShape: [size],
    }),
  );
  try {
    return Float32Array.from(await normals.data<'float32'>());
  } finally {
    normals.dispose();
  }
}
