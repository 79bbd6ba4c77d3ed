import type { Capability, ExecutionProvider } from '../execution-provider/execution-provider.js';
import type { AttributeValue } from '../model/attribute-value.js';
import type { Attributes } from '../model/attributes.js';
import type { ConstTensor } from '../model/const-tensor.js';
import type { DataType } from '../model/data-type.js';
import type { NodeProto } from '../proto/onnx_pb.js';

/** A value's element type and static shape, for the input shape in use. */
export interface TensorType {
  readonly dataType: DataType;
  readonly shape: readonly number[];
}

/** What every rule of an op sees of its node. */
export interface NodeContext {
  readonly node: NodeProto;
  readonly attributes: Attributes;
  /** The model's opset version of the default ONNX domain. */
  readonly opset: number;
  /** Number of inputs as written in the node (omitted optional inputs are ''). */
  readonly inputCount: number;
  /** Whether input `i` is given (not omitted and within the node's inputs). */
  hasInput(i: number): boolean;
  /** Static type of input `i`; throws if it is omitted. */
  input(i: number): TensorType;
  /** Value of input `i` when it is known at build time (initializer, Constant, folded). */
  constant(i: number): ConstTensor | undefined;
  /** Throws an error that names the op, the node and the problem. */
  fail(message: string): never;
  /** Throws `MODEL_TOO_LARGE` unless a constant of shape `dims` may be materialised now (`model/budgets.ts`); call before allocating it. */
  checkFoldable(dims: readonly number[]): void;
}

/**
 * Reverse-mode rule of an op: given the cotangents of its outputs, emits the
 * nodes computing the cotangent of each input, x̄_i = Σ_j (∂y_j/∂x_i)ᵀ ȳ_j,
 * with standard ONNX ops and static shapes.
 */
export interface GradientContext extends NodeContext {
  /** The execution provider the graph is built for. */
  readonly executionProvider: ExecutionProvider;
  /**
   * Whether the execution provider runs an op form (its table is
   * `execution-provider/execution-provider.ts`); rules emit another construction where not.
   */
  supports(capability: Capability): boolean;
  /** Static type of output `i`. */
  output(i: number): TensorType;
  /** Names of the forward node's inputs and outputs. */
  inputName(i: number): string;
  outputName(i: number): string;
  /**
   * Name of output `i` of the forward node, asking the node for it if the
   * model does not (MaxPool's Indices, LayerNormalization's Mean and InvStdDev).
   */
  forwardOutput(i: number): string;
  /** The cotangent ȳ_i of output `i`, or undefined when nothing downstream depends on it. */
  dy(i: number): string | undefined;
  /** Whether input `i` lies on a path from the model input, so needs a cotangent. */
  needsGradient(i: number): boolean;
  /** Emits a node with one output and returns that output's name. */
  op(opType: string, inputs: readonly string[], attributes?: Readonly<Record<string, AttributeValue>>): string;
  /** Emits a node with `outputs` outputs and returns their names. */
  ops(opType: string, inputs: readonly string[], outputs: number, attributes?: Readonly<Record<string, AttributeValue>>): string[];
  /** A constant as an initializer; float32 unless another type is given. */
  literal(values: ArrayLike<number>, dims: readonly number[], dataType?: DataType): string;
  /** Sums `gradient` of shape `from` over broadcast axes down to shape `to` (NumPy broadcasting). */
  unbroadcast(gradient: string, from: readonly number[], to: readonly number[]): string;
  /**
   * A Reduce* op over `axes` of `input` (of shape `shape`), written the way
   * the model's opset and the execution provider want (see `GraphEmitter.reduce`).
   */
  reduce(opType: string, input: string, shape: readonly number[], axes: readonly number[], keepdims: boolean): string;
  /** Reshape to a static shape; a no-op when the input's shape `from` is given and already equal. */
  reshape(input: string, shape: readonly number[], from?: readonly number[]): string;
}

/** Returns, per input, the name of its cotangent, or undefined where none is needed. */
export type GradientRule = (g: GradientContext) => ReadonlyArray<string | undefined>;

/**
 * Everything the package knows of one ONNX op, in one place:
 * - `inferTypes`: output types from input types (and constant inputs);
 * - `evaluate`: its values in float64 when its inputs are constants — used to
 *   fold shape arithmetic at build time, and as the float64 reference of the
 *   gradient tests; return undefined when an input needed is not constant;
 * - `gradient`: its reverse-mode rule, or `'none'` for ops whose outputs carry
 *   no gradient (integer, boolean or constant outputs).
 */
export interface OpDefinition {
  readonly opType: string;
  inferTypes(ctx: NodeContext): TensorType[];
  evaluate?(ctx: NodeContext): ConstTensor[] | undefined;
  readonly gradient: GradientRule | 'none';
}
