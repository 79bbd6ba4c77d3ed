import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import type { AttributeValue } from '../model/attribute-value.js';
import type { GradientContext, TensorType } from '../ops/op-definition.js';
import { OPS } from '../ops/registry.js';
import { AttributeProto_AttributeType as AttributeType, type NodeProto } from '../proto/onnx_pb.js';

/**
 * A Conv, Gemm or MatMul node seen as a linear map of its one input that
 * depends on the model input, z = L(x; W) + b, with a constant W — what LRP's
 * rules (docs/methods.md, "LRP") are written in. They need the layer with
 * its weights replaced (W⁺, W², ...) forward and backward; both are the node's
 * own op, the backward one through its ordinary rule of ops/.
 */
export interface LinearLayer {
  /** The data input x and the output z (bias included). */
  readonly x: string;
  readonly z: string;
  readonly xType: TensorType;
  readonly weight: ConstTensor;
  /** The bias as a tensor that broadcasts against z, or undefined. */
  readonly bias: ConstTensor | undefined;
  /** L(input; weight), no bias. */
  forward(input: string, weight: ConstTensor): string;
  /** The vector–Jacobian product of L(·; weight) at cotangent `dz`: weightᵀ dz, shaped as x. */
  backward(dz: string, weight: ConstTensor): string;
  /** x's cotangent in the rule's result list. */
  result(dx: string): Array<string | undefined>;
}

/** The node as a linear layer; fails, naming the node, where it is not one with a constant weight. */
export function linearLayer(g: GradientContext): LinearLayer {
  const op = g.node.opType;
  const data = op === 'MatMul' && !g.needsGradient(0) ? 1 : 0;
  const slot = 1 - data;
  if (g.needsGradient(slot)) g.fail('both operands depend on the input; LRP needs one constant weight operand');
  if (op === 'Gemm' && g.attributes.int('transA', 0) !== 0) g.fail('LRP takes a Gemm whose A is not transposed (transA = 0)');
  const weight = g.constant(slot);
  if (weight === undefined) g.fail(`LRP needs the weight (input ${slot}) known at build time`);
  const attributes = attributeValues(g.node);
  const names = new Map<ConstTensor, string>();
  const nameOf = (w: ConstTensor) => {
    const known = names.get(w);
    if (known !== undefined) return known;
    const name = g.literal(w.values, w.dims, w.dataType);
    names.set(w, name);
    return name;
  };
  return {
    x: g.inputName(data),
    z: g.outputName(0),
    xType: g.input(data),
    weight: weight!,
    bias: biasOf(g),
    forward: (input, w) => {
      const operands = data === 0 ? [input, nameOf(w)] : [nameOf(w), input];
      if (op === 'Gemm' && (g.opset < 11 || !g.supports('gemmWithoutC'))) operands.push(g.literal([0], [1]));
      return g.op(op, operands, attributes);
    },
    backward: (dz, w) => {
      const replaced: GradientContext = {
        ...g,
        dy: (i) => (i === 0 ? dz : undefined),
        needsGradient: (i) => i === data,
        inputName: (i) => (i === slot ? nameOf(w) : g.inputName(i)),
        constant: (i) => (i === slot ? w : g.constant(i)),
      };
      const rule = OPS.get(op)!.gradient;
      if (rule === 'none') throw new Error(`unreachable: ${op} has a gradient rule`);
      return rule(replaced)[data]!;
    },
    result: (dx) => g.node.input.map((_, i) => (i === data ? dx : undefined)),
  };
}

/** The weight with `f` applied to each value. */
export function mapWeight(w: ConstTensor, f: (v: number) => number): ConstTensor {
  return constTensor(w.dataType, w.dims, Array.from(w.values, f));
}

/** Conv's B as [1, M, 1, ...], Gemm's β·C as it is; undefined without one. */
function biasOf(g: GradientContext): ConstTensor | undefined {
  const op = g.node.opType;
  if (op === 'MatMul' || !g.hasInput(2)) return undefined;
  const bias = g.constant(2);
  if (bias === undefined) g.fail('LRP needs the bias (input 2) known at build time');
  if (op === 'Gemm') return mapWeight(bias!, (v) => v * g.attributes.float('beta', 1));
  const rank = g.output(0).shape.length;
  return constTensor(bias!.dataType, [1, bias!.dims[0]!, ...Array<number>(rank - 2).fill(1)], bias!.values);
}

/** The node's attributes as an emitted node takes them (Conv, Gemm and MatMul have only these kinds). */
function attributeValues(node: NodeProto): Record<string, AttributeValue> {
  const values: Record<string, AttributeValue> = {};
  for (const a of node.attribute) {
    if (a.type === AttributeType.INT) values[a.name] = { int: Number(a.i) };
    else if (a.type === AttributeType.FLOAT) values[a.name] = { float: a.f };
    else if (a.type === AttributeType.INTS) values[a.name] = { ints: a.ints.map(Number) };
    else if (a.type === AttributeType.FLOATS) values[a.name] = { floats: [...a.floats] };
    else if (a.type === AttributeType.STRING) values[a.name] = { string: new TextDecoder().decode(a.s) };
  }
  return values;
}
