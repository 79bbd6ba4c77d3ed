import { AttributionError } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { readTensorProto } from '../model/const-tensor.js';
import { reduceAxesAsInput } from '../model/operand-forms.js';
import type { GraphProto, NodeProto } from '../proto/onnx_pb.js';

/**
 * The ops onnxruntime-web's WebGL EP resolves, with the opset ranges it takes
 * them at: its `WEBGL_OP_RESOLVE_RULES` (onnxruntime-web 1.30,
 * `lib/onnxjs/backends/webgl/op-resolve-rules.ts`), default domain only.
 * `[opType, first opset, last opset]`, the last open when omitted.
 */
const WEBGL_OPS: ReadonlyArray<readonly [string, number, number?]> = [
  ['Abs', 6], ['Acos', 7], ['Add', 7], ['And', 7], ['Asin', 7], ['Atan', 7], ['AveragePool', 7],
  ['BatchNormalization', 7], ['Cast', 6], ['Ceil', 6], ['Clip', 6], ['Concat', 4], ['Conv', 1],
  ['ConvTranspose', 1], ['Cos', 7], ['Div', 7], ['Dropout', 7], ['DepthToSpace', 1], ['Equal', 7],
  ['Elu', 6], ['Exp', 6], ['Flatten', 1], ['Floor', 6], ['Gather', 1], ['Gemm', 7],
  ['GlobalAveragePool', 1], ['GlobalMaxPool', 1], ['Greater', 7], ['Identity', 1], ['ImageScaler', 1],
  ['InstanceNormalization', 6], ['LeakyRelu', 6], ['Less', 7], ['LRN', 1], ['Log', 6], ['MatMul', 1],
  ['MaxPool', 1], ['Mul', 7], ['Neg', 6], ['Not', 1], ['Or', 7], ['Pad', 2], ['Pow', 7], ['PRelu', 7],
  ['ReduceLogSum', 1], ['ReduceMax', 1], ['ReduceMean', 1], ['ReduceMin', 1], ['ReduceProd', 1],
  ['ReduceSum', 1, 12], ['ReduceSumSquare', 1], ['Relu', 6], ['Reshape', 5], ['Resize', 10], ['Shape', 1],
  ['Sigmoid', 6], ['Sin', 7], ['Slice', 1], ['Softmax', 1], ['Split', 2, 12], ['Sqrt', 6], ['Squeeze', 1],
  ['Sub', 7], ['Sum', 6], ['Tan', 7], ['Tanh', 6], ['Tile', 6], ['Transpose', 1], ['Upsample', 7, 9],
  ['Unsqueeze', 1], ['Xor', 7],
];

/** Spatial ops whose WebGL kernels are 2-D only ("currently only support 2-dimensional conv"). */
const TWO_D_ONLY = new Set(['Conv', 'ConvTranspose']);

/**
 * Why the WebGL EP cannot run `node` at `opset`, or undefined when it can:
 * the op is not in its table at that opset, or uses a form its kernel lacks.
 * `constant` reads an initializer by name (Slice's steps, Conv's weight).
 */
function webglProblem(node: NodeProto, opset: number, constant: (name: string) => { dims: readonly number[]; values: Float64Array } | undefined): string | undefined {
  const entry = WEBGL_OPS.find(([op]) => op === node.opType);
  if (node.domain !== '' && node.domain !== 'ai.onnx') return `op domain "${node.domain}" is not supported`;
  if (entry === undefined) return 'is not supported: the EP has no such op';
  const [, first, last] = entry;
  if (opset < first || (last !== undefined && opset > last)) {
    return `is not supported at opset ${opset}: the EP has it at opsets ${first}${last === undefined ? '+' : `–${last}`} only`;
  }
  if (node.opType.startsWith('Reduce') && reduceAxesAsInput(node.opType, opset) && (node.input[1] ?? '') !== '') {
    return 'with its axes as an input is not supported: the EP reads the axes attribute only';
  }
  if (node.opType === 'MaxPool' && node.output.length > 1 && node.output[1] !== '') return 'with its Indices output is not supported';
  if (node.opType === 'Gemm' && (node.input[2] ?? '') === '') return 'without its C input is not supported ("Uniform beta not found")';
  if (node.opType === 'Slice' && (node.input[4] ?? '') !== '') {
    const steps = constant(node.input[4]!);
    if (steps === undefined || steps.values.some((s) => s !== 1)) return 'with steps other than 1 is not supported';
  }
  if (TWO_D_ONLY.has(node.opType)) {
    const kernel = new Attributes(node).ints('kernel_shape') ?? constant(node.input[1] ?? '')?.dims.slice(2);
    if (kernel !== undefined && kernel.length !== 2) {
      return `over ${kernel.length} spatial axes is not supported: the EP has 2-D convolutions only ("currently only support 2-dimensional conv")`;
    }
  }
  return undefined;
}

/**
 * Refuses, before any session is made, a graph that onnxruntime-web's WebGL
 * EP cannot run, naming the first such op and node (the EP itself fails
 * later, and for some forms only at run time with a shader error).
 */
export function checkRunsOnWebgl(graph: GraphProto, opset: number, what: string): void {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const constant = (name: string) => {
    const tensor = initializers.get(name);
    return tensor === undefined ? undefined : readTensorProto(tensor, `initializer "${name}"`);
  };
  graph.node.forEach((node, index) => {
    const problem = webglProblem(node, opset, constant);
    if (problem !== undefined) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `onnxruntime-web's WebGL EP cannot run ${what}: op '${node.opType}' of ${describeNode(node, index)} ${problem}. ` +
          'Use the WebGPU or wasm execution provider for this model.',
      );
    }
  });
}
