import type { GraphProto } from '../proto/onnx_pb.js';
import { checkRunsOnWebgl } from './webgl-ops.js';

/**
 * The ONNX Runtime execution provider a gradient graph is built for, and what
 * each can run: the one home of that knowledge, below the op rules and the
 * graph builder that both use it. The rules ask `g.supports(capability)` and
 * emit another construction where the answer is no; `checkRunsOn` refuses
 * a built graph that still holds an op the provider lacks.
 *
 * - `'cpu'`: onnxruntime-node's providers and onnxruntime-web's wasm EP — every
 *   standard op at every opset this package emits;
 * - `'webgpu'`: onnxruntime-web's WebGPU EPs, which fall back to the CPU node
 *   by node for ops they lack (each fallback copies its tensors off the GPU
 *   and back: the graphs built for them avoid those ops), but register
 *   MaxPool without its Indices output (it throws "The Indices output is not
 *   supported yet" at run time);
 * - `'webgl'`: onnxruntime-web's WebGL EP (maintenance mode, no fallback),
 *   which has only the ops of `WEBGL_OPS`, some with restrictions.
 */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'webgl';

export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'webgl'];

/** Forms of standard ops that some execution providers lack. */
export type Capability =
  /** MaxPool's optional second output, Indices. */
  | 'maxPoolIndices'
  /** ScatterElements with reduction 'add' (opset 16). */
  | 'scatterAdd'
  /** Expand. */
  | 'expand'
  /** And (the JSEP WebGPU EP of onnxruntime-web's default bundle has no kernel for it). */
  | 'logicalAnd'
  /** Reduce* with the axes given as an input (ReduceSum from opset 13, the others from 18). */
  | 'reduceAxesInput'
  /** Slice with steps other than 1. */
  | 'sliceSteps'
  /** Gemm without its optional C input (the WebGL EP's shader then fails: "Uniform beta not found"). */
  | 'gemmWithoutC'
  /**
   * A Conv's weight read by another kernel too (the WebGL EP keeps one
   * texture per tensor, in Conv's [M, C·k] layout, and ConvTranspose's
   * shader then fails to compile: "'getW' : no matching overloaded function").
   */
  | 'sharedConvWeight'
  /**
   * ReLU's gradient mask read from its output (so that ONNX Runtime keeps the
   * Conv before it fused with it). The WebGL EP computes a residual block's
   * ReLU outputs wrong (apps/parity's resnet_block: its plain forward is off
   * by 0.32) while the ReLU inputs it computes give the right mask.
   */
  | 'reluMaskFromOutput'
  /** Split from opset 13, its part sizes as an input (the WebGL EP has Split at opsets 2–12 only). */
  | 'splitSizesInput'
  /** ArgMax and ArgMin. */
  | 'argExtremum'
  /** Sign (opset 9). */
  | 'sign'
  /**
   * An Identity into a graph output whose input other nodes also read (a
   * layer's activation). The WebGL EP's graph clean-up removes the Identity
   * and points the output at its input, then renumbers values without
   * renumbering an output that nodes consume (onnxruntime-web 1.30,
   * `Graph.finalizeGraph`): the output is missing ("required output [18]
   * does not have value") or another value (test/webgl-graph-outputs.test.ts).
   */
  | 'identityOfReadOutput'
  /**
   * An element-wise op (Relu, Sub, Mul, ...) reading a Reshape, Flatten,
   * Squeeze or Unsqueeze output. The WebGL EP's view ops keep the input's
   * texture and its width and height under the new shape, and its
   * element-wise kernels read an input of the output's shape texel by texel,
   * as if laid out like the output: Relu(Flatten(MaxPool(x))) comes out
   * wrong with no error (onnxruntime-web 1.30; LRP-αβ's x⁺ at the Flatten–Gemm
   * head of apps/parity's cnn_bn; test/webgl-view-reads.test.ts).
   */
  | 'elementwiseOfView'
  /**
   * ConvTranspose with pads that differ at the two ends of a spatial axis.
   * onnxruntime-web 1.30's JSEP WebGPU EP (its default bundle and `/all`)
   * computes a 1-D ConvTranspose with pads [1, 0] and stride 2 wrong, with no
   * error, and pads [1, 1] with output_padding [1] right (measured on
   * SwiftShader through Dawn; test/real-models-webgpu.test.ts): Silero VAD's
   * strided encoder Convs have such gradients.
   */
  | 'asymmetricConvTransposePads';

const ALL: readonly Capability[] = [
  'maxPoolIndices',
  'scatterAdd',
  'expand',
  'logicalAnd',
  'reduceAxesInput',
  'sliceSteps',
  'gemmWithoutC',
  'sharedConvWeight',
  'reluMaskFromOutput',
  'splitSizesInput',
  'argExtremum',
  'sign',
  'identityOfReadOutput',
  'elementwiseOfView',
  'asymmetricConvTransposePads',
];

const CAPABILITIES: Readonly<Record<ExecutionProvider, ReadonlySet<Capability>>> = {
  cpu: new Set(ALL),
  webgpu: new Set(ALL.filter((c) => c !== 'maxPoolIndices' && c !== 'logicalAnd' && c !== 'asymmetricConvTransposePads')),
  webgl: new Set<Capability>(['logicalAnd', 'asymmetricConvTransposePads']),
};

/** Whether `executionProvider` runs the op form `capability`. */
export function supports(executionProvider: ExecutionProvider, capability: Capability): boolean {
  return CAPABILITIES[executionProvider].has(capability);
}

/**
 * The execution provider a session made with these providers builds for: the first
 * one decides (ONNX Runtime places nodes on the first provider that takes
 * them); `'webgl'` and `'webgpu'` by name, anything else (cpu, wasm, cuda, the
 * default) is `'cpu'`.
 */
export function executionProviderOf(providers: ReadonlyArray<string | { readonly name: string }> | undefined): ExecutionProvider {
  const first = providers?.[0];
  const name = typeof first === 'string' ? first : first?.name;
  return name === 'webgl' || name === 'webgpu' ? name : 'cpu';
}

/**
 * The default texture-row limit of an execution provider, or undefined where it has none.
 * The WebGL EP stores a tensor of shape [d₀, …, dₖ] as a texture of
 * d₀·…·dₖ₋₁ rows and dₖ columns while both fit under the GPU's maximum
 * texture size; past it, it falls back to other layouts, and some of its
 * kernels then compute wrong values with no error (see `runtime/row-splitting.ts`).
 * WebGL2 guarantees only 2048, but every desktop GPU and SwiftShader offer at
 * least 8192 (many GPUs 16384).
 */
export function defaultTextureRowLimit(executionProvider: ExecutionProvider): number | undefined {
  return executionProvider === 'webgl' ? 8192 : undefined;
}

/**
 * Refuses, before any session is made, a built graph that `executionProvider`
 * cannot run, naming the op and node. Only the WebGL EP is checked
 * (`webgl-ops.ts`): it has no fallback, and fails later, some forms only at
 * run time; the others run every op, the WebGPU EPs by falling back to the CPU.
 */
export function checkRunsOn(executionProvider: ExecutionProvider, graph: GraphProto, opset: number, what: string): void {
  if (executionProvider === 'webgl') checkRunsOnWebgl(graph, opset, what);
}
