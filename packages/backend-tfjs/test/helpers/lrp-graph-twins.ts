import { attrs, GraphDefBuilder } from './graph-model.js';
import { twinWeights } from './lrp-twins.js';

/**
 * The LRP fixture nets of lrp-twins.ts as tfjs-converter GraphModels, in the
 * forms the converter writes for Keras and SavedModels: _FusedConv2D,
 * FusedDepthwiseConv2dNative and _FusedMatMul with a fused BiasAdd (and
 * Relu), plain Conv2D, DepthwiseConv2dNative and MatMul (one with its kernel
 * transposed) with a BiasAdd node, FusedBatchNormV3 after a convolution, an
 * explicitly padded convolution (PyTorch's symmetric padding), batch norms
 * as Mul and AddV2 by constants, ReLU6 as a Relu6 node, a Minimum–Maximum
 * pair, a ClipByValue and fused after a batch norm folded in beforehand,
 * MaxPool, AvgPool, Mean, AddV2, Reshape, and a Softmax head. Same weights, same
 * functions: the maps are the LayersModel twins' and the references'.
 */
export function lrpGraphTwin(name: string) {
  const weights = twinWeights(name);
  const graph = new GraphDefBuilder();
  const x = graph.placeholder('input', [-1, 8, 8, 3]);
  const NHWC = attrs.string('NHWC');
  const ones = attrs.ints([1, 1, 1, 1]);
  let count = 0;
  const fresh = (what: string) => `${what}_${count++}`;

  type Conv = {
    op: 'Conv2D' | 'DepthwiseConv2dNative';
    fused?: 'bias' | 'bias_relu' | 'bias_relu6';
    padding?: 'SAME' | 'VALID' | number;
    strides?: number;
    /** The batch normalization after it folded into its kernel and bias here, as TensorFlow's optimizer does before converting. */
    folded?: boolean;
  };
  /** A convolution; with `fused`, the converter's fused op, else the op and a BiasAdd node. */
  const conv = (input: string, { op, fused, padding = 'SAME', strides = 1, folded = false }: Conv) => {
    const entry = folded
      ? foldBatchNorm(weights.take('conv'), weights.take('batchnorm'))
      : weights.take(op === 'Conv2D' ? 'conv' : 'depthwise');
    const name = fresh(op);
    const kernel = graph.constant(`${name}/kernel`, entry.kernelShape, entry.kernel);
    const bias = entry.bias === undefined ? undefined : graph.constant(`${name}/bias`, [entry.bias.length], entry.bias);
    const geometry = {
      strides: attrs.ints([1, strides, strides, 1]),
      padding: attrs.string(typeof padding === 'number' ? 'EXPLICIT' : padding),
      explicit_paddings: attrs.ints(typeof padding === 'number' ? [0, 0, padding, padding, padding, padding, 0, 0] : []),
      data_format: NHWC,
      dilations: ones,
    };
    if (fused !== undefined) {
      if (bias === undefined) throw new Error(`${name}: a fused convolution needs a bias`);
      const fusedOp = op === 'Conv2D' ? '_FusedConv2D' : 'FusedDepthwiseConv2dNative';
      const fusedOps = fused === 'bias' ? ['BiasAdd'] : ['BiasAdd', fused === 'bias_relu' ? 'Relu' : 'Relu6'];
      return graph.op(name, fusedOp, [input, kernel, bias], { ...geometry, fused_ops: attrs.strings(fusedOps), num_args: attrs.int(1) });
    }
    const value = graph.op(name, op, [input, kernel], geometry);
    return bias === undefined ? value : graph.op(`${name}/BiasAdd`, 'BiasAdd', [value, bias], { data_format: NHWC });
  };
  const batchNorm = (input: string) => {
    const entry = weights.take('batchnorm');
    const name = fresh('FusedBatchNormV3');
    const parameter = (what: string, values: number[]) => graph.constant(`${name}/${what}`, [values.length], values);
    const parameters = [
      parameter('gamma', entry.gamma),
      parameter('beta', entry.beta),
      parameter('mean', entry.mean),
      parameter('variance', entry.variance),
    ];
    return graph.op(name, 'FusedBatchNormV3', [input, ...parameters], {
      epsilon: attrs.float(entry.epsilon),
      data_format: NHWC,
      is_training: attrs.bool(false),
    });
  };
  /** A dense layer: _FusedMatMul, or MatMul (`transposed`: its kernel stored [out, in]) and BiasAdd. */
  const dense = (input: string, form: 'fused' | 'fused_relu' | 'plain' | 'transposed') => {
    const entry = weights.take('dense');
    const name = fresh('MatMul');
    const [inputs, outputs] = entry.kernelShape as [number, number];
    const transposed = form === 'transposed';
    const values = transposed
      ? Array.from({ length: inputs * outputs }, (_, k) => entry.kernel[(k % inputs) * outputs + Math.floor(k / inputs)]!)
      : entry.kernel;
    const kernel = graph.constant(`${name}/kernel`, transposed ? [outputs, inputs] : [inputs, outputs], values);
    const bias = entry.bias === undefined ? undefined : graph.constant(`${name}/bias`, [outputs], entry.bias);
    const transposes = { transpose_a: attrs.bool(false), transpose_b: attrs.bool(transposed) };
    if (form === 'fused' || form === 'fused_relu') {
      if (bias === undefined) throw new Error(`${name}: a fused MatMul needs a bias`);
      const fusedOps = form === 'fused' ? ['BiasAdd'] : ['BiasAdd', 'Relu'];
      return graph.op(name, '_FusedMatMul', [input, kernel, bias], {
        ...transposes,
        fused_ops: attrs.strings(fusedOps),
        num_args: attrs.int(1),
      });
    }
    const value = graph.op(name, 'MatMul', [input, kernel], transposes);
    return bias === undefined ? value : graph.op(`${name}/BiasAdd`, 'BiasAdd', [value, bias]);
  };
  const relu = (input: string) => graph.op(fresh('Relu'), 'Relu', [input]);
  const relu6 = (input: string) => graph.op(fresh('Relu6'), 'Relu6', [input]);
  /** ReLU6 as Keras's clip_by_value converts: a Minimum by 6, then a Maximum by 0 (Relu first, as there). */
  const minimumMaximum = (input: string) => {
    const minimum = graph.op(fresh('Minimum'), 'Minimum', [
      graph.op(fresh('Relu'), 'Relu', [input]),
      graph.constant(fresh('six'), [], [6]),
    ]);
    return graph.op(fresh('Maximum'), 'Maximum', [minimum, graph.constant(fresh('zero'), [], [0])]);
  };
  const clipByValue = (input: string) =>
    graph.op(fresh('ClipByValue'), 'ClipByValue', [input, graph.constant(fresh('low'), [], [0]), graph.constant(fresh('high'), [], [6])]);
  /** A batch normalization as Mul and AddV2 by constants, as the converter writes one it did not fuse. */
  const mulAdd = (input: string) => {
    const entry = weights.take('batchnorm');
    const scale = entry.gamma.map((g, f) => g / Math.sqrt(entry.variance[f]! + entry.epsilon));
    const offset = scale.map((a, f) => entry.beta[f]! - entry.mean[f]! * a);
    const name = fresh('batchnorm');
    const product = graph.op(`${name}/mul`, 'Mul', [input, graph.constant(`${name}/scale`, [scale.length], scale)]);
    return graph.op(`${name}/add`, 'AddV2', [product, graph.constant(`${name}/offset`, [offset.length], offset)]);
  };
  const pool = (op: 'MaxPool' | 'AvgPool', input: string) =>
    graph.op(fresh(op), op, [input], {
      ksize: attrs.ints([1, 2, 2, 1]),
      strides: attrs.ints([1, 2, 2, 1]),
      padding: attrs.string('VALID'),
      data_format: NHWC,
    });
  const flatten = (input: string, size: number) =>
    graph.op(fresh('Reshape'), 'Reshape', [input, graph.constantInt32(fresh('shape'), [-1, size])]);
  const globalAverage = (input: string) =>
    graph.op(fresh('Mean'), 'Mean', [input, graph.constantInt32(fresh('axes'), [1, 2])], {
      keep_dims: attrs.bool(false),
      Tidx: { type: 'DT_INT32' },
    });

  let logits: string;
  switch (name) {
    case 'vgg': {
      const features = pool('AvgPool', relu(conv(pool('MaxPool', conv(x, { op: 'Conv2D', fused: 'bias_relu' })), { op: 'Conv2D' })));
      logits = dense(dense(flatten(features, 32), 'fused_relu'), 'transposed');
      break;
    }
    case 'resnet': {
      const stem = relu(batchNorm(conv(x, { op: 'Conv2D' })));
      const branch = batchNorm(conv(relu(batchNorm(conv(stem, { op: 'Conv2D', fused: 'bias' }))), { op: 'Conv2D' }));
      logits = dense(globalAverage(relu(graph.op('add', 'AddV2', [branch, stem]))), 'plain');
      break;
    }
    case 'mobilenet': {
      const stem = relu(batchNorm(conv(x, { op: 'Conv2D', padding: 1, strides: 2 })));
      const depthwise = relu(batchNorm(conv(stem, { op: 'DepthwiseConv2dNative', fused: 'bias' })));
      const pointwise = relu(mulAdd(conv(depthwise, { op: 'Conv2D' })));
      logits = dense(globalAverage(pointwise), 'fused');
      break;
    }
    case 'mobilenetv2': {
      const stem = relu6(batchNorm(conv(x, { op: 'Conv2D', padding: 1, strides: 2 })));
      const expand = minimumMaximum(batchNorm(conv(stem, { op: 'Conv2D' })));
      const depthwise = clipByValue(mulAdd(conv(expand, { op: 'DepthwiseConv2dNative' })));
      const project = batchNorm(conv(depthwise, { op: 'Conv2D', fused: 'bias' }));
      const sum = relu6(graph.op('add', 'AddV2', [project, stem]));
      logits = dense(globalAverage(conv(sum, { op: 'Conv2D', fused: 'bias_relu6', folded: true })), 'fused');
      break;
    }
    case 'nobias':
      logits = dense(flatten(pool('MaxPool', relu(conv(x, { op: 'Conv2D' }))), 96), 'plain');
      break;
    default:
      throw new Error(`no graph twin of ${name}`);
  }
  weights.finish();
  graph.op('Identity', 'Identity', [graph.op('Softmax', 'Softmax', [logits])]);
  return graph.load();
}

type Taken = ReturnType<ReturnType<typeof twinWeights>['take']>;

/** W′ = W·γ/√(σ² + ε) per output channel, b′ = (b − μ)·γ/√(σ² + ε) + β, in float64. */
function foldBatchNorm(conv: Taken, bn: Taken): { kernel: number[]; kernelShape: number[]; bias: number[] } {
  if (!('kernel' in conv) || !('gamma' in bn)) throw new Error('foldBatchNorm: a convolution and a batch norm');
  const factor = bn.gamma.map((g, f) => g / Math.sqrt(bn.variance[f]! + bn.epsilon));
  const outputs = factor.length;
  return {
    kernel: conv.kernel.map((w, k) => w * factor[k % outputs]!),
    kernelShape: conv.kernelShape,
    bias: factor.map((a, f) => ((conv.bias?.[f] ?? 0) - bn.mean[f]!) * a + bn.beta[f]!),
  };
}
