import { create } from '@bufbuild/protobuf';
import { sizeOf } from '@saliency/core';
import { constTensor, writeTensorProto } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { NodeProtoSchema, type NodeProto, type TensorProto } from '../proto/onnx_pb.js';
import { supports, type ExecutionProvider } from '../execution-provider/execution-provider.js';
import { attributeProto, type AttributeValue } from '../model/attribute-value.js';
import { reduceAxesAsInput } from '../model/operand-forms.js';
import type { TensorType } from '../ops/op-definition.js';
import { sameShape } from '../ops/tensor-math.js';
import { EMITTED_PREFIX } from '../model/emitted-name.js';

/**
 * Appends nodes and initializers to a graph under fresh names, and knows the
 * static type of everything it emits, so that the gradient rules can be
 * written with shapes known at build time.
 */
export class GraphEmitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #taken: ReadonlySet<string>;
  readonly #types: Map<string, TensorType>;
  readonly #opset: number;
  readonly executionProvider: ExecutionProvider;
  #counter = 0;

  constructor(taken: ReadonlySet<string>, types: Map<string, TensorType>, opset: number, executionProvider: ExecutionProvider = 'cpu') {
    this.#taken = taken;
    this.#types = types;
    this.#opset = opset;
    this.executionProvider = executionProvider;
  }

  /** A value name used nowhere in the model. */
  freshName(hint = 'v'): string {
    for (;;) {
      const name = `${EMITTED_PREFIX}${hint}${this.#counter++}`;
      if (!this.#taken.has(name)) return name;
    }
  }

  node(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.freshName());
    this.nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: this.freshName(`${opType}_`),
        input: [...inputs],
        output: outputs,
        attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
      }),
    );
    return outputs;
  }

  literal(values: ArrayLike<number>, dims: readonly number[], dataType: DataType = DataType.FLOAT): string {
    const name = this.freshName('c');
    this.initializers.push(writeTensorProto(name, constTensor(dataType, dims, values)));
    this.#types.set(name, { dataType, shape: [...dims] });
    return name;
  }

  /** Records the type of an emitted value (the rules know their shapes; this lets later rules read them). */
  setType(name: string, type: TensorType): void {
    this.#types.set(name, type);
  }

  /**
   * A Reduce* op over `axes` of `input` (of shape `shape`), its axes written
   * as an attribute or an input as the opset wants. Where the execution provider reads no
   * axes input (WebGL), ReduceSum and ReduceMean at such an opset become a
   * MatMul with a constant vector w (ones, or 1/m for the mean over m values):
   * the reduced axes moved last and flattened to X [k, m] (a Transpose unless
   * they are already last), y = X·w [k, 1]; or, when the reduced axes lead,
   * y = wᵀ·X for X [m, k] with no Transpose. Other Reduce* ops keep the input
   * form, and the WebGL check refuses them by name.
   */
  reduce(opType: string, input: string, shape: readonly number[], axes: readonly number[], keepdims: boolean): string {
    if (reduceAxesAsInput(opType, this.#opset)) {
      if (!supports(this.executionProvider, 'reduceAxesInput') && (opType === 'ReduceSum' || opType === 'ReduceMean')) {
        return this.#reduceByMatMul(opType, input, shape, axes, keepdims);
      }
      const axesName = this.literal(axes, [axes.length], DataType.INT64);
      return this.node(opType, [input, axesName], 1, { keepdims: { int: keepdims ? 1 : 0 } })[0]!;
    }
    return this.node(opType, [input], 1, { axes: { ints: axes }, keepdims: { int: keepdims ? 1 : 0 } })[0]!;
  }

  #reduceByMatMul(
    opType: 'ReduceSum' | 'ReduceMean',
    input: string,
    shape: readonly number[],
    axes: readonly number[],
    keepdims: boolean,
  ): string {
    const rank = shape.length;
    const reduced = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    const kept = shape.map((_, a) => a).filter((a) => !reduced.includes(a));
    const m = sizeOf(reduced.map((a) => shape[a]!));
    const k = sizeOf(kept.map((a) => shape[a]!));
    const dataType = this.#types.get(input)?.dataType ?? DataType.FLOAT;
    const weights = new Float64Array(m).fill(opType === 'ReduceSum' ? 1 : 1 / m);
    let product: string;
    if (reduced.every((a, i) => a === i)) {
      product = this.node('MatMul', [this.literal(weights, [1, m], dataType), this.reshape(input, [m, k])], 1)[0]!;
    } else {
      const order = [...kept, ...reduced];
      const moved = order.every((a, i) => a === i) ? input : this.node('Transpose', [input], 1, { perm: { ints: order } })[0]!;
      product = this.node('MatMul', [this.reshape(moved, [k, m]), this.literal(weights, [m, 1], dataType)], 1)[0]!;
    }
    const outShape = keepdims ? shape.map((d, a) => (reduced.includes(a) ? 1 : d)) : kept.map((a) => shape[a]!);
    return this.reshape(product, outShape);
  }

  /** Reshape to a static shape; a no-op when the input's shape `from` is given and already equal. */
  reshape(input: string, shape: readonly number[], from?: readonly number[]): string {
    if (from !== undefined && sameShape(from, shape)) return input;
    return this.node('Reshape', [input, this.literal(shape, [shape.length], DataType.INT64)], 1)[0]!;
  }

  /**
   * Sums a cotangent of the broadcast shape `from` back to the operand's shape
   * `to`: over the leading axes `to` lacks and the axes where `to` is 1.
   */
  unbroadcast(gradient: string, from: readonly number[], to: readonly number[]): string {
    if (sameShape(from, to)) return gradient;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let axis = 0; axis < from.length; axis++) {
      if (axis < lead || (to[axis - lead] === 1 && from[axis] !== 1)) axes.push(axis);
    }
    const summed = axes.length > 0 ? this.reduce('ReduceSum', gradient, from, axes, true) : gradient;
    return this.reshape(summed, to);
  }
}
