import { create, toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT, LOGITS_OUTPUT } from '../../src/autodiff/build-gradient-model.js';
import { attributeProto, type AttributeValue } from '../../src/autodiff/attribute-value.js';
import type { GraphFacts } from '../../src/autodiff/graph-facts.js';
import { nodeContext } from '../../src/autodiff/node-context.js';
import { constTensor, writeTensorProto, type ConstTensor } from '../../src/model/const-tensor.js';
import { DataType } from '../../src/model/data-type.js';
import { OPS } from '../../src/ops/registry.js';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type NodeProto,
} from '../../src/proto/onnx_pb.js';

/** One operand of the op under test. */
export interface Operand {
  readonly shape: readonly number[];
  /** Values; uniform in [−1, 1) from the case's seed when omitted. */
  readonly values?: ArrayLike<number>;
  readonly dataType?: DataType;
  /** A constant (an initializer, e.g. a weight or an axes list): not differentiated. */
  readonly constant?: boolean;
}

/** A single-op model to differentiate: one case of a rule's test. */
export interface GradientCase {
  readonly opType: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** The op's inputs in order; null for an omitted optional input. */
  readonly inputs: ReadonlyArray<Operand | null>;
  /** How many outputs the node has (default 1). */
  readonly outputs?: number;
  /** Which output is differentiated (default 0). */
  readonly output?: number;
  readonly opset?: number;
  readonly seed?: number;
}

/** Deterministic uniform values in [lo, hi), rounded to float32. */
export function uniformValues(count: number, seed: number, lo = -1, hi = 1): Float64Array {
  let state = (seed * 2654435761 + 1) >>> 0;
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    state = (state ^ (state >>> 12)) >>> 0;
    values[i] = Math.fround(lo + ((hi - lo) * state) / 4294967296);
  }
  return values;
}

function operandValues(c: GradientCase): Array<ConstTensor | undefined> {
  return c.inputs.map((operand, i) => {
    if (operand === null) return undefined;
    const count = operand.shape.reduce((n, d) => n * d, 1);
    const values = operand.values ?? uniformValues(count, (c.seed ?? 1) * 31 + i);
    return constTensor(operand.dataType ?? DataType.FLOAT, operand.shape, values);
  });
}

