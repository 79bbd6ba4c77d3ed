import { AttributionError } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { readTensorProto } from '../model/const-tensor.js';
import { reduceAxesAsInput } from '../model/operand-forms.js';
import type { GraphProto, NodeProto } from '../proto/onnx_pb.js';
import { EMITTED_PREFIX } from '../model/emitted-name.js';

/**
 * The ops onnxruntime-web's WebGL EP resolves, with the opset ranges it takes
 * them at: its `WEBGL_OP_RESOLVE_RULES` (onnxruntime-web 1.30,
 * `lib/onnxjs/backends/webgl/op-resolve-rules.ts`), default domain only.
 * `[opType, first opset, last opset]`, the last open when omitted.
 */
const WEBGL_OPS: ReadonlyArray<readonly [string, number, number?]> = [
  ['Abs', 6],
  ['Acos', 7],
  ['Add', 7],
  ['And', 7],
  ['Asin', 7],
  ['Atan', 7],
  ['AveragePool', 7],
  ['BatchNormalization', 7],
  ['Cast', 6],
  ['Ceil', 6],
  ['Clip', 6],
  ['Concat', 4],
  ['Conv', 1],
  ['ConvTranspose', 1],
  ['Cos', 7],
  ['Div', 7],
  ['Dropout', 7],
  ['DepthToSpace', 1],
  ['Equal', 7],
  ['Elu', 6],
  ['Exp', 6],
  ['Flatten', 1],
  ['Floor', 6],
  ['Gather', 1],
  ['Gemm', 7],
  ['GlobalAveragePool', 1],
  ['GlobalMaxPool', 1],
  ['Greater', 7],
  ['Identity', 1],
  ['ImageScaler', 1],
  ['InstanceNormalization', 6],
  ['LeakyRelu', 6],
  ['Less', 7],
  ['LRN', 1],
  ['Log', 6],
  ['MatMul', 1],
  ['MaxPool', 1],
  ['Mul', 7],
  ['Neg', 6],
  ['Not', 1],
  ['Or', 7],
  ['Pad', 2],
  ['Pow', 7],
  ['PRelu', 7],
  ['ReduceLogSum', 1],
  ['ReduceMax', 1],
  ['ReduceMean', 1],
  ['ReduceMin', 1],
  ['ReduceProd', 1],
  ['ReduceSum', 1, 12],
  ['ReduceSumSquare', 1],
  ['Relu', 6],
  ['Reshape', 5],
  ['Resize', 10],
  ['Shape', 1],
  ['Sigmoid', 6],
  ['Sin', 7],
  ['Slice', 1],
  ['Softmax', 1],
  ['Split', 2, 12],
  ['Sqrt', 6],
  ['Squeeze', 1],
  ['Sub', 7],
  ['Sum', 6],
  ['Tan', 7],
  ['Tanh', 6],
  ['Tile', 6],
  ['Transpose', 1],
  ['Upsample', 7, 9],
  ['Unsqueeze', 1],
  ['Xor', 7],
];

/** Spatial ops whose WebGL kernels are 2-D only ("currently only support 2-dimensional conv"). */
const TWO_D_ONLY = new Set(['Conv', 'ConvTranspose']);

type ConstantOf = (name: string) => { dims: readonly number[]; values: Float64Array } | undefined;

/** `with attribute name = value`, for messages. */
const attribute = (name: string, value: unknown) => `with attribute ${name} = ${JSON.stringify(value)}`;

/**
 * Why the WebGL EP cannot run `node` at `opset`, or undefined when it can:
 * the op is not in its table at that opset, or uses a form its kernel lacks.
 * `constant` reads an initializer by name (Slice's steps, Conv's weight).
 */
function webglProblem(node: NodeProto, opset: number, constant: ConstantOf): string | undefined {
  const entry = WEBGL_OPS.find(([op]) => op === node.opType);
  if (node.domain !== '' && node.domain !== 'ai.onnx') return `op domain "${node.domain}" is not supported`;
  if (node.opType === 'Constant') return constantProblem(node);
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
  if (TWO_D_ONLY.has(node.opType)) {
    const kernel = new Attributes(node).ints('kernel_shape') ?? constant(node.input[1] ?? '')?.dims.slice(2);
    if (kernel !== undefined && kernel.length !== 2) {
      return `over ${kernel.length} spatial axes is not supported: the EP has 2-D convolutions only ("currently only support 2-dimensional conv")`;
    }
  }
  return attributeProblem(node, opset, constant);
}

/**
 * The EP has no Constant kernel: its graph loader (onnxruntime-web 1.30,
 * `lib/onnxjs/graph.ts`) takes a Constant node's value as a constant tensor,
 * as it takes an initializer, where the node has exactly one attribute and
 * that attribute holds a tensor (`value`); any other form it refuses
 * ("missing attributes or missing tensor value in attributes for this
 * Constant operator").
 */
function constantProblem(node: NodeProto): string | undefined {
  const [only, ...more] = node.attribute;
  if (only !== undefined && more.length === 0 && only.t !== undefined) return undefined;
  const names = node.attribute.map((a) => a.name).join(', ') || 'none';
  return `with attributes ${names} is not supported: the EP reads a Constant's value from a single tensor attribute (value) only`;
}

