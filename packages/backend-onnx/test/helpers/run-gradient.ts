import * as ort from 'onnxruntime-node';
import type { AttributeValue } from '../../src/model/attribute-value.js';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../../src/autodiff/build-gradient-model.js';
import type { ExecutionProvider } from '../../src/execution-provider/execution-provider.js';
import { constTensor, type ConstTensor } from '../../src/model/const-tensor.js';
import { DataType } from '../../src/model/data-type.js';
import { evaluateOp, nodeOf, operandValues, type GradientCase } from './op-case.js';
import { node, onnxBytes, onnxModel, valueInfo } from './onnx-model-builder.js';

/*
 * Runs one op's gradient graph (or its forward) on onnxruntime-node at given
 * values, for tests whose expected values are worked out by hand: kinks and
 * ties, where central differences average the two sides.
 */

/** A small graph from one float32 input `x` to `logits` (any shape; flattened to [1, n] before differentiation). */
export interface GraphCase {
  readonly nodes: ReadonlyArray<{
    readonly opType: string;
    readonly inputs: readonly string[];
    readonly outputs: readonly string[];
    readonly attributes?: Readonly<Record<string, AttributeValue>>;
  }>;
  /** Constants by name. */
  readonly initializers?: Readonly<Record<string, ConstTensor>>;
  /** Values of `x`, and its shape (no batch axis). */
  readonly x: { readonly shape: readonly number[]; readonly values: ArrayLike<number> };
  /** The value differentiated, and its number of elements. */
  readonly output: string;
  readonly outputSize: number;
  readonly opset?: number;
  /**
   * The execution provider the gradient graph is built for (default 'cpu'). Its
   * graph is made of standard ops, so onnxruntime-node runs it as well: this
   * checks the alternatives a provider gets against the same references.
   */
  readonly executionProvider?: ExecutionProvider;
}

/** The gradient of Σ ȳ ⊙ output with respect to `x`, through our gradient graph on onnxruntime-node (ȳ all ones by default). */
export async function runGraphGradient(c: GraphCase, cotangent?: ArrayLike<number>): Promise<Float32Array> {
  const { x, outputSize } = c;
  const model = onnxModel({
    opset: c.opset ?? 17,
    nodes: [
      node('Reshape', ['x', 'x_shape'], ['x_op']),
      ...c.nodes.map((n) =>
        node(
          n.opType,
          n.inputs.map((name) => (name === 'x' ? 'x_op' : name)),
          n.outputs,
          n.attributes ?? {},
        ),
      ),
      node('Reshape', [c.output, 'y_shape'], ['logits']),
    ],
    initializers: {
      ...c.initializers,
      x_shape: constTensor(DataType.INT64, [x.shape.length], x.shape),
      y_shape: constTensor(DataType.INT64, [2], [1, outputSize]),
    },
    inputs: [valueInfo('x', [1, ...x.shape])],
    outputs: [valueInfo('logits', [1, outputSize])],
  });
  const built = buildGradientModel(model, {
    inputName: 'x',
    inputShape: [1, ...x.shape],
    outputName: 'logits',
    keepSoftmax: true,
    result: 'gradient',
    ...(c.executionProvider === undefined ? {} : { executionProvider: c.executionProvider }),
  });
  const session = await ort.InferenceSession.create(built.bytes);
  try {
    const result = await session.run({
      x: new ort.Tensor('float32', Float32Array.from(x.values), [1, ...x.shape]),
      [COTANGENT_INPUT]: new ort.Tensor(
        'float32',
        cotangent === undefined ? new Float32Array(outputSize).fill(1) : Float32Array.from(cotangent),
        [1, outputSize],
      ),
    });
    return result[GRADIENT_OUTPUT]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/**
 * The gradient our graph computes for operand `variable` of the case's op
 * (output `c.output`, flattened), for the cotangent given (all ones by default).
 */
export async function runGradient(c: GradientCase, variable: number, cotangent?: ArrayLike<number>): Promise<Float32Array> {
  const values = operandValues(c);
  const x = values[variable]!;
  const y = evaluateOp(c, values)[c.output ?? 0]!;
  const initializers: Record<string, ConstTensor> = {};
  values.forEach((v, i) => {
    if (v !== undefined && i !== variable) initializers[`x${i}`] = v;
  });
  const opNode = nodeOf(
    c,
    values.map((v, i) => (v === undefined ? '' : i === variable ? 'x' : `x${i}`)),
  );
  return runGraphGradient(
    {
      nodes: [{ opType: c.opType, inputs: opNode.input, outputs: opNode.output, attributes: c.attributes ?? {} }],
      initializers,
      x: { shape: x.dims, values: x.values },
      output: `y${c.output ?? 0}`,
      outputSize: y.values.length,
      ...(c.opset === undefined ? {} : { opset: c.opset }),
      ...(c.executionProvider === undefined ? {} : { executionProvider: c.executionProvider }),
    },
    cotangent,
  );
}

/** The op's outputs as ONNX Runtime computes them from the case's operands, as plain numbers (bool as 0/1). */
export async function runForward(c: GradientCase): Promise<number[][]> {
  const values = operandValues(c);
  // evaluate may compute optional outputs the node does not ask for (MaxPool's Indices).
  const outputs = evaluateOp(c, values).slice(0, c.outputs ?? 1);
  const initializers: Record<string, ConstTensor> = {};
  values.forEach((v, i) => {
    if (v !== undefined) initializers[`x${i}`] = v;
  });
  const bytes = onnxBytes({
    opset: c.opset ?? 17,
    nodes: [
      nodeOf(
        c,
        values.map((v, i) => (v === undefined ? '' : `x${i}`)),
      ),
    ],
    initializers,
    inputs: [],
    outputs: outputs.map((o, i) => valueInfo(`y${i}`, o.dims, o.dataType)),
  });
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({});
    return outputs.map((_, i) => Array.from(result[`y${i}`]!.data as ArrayLike<number | bigint | boolean>, (v) => Number(v)));
  } finally {
    await session.release();
  }
}