function nodeOf(c: GradientCase, inputNames: readonly string[]): NodeProto {
  return create(NodeProtoSchema, {
    opType: c.opType,
    name: `${c.opType.toLowerCase()}_under_test`,
    input: [...inputNames],
    output: Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`),
    attribute: Object.entries(c.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
  });
}

/** Evaluates the op in float64 through its `evaluate`, checking the types it infers. */
export function evaluateOp(c: GradientCase, values: ReadonlyArray<ConstTensor | undefined>): ConstTensor[] {
  const names = values.map((v, i) => (v === undefined ? '' : `x${i}`));
  const facts: GraphFacts = { types: new Map(), constants: new Map() };
  values.forEach((v, i) => {
    if (v === undefined) return;
    facts.constants.set(`x${i}`, v);
    facts.types.set(`x${i}`, { dataType: v.dataType, shape: v.dims });
  });
  const op = OPS.get(c.opType);
  if (op?.evaluate === undefined) throw new Error(`${c.opType} has no evaluate`);
  const ctx = nodeContext(nodeOf(c, names), facts, c.opset ?? 17);
  const types = op.inferTypes(ctx);
  const result = op.evaluate(ctx);
  if (result === undefined) throw new Error(`${c.opType}.evaluate returned nothing for constant inputs`);
  result.forEach((r, i) => expect(r.dims, `inferred shape of output ${i}`).toEqual(types[i]!.shape));
  return result;
}

function valueInfo(name: string, dataType: DataType, shape: readonly number[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: dataType,
          shape: create(TensorShapeProtoSchema, {
            dim: shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })),
          }),
        }),
      },
    }),
  });
}

/**
 * The model `x (as [1, ...shape]) → Reshape → op → Reshape → logits [1, size(y)]`
 * with every operand but `variable` as an initializer.
 */
function caseModel(c: GradientCase, values: ReadonlyArray<ConstTensor | undefined>, variable: number) {
  const x = values[variable]!;
  const opInputs = values.map((v, i) => (v === undefined ? '' : i === variable ? 'x_op' : `x${i}`));
  const node = nodeOf(c, opInputs);
  const outputs = evaluateOp(c, values);
  const y = outputs[c.output ?? 0]!;
  const ySize = y.values.length;
  const initializers = values.flatMap((v, i) => (v === undefined || i === variable ? [] : [writeTensorProto(`x${i}`, v)]));
  initializers.push(
    writeTensorProto('x_shape', constTensor(DataType.INT64, [x.dims.length], x.dims)),
    writeTensorProto('y_shape', constTensor(DataType.INT64, [2], [1, ySize])),
  );
  const graph = create(GraphProtoSchema, {
    name: 'case',
    node: [
      create(NodeProtoSchema, { opType: 'Reshape', input: ['x', 'x_shape'], output: ['x_op'] }),
      node,
      create(NodeProtoSchema, { opType: 'Reshape', input: [`y${c.output ?? 0}`, 'y_shape'], output: ['logits'] }),
    ],
    initializer: initializers,
    input: [valueInfo('x', x.dataType, [1, ...x.dims])],
    output: [valueInfo('logits', y.dataType, [1, ySize])],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(c.opset ?? 17) })],
    graph,
  });
  return { model, y };
}

/**
 * Differentiates the op with respect to each non-constant operand in turn:
 * our gradient graph, run by onnxruntime-node in float32, against float64
 * central differences of Σ ȳ ⊙ y through the op's own `evaluate`, for a
 * random cotangent ȳ. Also checks the forward output against `evaluate`,
 * so that the reference is the ONNX semantics as ONNX Runtime runs them.
 */
export async function checkGradient(c: GradientCase, tolerance = 1e-4): Promise<void> {
  const values = operandValues(c);
  const variables = c.inputs.flatMap((operand, i) => (operand !== null && !operand.constant ? [i] : []));
  expect(variables.length, 'a case needs an operand to differentiate').toBeGreaterThan(0);
  for (const variable of variables) {
    const { model, y } = caseModel(c, values, variable);
    const x = values[variable]!;
    const cotangent = uniformValues(y.values.length, (c.seed ?? 1) * 7 + 3);
    const built = buildGradientModel(model, {
      inputName: 'x',
      inputShape: [1, ...x.dims],
      outputName: 'logits',
      keepSoftmax: true,
      result: 'gradient',
    });
    const session = await ort.InferenceSession.create(built.bytes);
    try {
      const result = await session.run({
        x: new ort.Tensor('float32', Float32Array.from(x.values), [1, ...x.dims]),
        [COTANGENT_INPUT]: new ort.Tensor('float32', Float32Array.from(cotangent), [1, y.values.length]),
      });
      const forward = result[LOGITS_OUTPUT]!.data as Float32Array;
      expectClose(forward, y.values, 1e-5, `${c.opType} forward vs evaluate`);
      const gradient = result[GRADIENT_OUTPUT]!.data as Float32Array;
      const reference = centralDifferences(c, values, variable, cotangent);
      expectClose(gradient, reference, tolerance, `${c.opType} gradient of input ${variable}`);
    } finally {
      await session.release();
    }
  }
}

function centralDifferences(
  c: GradientCase,
  values: ReadonlyArray<ConstTensor | undefined>,
  variable: number,
  cotangent: Float64Array,
): Float64Array {
  const x = values[variable]!;
  const objective = (probe: Float64Array) => {
    const inputs = values.map((v, i) => (i === variable ? constTensor(x.dataType, x.dims, probe) : v));
    const y = evaluateOp(c, inputs)[c.output ?? 0]!;
    return y.values.reduce((s, v, i) => s + v * cotangent[i]!, 0);
  };
  const probe = Float64Array.from(x.values);
  const gradient = new Float64Array(probe.length);
  for (let k = 0; k < probe.length; k++) {
    const h = 1e-6 * Math.max(1, Math.abs(x.values[k]!));
    probe[k] = x.values[k]! + h;
    const up = objective(probe);
    probe[k] = x.values[k]! - h;
    const down = objective(probe);
    probe[k] = x.values[k]!;
    gradient[k] = (up - down) / (2 * h);
  }
  return gradient;
}

/** max |actual − expected| ≤ tolerance · max(|expected|), and the reference is not all zeros. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale, `${label}: the reference is all zeros, so the check could not fail`).toBeGreaterThan(0);
  expect(error / scale, `${label}: max error ${error} against max |reference| ${scale}`).toBeLessThanOrEqual(tolerance);
}

export { toBinary };
