import { clone, create } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { attributeProto } from '../model/attribute-value.js';
import { describeNode } from '../model/attributes.js';
import {
  constTensor,
  float32TensorProto,
  readTensorProto,
  readTensorValues,
  writeTensorProto,
  type ConstTensor,
  type TensorValues,
} from '../model/const-tensor.js';
import { DataType, dataTypeName } from '../model/data-type.js';
import { defaultOpset } from '../model/onnx-model.js';
import { NodeProtoSchema, type ModelProto, type NodeProto, type TensorProto } from '../proto/onnx_pb.js';

/*
 * Quantized (int8/uint8) models rewritten to the float model they quantize,
 * "the dequantized model", when the backend is created:
 *
 * - DequantizeLinear of constants (weight-only quantization) is folded into
 *   a float constant (q − zero point) · scale, per axis where the scale is.
 * - A quantized activation — the output of QuantizeLinear, of
 *   DynamicQuantizeLinear or of a QLinear op — is represented by its float
 *   value, and a DequantizeLinear of it becomes the identity. QuantizeLinear
 *   keeps its saturation and drops its rounding: it becomes a Clip to the
 *   range its scale and zero point represent, so the rounding passes the
 *   gradient straight through. DynamicQuantizeLinear chooses its range to
 *   cover its input, so it saturates nothing and becomes the identity (its
 *   scale 1 and zero point 0, which makes the integer ops below read its
 *   input as it is).
 * - MatMulInteger and ConvInteger become MatMul and Conv of those values and
 *   the weights less their zero points; QLinearConv and QLinearMatMul become
 *   Conv and MatMul on the dequantized weights (and bias), followed by the
 *   Clip of their output's range (which is how a fused ReLU is written).
 * - Ops that only move or select quantized values (Reshape, Transpose,
 *   MaxPool, Concat of one scale, …) commute with dequantization and run on
 *   the float values.
 *
 * So the map is the gradient of the dequantized model: the rounding of the
 * activations is left out, and the logits differ from the quantized model's
 * by its quantization error (`logitsDeviation` in runtime/ measures it).
 * Anything else that reads a quantized value is refused, naming the node.
 */

/** Ops that commute with dequantization, by the inputs that carry the quantized value (others are shapes, indices, …). */
const MOVES_VALUES: ReadonlyMap<string, 'first' | 'all'> = new Map([
  ['Identity', 'first'],
  ['Reshape', 'first'],
  ['Flatten', 'first'],
  ['Squeeze', 'first'],
  ['Unsqueeze', 'first'],
  ['Transpose', 'first'],
  ['Slice', 'first'],
  ['Gather', 'first'],
  ['MaxPool', 'first'],
  ['GlobalMaxPool', 'first'],
  ['DepthToSpace', 'first'],
  ['SpaceToDepth', 'first'],
  ['Split', 'first'],
  ['Concat', 'all'],
]);

const QUANTIZED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'ConvInteger',
  'QLinearConv',
  'QLinearMatMul',
]);

const PREFIX = 'saliency/dequantized/';
/** The scale of DynamicQuantizeLinear's output here, and of integer operands read as they are. */
const UNIT_SCALE = constTensor(DataType.FLOAT, [], [1]);

/** A quantized activation's float value, and its scale (a constant; 1 for DynamicQuantizeLinear's). */
interface Dequantized {
  readonly value: string;
  readonly scale: ConstTensor;
}

/** Rewrites a quantized model in place to its dequantized float model; returns whether anything changed. */
export function dequantize(model: ModelProto): boolean {
  const graph = model.graph!;
  if (!graph.node.some((node) => QUANTIZED_OPS.has(node.opType) && (node.domain === '' || node.domain === 'ai.onnx'))) return false;
  const rewrite = new Rewrite(graph.initializer, graph.node, defaultOpset(model));
  graph.node.forEach((node, index) => rewrite.node(node, index));
  for (const output of graph.output) {
    const found = rewrite.quantized.get(output.name);
    if (found === undefined) continue;
    rewrite.emit('Identity', [found.value], [output.name]);
    if (output.type?.value.case === 'tensorType') output.type.value.value.elemType = DataType.FLOAT;
  }
  graph.node = rewrite.nodes;
  graph.initializer.push(...rewrite.initializers);
  // Value types recorded for the quantized model name integer types for values that are float now.
  graph.valueInfo = graph.valueInfo.filter((info) => !rewrite.retyped.has(info.name));
  return true;
}

class Rewrite {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly quantized = new Map<string, Dequantized>();
  readonly retyped = new Set<string>();
  /** Constants by name: the model's initializers and Constant nodes, read when first asked for (most are float weights no rule here reads). */
  readonly #constants: LazyConstants;
  readonly #opset: number;
  #count = 0;

