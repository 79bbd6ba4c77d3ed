import { create } from '@bufbuild/protobuf';
import { expect } from 'vitest';
import { attributeProto, type AttributeValue } from '../../src/model/attribute-value.js';
import type { ExecutionProvider } from '../../src/execution-provider/execution-provider.js';
import type { GraphFacts } from '../../src/autodiff/graph-facts.js';
import { nodeContext } from '../../src/autodiff/node-context.js';
import { constTensor, type ConstTensor } from '../../src/model/const-tensor.js';
import { DataType } from '../../src/model/data-type.js';
import { OPS } from '../../src/ops/registry.js';
import { NodeProtoSchema, type NodeProto } from '../../src/proto/onnx_pb.js';

/* A single-op test case, its operand values, and its float64 evaluation. */

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
  /** The execution provider the gradient graph is built for (default 'cpu'); run on onnxruntime-node all the same. */
  readonly executionProvider?: ExecutionProvider;
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

export function operandValues(c: GradientCase): Array<ConstTensor | undefined> {
  return c.inputs.map((operand, i) => {
    if (operand === null) return undefined;
    const count = operand.shape.reduce((n, d) => n * d, 1);
    const values = operand.values ?? uniformValues(count, (c.seed ?? 1) * 31 + i);
    return constTensor(operand.dataType ?? DataType.FLOAT, operand.shape, values);
  });
}

export function nodeOf(c: GradientCase, inputNames: readonly string[]): NodeProto {
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
