// What the benchmark measures: the models, the engines (ours and PyTorch's
// two ways), the sample counts, and which of them each profile runs.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURE_MODELS = `${REPO_ROOT}packages/backend-onnx/test/fixtures/models/`;
/** The parity fixtures (apps/parity/fixtures): ONNX and tfjs-layers from one PyTorch model. */
export const PARITY_MODELS = `${REPO_ROOT}apps/parity/fixtures/models/`;

/**
 * The fixture models. `onnxShape` is one example as the ONNX file (and
 * PyTorch) take it, `tfjsShape` the same example channels-last for TF.js.
 * ResNet-18 runs at 224×224: the fixture was traced at 48×48 and declares
 * that size, but its graph ends in a global average pool, so it computes the
 * same network at any size.
 */
export const MODELS = {
  mlp: { onnxShape: [20], tfjsShape: [20] },
  cnn1d: { onnxShape: [12, 128], tfjsShape: [128, 12] },
  resnet18: { onnxShape: [3, 224, 224], tfjsShape: [224, 224, 3] },
  // The parity fixture, MobileNet-style (depthwise-separable blocks, ReLU6),
  // run at 64×64: traced at 16×16, it ends in a global average pool.
  depthwise_separable: { onnxShape: [3, 64, 64], tfjsShape: [64, 64, 3], parity: true },
};

/** Our engines on CPU: backend and runtime. */
export const CPU_ENGINES = ['onnx-node', 'onnx-wasm', 'tfjs-wasm', 'tfjs-cpu'];
/**
 * Our engines on a GPU, through WebGPU (gpu/run-gpu-bench.sh).
 * onnx-webgpu-capture is onnx-webgpu with the backend's `graphCapture`
 * (packages/backend-onnx/README.md, "Graph capture on WebGPU"), right after
 * it so that its maps are checked against onnx-webgpu's (SAME_MAPS_AS).
 */
export const GPU_ENGINES = ['onnx-webgpu', 'onnx-webgpu-capture', 'tfjs-webgpu', 'onnx-webgpu-jsep'];

/**
 * Engines that run the same kernels as another engine and so must give the
 * same maps bit for bit: the bench compares the VarGrad maps of each such
 * engine with its twin's from the same run (run-bench.mjs, src/maps.mjs).
 * Graph capture replays the kernels ONNX Runtime recorded, so its maps equal
 * the uncaptured ones.
 */
export const SAME_MAPS_AS = { 'onnx-webgpu-capture': 'onnx-webgpu' };

/** VarGrad sample counts timed. */
export const TIMED_N = [16, 64];
/** Sample counts of the peak-memory sweep, all at MEMORY_BATCH_SIZE rows per call. */
export const MEMORY_N = [16, 256, 1024];
export const MEMORY_BATCH_SIZE = 16;

/**
 * Profiles: which (engine, model) pairs are timed and which get the memory
 * sweep. `default` stays within a few minutes on 2 cores; `full` adds the
 * cases that take long there (TF.js wasm runs single-threaded in Node: over
 * 3 minutes for ResNet-18; TF.js's cpu backend is plain JavaScript: one
 * ResNet-18 VarGrad at 224×224 takes minutes; the ResNet-18 sweep to
 * N = 1024 runs 1024 gradients per engine).
 */
export const PROFILES = {
  quick: {
    timed: { mlp: CPU_ENGINES, cnn1d: CPU_ENGINES },
    memory: { mlp: ['onnx-node', 'onnx-wasm', 'tfjs-wasm'], cnn1d: ['onnx-node', 'onnx-wasm', 'tfjs-wasm'] },
    timedN: [16],
  },
  default: {
    timed: {
      mlp: CPU_ENGINES,
      cnn1d: CPU_ENGINES,
      resnet18: ['onnx-node', 'onnx-wasm'],
      depthwise_separable: ['onnx-node', 'onnx-wasm', 'tfjs-wasm'],
    },
    memory: { mlp: CPU_ENGINES, cnn1d: CPU_ENGINES },
    timedN: TIMED_N,
  },
  full: {
    timed: { mlp: CPU_ENGINES, cnn1d: CPU_ENGINES, resnet18: CPU_ENGINES, depthwise_separable: CPU_ENGINES },
    memory: { mlp: CPU_ENGINES, cnn1d: CPU_ENGINES, resnet18: ['onnx-node', 'onnx-wasm', 'tfjs-wasm'] },
    timedN: TIMED_N,
  },
  // ResNet-18 first: the case the GPU targets are about, measured before a
  // time-limited run could end.
  gpu: {
    timed: { resnet18: GPU_ENGINES, mlp: GPU_ENGINES, cnn1d: GPU_ENGINES },
    memory: {},
    timedN: TIMED_N,
  },
};