  constructor(initializers: readonly TensorProto[], nodes: readonly NodeProto[], opset: number) {
    this.#opset = opset;
    this.#constants = new LazyConstants();
    for (const tensor of initializers) this.#constants.add(tensor.name, tensor, `initializer "${tensor.name}"`);
    nodes.forEach((node, index) => {
      const value = node.opType === 'Constant' ? node.attribute.find((a) => a.name === 'value')?.t : undefined;
      if (value !== undefined) this.#constants.add(node.output[0]!, value, describeNode(node, index));
    });
  }

  node(node: NodeProto, index: number): void {
    const where = describeNode(node, index);
    const isDefault = node.domain === '' || node.domain === 'ai.onnx';
    if (isDefault && QUANTIZED_OPS.has(node.opType)) {
      node.output.forEach((name) => this.retyped.add(name));
      this.#quantizedNode(node, where);
      return;
    }
    const reads = node.input.filter((name) => this.quantized.has(name));
    if (reads.length === 0) {
      this.nodes.push(node);
      return;
    }
    const carriers = MOVES_VALUES.get(node.opType);
    const carried = (i: number) => carriers === 'all' || i === 0;
    if (carriers === undefined || node.input.some((name, i) => this.quantized.has(name) && !carried(i))) {
      fail(
        `${where} reads the quantized value "${reads[0]}" as integers; only ${[...MOVES_VALUES.keys()].join(', ')} ` +
          `and the quantized ops (${[...QUANTIZED_OPS].join(', ')}) may`,
      );
    }
    const sources = node.input.filter((name, i) => carried(i) && name !== '').map((name) => this.quantized.get(name));
    if (sources.some((s) => s === undefined) || new Set(sources.map((s) => s!.scale.values.join())).size !== 1) {
      fail(`${where} joins values quantized with different scales (or quantized and float values)`);
    }
    const float = clone(NodeProtoSchema, node);
    float.input = node.input.map((name) => this.quantized.get(name)?.value ?? name);
    const moved = node.opType === 'MaxPool' ? node.output.slice(0, 1) : node.output;
    float.output = node.output.map((name) => (moved.includes(name) && name !== '' ? this.#fresh(name) : name));
    moved.forEach((name, i) => name !== '' && this.quantized.set(name, { value: float.output[i]!, scale: sources[0]!.scale }));
    moved.forEach((name) => this.retyped.add(name));
    this.nodes.push(float);
  }

  emit(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: NodeProto['attribute'] = []): string {
    this.nodes.push(
      create(NodeProtoSchema, { opType, name: this.#fresh(opType), input: [...inputs], output: [...outputs], attribute: attributes }),
    );
    return outputs[0]!;
  }

  #quantizedNode(node: NodeProto, where: string): void {
    const input = (i: number) => node.input[i] ?? '';
    const constant = (i: number, what: string): ConstTensor => {
      const value = this.#constants.get(input(i));
      if (value === undefined) fail(`${where}: its ${what} ("${input(i)}") must be a constant`);
      return value;
    };
    const zeroPoint = (i: number): ConstTensor => (input(i) === '' ? constTensor(DataType.UINT8, [], [0]) : constant(i, 'zero point'));
    const axis = Number(node.attribute.find((a) => a.name === 'axis')?.i ?? 1n);
    if (node.attribute.some((a) => a.name === 'block_size' && a.i !== 0n))
      fail(`${where}: blocked quantization (block_size) is not supported`);
    const [output] = node.output as [string];
    switch (node.opType) {
      case 'DequantizeLinear': {
        const quantized = this.quantized.get(input(0));
        if (quantized !== undefined) {
          this.emit('Identity', [quantized.value], [output]);
          return;
        }
        const q = this.#constants.values(input(0));
        if (q === undefined) fail(`${where} reads "${input(0)}", which is neither a constant nor a value quantized in the graph`);
        this.#floatConstant(output, q.dims, dequantized(q, constant(1, 'scale'), zeroPoint(2), axis));
        return;
      }
      case 'QuantizeLinear': {
        const scale = constant(1, 'scale');
        const zero = zeroPoint(2);
        const value = this.#constants.get(input(0));
        if (value !== undefined) {
          // A constant quantized in the graph: rounded here, as the quantized model computes it.
          const q = quantized(value, scale, zero, axis);
          this.quantized.set(output, { value: this.#floatConstant(this.#fresh(output), q.dims, dequantized(q, scale, zero, axis)), scale });
          return;
        }
        this.quantized.set(output, { value: this.#clip(input(0), scale, zero, where, output), scale });
        return;
      }
      case 'DynamicQuantizeLinear': {
        const [, scale, zero] = node.output as [string, string, string];
        this.quantized.set(output, { value: input(0), scale: UNIT_SCALE });
        if (scale !== '') this.#constant(scale, UNIT_SCALE);
        if (zero !== '') this.#constant(zero, constTensor(DataType.UINT8, [], [0]));
        return;
      }
      case 'MatMulInteger':
      case 'ConvInteger': {
        const isConv = node.opType === 'ConvInteger';
        // A's zero point is per row (axis 0 of a 2-D A); B's per column (last axis); a Conv weight's per output channel.
        const operand = (i: number, zeroAxis: (dims: readonly number[]) => number) => {
          const value = this.#constants.values(input(i));
          if (value === undefined) return this.#integerValue(input(i), where);
          return this.#floatConstant(
            this.#fresh(input(i)),
            value.dims,
            dequantized(value, UNIT_SCALE, zeroPoint(i + 2), zeroAxis(value.dims)),
          );
        };
        const a = operand(0, () => 0);
        const b = operand(1, (dims) => (isConv ? 0 : dims.length - 1));
        this.emit(isConv ? 'Conv' : 'MatMul', [a, b], [output], isConv ? node.attribute : []);
        return;
      }
      case 'QLinearConv':
      case 'QLinearMatMul': {
        const isConv = node.opType === 'QLinearConv';
        const operand = (i: number, what: string, perAxis: (dims: readonly number[]) => number) => {
          const found = this.quantized.get(input(i));
          if (found !== undefined) return found.value;
          const value = this.#constants.values(input(i));
          if (value === undefined) fail(`${where}: its ${what} ("${input(i)}") is neither a constant nor a value quantized in the graph`);
          return this.#floatConstant(
            this.#fresh(input(i)),
            value.dims,
            dequantized(value, constant(i + 1, `${what}'s scale`), zeroPoint(i + 2), perAxis(value.dims)),
          );
        };
        const a = operand(0, isConv ? 'input' : 'A', () => 0);
        const b = operand(3, isConv ? 'weight' : 'B', (dims) => (isConv ? 0 : dims.length - 1));
        const inputs = [a, b];
        if (isConv && input(8) !== '') {
          // The int32 bias is in units of input scale × weight scale (per output channel).
          const bias = constant(8, 'bias');
          const scale = constant(1, 'input scale').values[0]!;
          const weightScale = constant(4, 'weight scale');
          const biasScale = constTensor(
            DataType.FLOAT,
            weightScale.dims,
            weightScale.values.map((s) => s * scale),
          );
          const biasName = this.#fresh(input(8));
          inputs.push(this.#floatConstant(biasName, bias.dims, dequantized(bias, biasScale, constTensor(DataType.INT32, [], [0]), 0)));
        }
        const float = this.emit(isConv ? 'Conv' : 'MatMul', inputs, [this.#fresh(output)], isConv ? node.attribute : []);
        const scale = constant(6, 'output scale');
        this.quantized.set(output, { value: this.#clip(float, scale, zeroPoint(7), where, output), scale });
        return;
      }
      default:
        throw new Error(`unreachable: ${node.opType}`);
    }
  }

  /** A value of a quantized activation as the integer ops read it, (q − zero point): its float value over its scale. */
  #integerValue(name: string, where: string): string {
    const found = this.quantized.get(name);
    if (found === undefined) fail(`${where} reads "${name}", which is neither a constant nor a value quantized in the graph`);
    if (found.scale.values.length === 1 && found.scale.values[0] === 1) return found.value;
    return this.emit('Div', [found.value, this.#constant(this.#fresh('scale'), floatOf(found.scale))], [this.#fresh(name)]);
  }

  /** Clip of `value` to the range a (per-tensor) scale and zero point represent. */
  #clip(value: string, scale: ConstTensor, zero: ConstTensor, where: string, name: string): string {
    if (scale.values.length !== 1 || zero.values.length !== 1) {
      fail(`${where}: an activation quantized per axis is not supported (scale of shape [${scale.dims.join(', ')}])`);
    }
    const [lo, hi] = integerRange(zero.dataType, where);
    const s = scale.values[0]!;
    const z = zero.values[0]!;
    const [min, max] = [(lo - z) * s, (hi - z) * s];
    const out = this.#fresh(name);
    if (this.#opset >= 11) {
      const bound = (v: number) => this.#constant(this.#fresh('bound'), constTensor(DataType.FLOAT, [], [v]));
      return this.emit('Clip', [value, bound(min), bound(max)], [out]);
    }
    return this.emit('Clip', [value], [out], [attributeProto('min', { float: min }), attributeProto('max', { float: max })]);
  }

  #constant(name: string, value: ConstTensor): string {
    this.initializers.push(writeTensorProto(name, value));
    this.#constants.set(name, value);
    return name;
  }

  /** A float32 constant written as it is (no float64 copy), read back from its proto only if a later node asks for it. */
  #floatConstant(name: string, dims: readonly number[], values: Float32Array): string {
    const proto = float32TensorProto(name, dims, values);
    this.initializers.push(proto);
    this.#constants.add(name, proto, `initializer "${name}"`);
    return name;
  }

  #fresh(base: string): string {
    return `${PREFIX}${base}/${this.#count++}`;
  }
}

class LazyConstants {
  readonly #protos = new Map<string, { tensor: TensorProto; where: string }>();
  readonly #read = new Map<string, ConstTensor>();

  add(name: string, tensor: TensorProto, where: string): void {
    this.#protos.set(name, { tensor, where });
  }

  set(name: string, value: ConstTensor): void {
    this.#read.set(name, value);
  }

  /** A constant's values as read from its proto (a view of its raw data where possible), or as read before. */
  values(name: string): TensorValues | undefined {
    const proto = this.#protos.get(name);
    if (this.#read.has(name) || proto === undefined) return this.#read.get(name);
    return readTensorValues(proto.tensor, proto.where);
  }

  get(name: string): ConstTensor | undefined {
    let value = this.#read.get(name);
    const proto = this.#protos.get(name);
    if (value === undefined && proto !== undefined) {
      value = readTensorProto(proto.tensor, proto.where);
      this.#read.set(name, value);
    }
    return value;
  }
}

function fail(message: string): never {
  throw new AttributionError('UNSUPPORTED_MODEL', message);
}

/** The representable integers of a quantized type. */
function integerRange(type: DataType, where: string): [number, number] {
  switch (type) {
    case DataType.UINT8:
      return [0, 255];
    case DataType.INT8:
      return [-128, 127];
    case DataType.UINT16:
      return [0, 65535];
    case DataType.INT16:
      return [-32768, 32767];
    case DataType.INT32:
      return [-(2 ** 31), 2 ** 31 - 1];
    default:
      return fail(`${where}: quantized type ${dataTypeName(type)} is not supported`);
  }
}

/**
 * The length of the runs of elements that share a per-axis parameter (the
 * elements after `axis`), and the parameter count; one run of every element
 * for per-tensor parameters (both of `length` 1).
 */
function parameterRuns(dims: readonly number[], axis: number, lengths: readonly number[]): { run: number; size: number } {
  const count = dims.reduce((n, d) => n * d, 1);
  const length = Math.max(...lengths);
  if (length === 1) return { run: Math.max(count, 1), size: 1 };
  const normalized = axis < 0 ? axis + dims.length : axis;
  const size = dims[normalized];
  if (lengths.some((l) => l !== 1 && l !== size))
    fail(`a quantization parameter of ${length} values does not match axis ${axis} of a tensor of shape [${dims.join(', ')}]`);
  return { run: dims.slice(normalized + 1).reduce((n, d) => n * d, 1), size: size! };
}

/**
 * (q − zero point) · scale, per tensor or per axis, as float32: the product
 * in float64 rounded once to float32 (for 8- and 16-bit q, whose product with
 * a float32 scale is exact in float64, float32's own (q − z) · s bit for bit).
 * One loop over the runs of elements that share their parameters (a
 * ResNet-18's 11 M weights: no call or allocation per element).
 */
function dequantized(q: TensorValues, scale: ConstTensor, zero: ConstTensor, axis: number): Float32Array {
  const { run, size } = parameterRuns(q.dims, axis, [scale.values.length, zero.values.length]);
  const values = q.values;
  const out = new Float32Array(values.length);
  if (out.length === 0) return out;
  const scales = scale.values;
  const zeros = zero.values;
  for (let start = 0, block = 0; start < out.length; start += run, block++) {
    const c = block % size;
    const s = scales[scales.length === 1 ? 0 : c]!;
    const z = zeros[zeros.length === 1 ? 0 : c]!;
    const end = start + run;
    for (let i = start; i < end; i++) out[i] = (values[i]! - z) * s;
  }
  return out;
}

/** round(x / scale) + zero point (ties to even), saturated to the zero point's type. */
function quantized(x: ConstTensor, scale: ConstTensor, zero: ConstTensor, axis: number): ConstTensor {
  const { run, size } = parameterRuns(x.dims, axis, [scale.values.length, zero.values.length]);
  const [lo, hi] = integerRange(zero.dataType, 'QuantizeLinear');
  const values = x.values.map((v, i) => {
    const c = Math.floor(i / run) % size;
    const s = scale.values[scale.values.length === 1 ? 0 : c]!;
    const z = zero.values[zero.values.length === 1 ? 0 : c]!;
    return Math.min(hi, Math.max(lo, roundHalfEven(v / s) + z));
  });
  return { dataType: zero.dataType, dims: x.dims, values };
}

function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const fraction = v - floor;
  if (fraction !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}

function floatOf(tensor: ConstTensor): ConstTensor {
  return constTensor(DataType.FLOAT, tensor.dims, tensor.values);
}