/**
 * The attribute and operand forms the EP's kernels refuse or ignore
 * (onnxruntime-web 1.30, `lib/onnxjs/backends/webgl/ops/`): its pools have
 * no ceil_mode (the raw error "using ceil() in shape computation is not yet
 * supported" comes at run time), MaxPool no column-major storage, and neither
 * pool's shader reads dilations (MaxPool's output shape does: wrong values,
 * no error); Slice and Pad read their operands only from initializers; Pad
 * has no axes input and no 'wrap' mode; Resize has a fixed set of modes.
 */
function attributeProblem(node: NodeProto, opset: number, constant: ConstantOf): string | undefined {
  const attributes = new Attributes(node);
  const dynamic = (indices: readonly number[], what: string) => {
    const index = indices.find((i) => (node.input[i] ?? '') !== '' && constant(node.input[i]!) === undefined);
    return index === undefined
      ? undefined
      : `with its ${what} (input ${index}) computed in the graph is not supported: the EP reads it from an initializer only`;
  };
  switch (node.opType) {
    case 'MaxPool':
    case 'AveragePool': {
      const ceilMode = attributes.int('ceil_mode', 0);
      if (ceilMode !== 0)
        return `${attribute('ceil_mode', ceilMode)} is not supported ("using ceil() in shape computation is not yet supported for ${node.opType}")`;
      const dilations = attributes.ints('dilations', []);
      if (dilations.some((d) => d !== 1))
        return `${attribute('dilations', dilations)} is not supported: the EP's pooling shader ignores dilations`;
      const storageOrder = attributes.int('storage_order', 0);
      if (storageOrder !== 0)
        return `${attribute('storage_order', storageOrder)} is not supported ("column major storage order is not yet supported")`;
      return undefined;
    }
    case 'Slice': {
      if (opset < 10) return undefined;
      const problem = dynamic([1, 2, 3, 4], 'starts, ends, axes or steps');
      if (problem !== undefined) return problem;
      const steps = (node.input[4] ?? '') === '' ? undefined : constant(node.input[4]!);
      return steps?.values.some((s) => s !== 1) ? 'with steps other than 1 is not supported' : undefined;
    }
    case 'Pad': {
      const mode = attributes.string('mode', 'constant');
      if (!['constant', 'reflect', 'edge'].includes(mode))
        return `${attribute('mode', mode)} is not supported: the EP pads in modes constant, reflect and edge only`;
      if (opset < 11) return undefined;
      if ((node.input[3] ?? '') !== '') return 'with its axes input (opset 18) is not supported: the EP takes pads for every axis';
      return dynamic([1, 2], 'pads or constant_value');
    }
    case 'Resize':
      return resizeProblem(attributes, opset);
    default:
      return undefined;
  }
}

/** Resize's forms the EP refuses (`parseUpsampleAttributes`), or ignores: opset 18's antialias, axes and keep_aspect_ratio_policy. */
function resizeProblem(attributes: Attributes, opset: number): string | undefined {
  const mode = attributes.string('mode', 'nearest');
  const modes = opset < 11 ? ['nearest', 'linear'] : ['nearest', 'linear', 'cubic'];
  if (!modes.includes(mode)) return `${attribute('mode', mode)} is not supported at opset ${opset}: the EP has modes ${modes.join(', ')}`;
  if (opset >= 11) {
    const transform = attributes.string('coordinate_transformation_mode', 'half_pixel');
    const transforms = ['asymmetric', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'align_corners', 'tf_crop_and_resize', 'half_pixel'];
    if (!transforms.includes(transform))
      return `${attribute('coordinate_transformation_mode', transform)} is not supported: the EP has ${transforms.join(', ')}`;
    const nearest = attributes.string('nearest_mode', 'round_prefer_floor');
    if (mode === 'nearest' && !['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nearest))
      return `${attribute('nearest_mode', nearest)} is not supported`;
  }
  const antialias = attributes.int('antialias', 0);
  if (antialias !== 0) return `${attribute('antialias', antialias)} is not supported: the EP has no antialiasing`;
  if (attributes.has('axes')) return `${attribute('axes', attributes.ints('axes'))} is not supported: the EP resizes every axis`;
  const policy = attributes.string('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') return `${attribute('keep_aspect_ratio_policy', policy)} is not supported: the EP stretches`;
  return undefined;
}

/**
 * Refuses, before any session is made, a graph that onnxruntime-web's WebGL
 * EP cannot run, naming the first such op and node (the EP itself fails
 * later, and for some forms only at run time with a shader error).
 */
export function checkRunsOnWebgl(graph: GraphProto, opset: number, what: string): void {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  // The EP's loader makes a Constant node's value a constant, as an initializer (constantProblem).
  for (const node of graph.node) {
    const value = node.opType === 'Constant' && node.attribute.length === 1 ? node.attribute[0]!.t : undefined;
    if (value !== undefined && node.output[0] !== undefined) initializers.set(node.output[0], value);
  }
  const constant = (name: string) => {
    const tensor = initializers.get(name);
    return tensor === undefined ? undefined : readTensorProto(tensor, `initializer "${name}"`);
  };
  graph.node.forEach((node, index) => {
    const problem = webglProblem(node, opset, constant);
    if (problem !== undefined) {
      // Nodes the gradient rules emit are named under EMITTED_PREFIX; any other is the model's own.
      const whose = node.name.startsWith(EMITTED_PREFIX)
        ? 'It is a node of the gradient built for this model. '
        : 'It is a node of the model itself, so the EP cannot run even its forward pass. ';
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `onnxruntime-web's WebGL EP cannot run ${what}: op '${node.opType}' of ${describeNode(node, index)} ${problem}. ` +
          whose +
          'Use the WebGPU or wasm execution provider for this model.',
      );
    }
  });
}
