import type { AttributeValue } from '../../src/model/attribute-value.js';
import type { GraphFacts } from '../../src/autodiff/graph-facts.js';
import { nodeContext } from '../../src/autodiff/node-context.js';
import { constTensor, type ConstTensor } from '../../src/model/const-tensor.js';
import { DataType } from '../../src/model/data-type.js';
import { OPS } from '../../src/ops/registry.js';
import { node } from './onnx-model-builder.js';
import { uniformValues } from './op-case.js';
import type { GraphCase } from './run-gradient.js';

/*
 * Random small ONNX graphs for the gradient fuzz test: a DAG of 2–6 nodes of
 * the supported ops over one float input `x`, with random shapes, attributes
 * and constant operands, built together with its float64 values (each node is
 * evaluated by its op's own `evaluate` as it is added, so a generator can
 * choose operands by their values: positive ones for Log, non-zero ones for Div).
 */

/** A source of random choices (fast-check's `gen` in the test, replayable from a seed). */
export interface Choices {
  int(min: number, max: number): number;
}

/** A node of a generated graph, as `runGraphGradient` takes it. */
export type GraphNode = GraphCase['nodes'][number];

export interface RandomGraph {
  readonly opset: number;
  readonly nodes: GraphNode[];
  readonly initializers: Record<string, ConstTensor>;
  readonly x: { readonly shape: readonly number[]; readonly values: Float64Array };
  /** The value differentiated. */
  readonly output: string;
}

/** A float value of the graph under construction: the input or a node output. */
interface Value {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
/** Largest intermediate the generators make, so that float64 central differences stay cheap. */
const MAX_ELEMENTS = 96;

/** The graph under construction and the helpers the op generators use. */
class Builder {
  readonly nodes: GraphNode[] = [];
  readonly initializers: Record<string, ConstTensor> = {};
  readonly values: Value[] = [];
  readonly #constants = new Map<string, ConstTensor>();
  #next = 0;

  constructor(
    readonly r: Choices,
    readonly opset: number,
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[this.r.int(0, items.length - 1)]!;
  }

  bool(): boolean {
    return this.r.int(0, 1) === 1;
  }

  /** A float in [lo, hi] on a grid of 1/64, exact in float32. */
  float(lo: number, hi: number): number {
    return lo + this.r.int(0, Math.round((hi - lo) * 64)) / 64;
  }

  /** A constant operand; float values uniform in [lo, hi) unless given. */
  constant(shape: readonly number[], values?: ArrayLike<number>, dataType = DataType.FLOAT, lo = -1, hi = 1): string {
    const name = `c${this.#next++}`;
    const tensor = constTensor(dataType, shape, values ?? uniformValues(size(shape), this.r.int(1, 1 << 30), lo, hi));
    this.initializers[name] = tensor;
    this.#constants.set(name, tensor);
    return name;
  }

  ints(values: readonly number[]): string {
    return this.constant([values.length], values, DataType.INT64);
  }

  /** A value of the graph, among those that satisfy `accept`; undefined when none does. */
  operand(accept: (v: Value) => boolean = () => true): Value | undefined {
    // Scalars (a reduction over every axis) end a chain: the generators index axes.
    const candidates = this.values.filter((v) => v.shape.length >= 1 && accept(v));
    // Favour recent values, so that the graph is deep rather than wide.
    if (candidates.length === 0) return undefined;
    return candidates[Math.max(0, candidates.length - 1 - this.r.int(0, Math.min(2, candidates.length - 1)))]!;
  }

  /**
   * Adds a node, evaluates it in float64, and records its float outputs as
   * new values; returns false (adding nothing) when the op refuses the node
   * or an output grows too large.
   */
  add(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs = 1): boolean {
    const names = Array.from({ length: outputs }, () => `v${this.#next++}`);
    const proto = node(opType, inputs, names, attributes);
    const facts: GraphFacts = { types: new Map(), constants: new Map(this.#constants) };
    for (const v of this.values) facts.constants.set(v.name, constTensor(DataType.FLOAT, v.shape, v.values));
    for (const [name, t] of facts.constants) facts.types.set(name, { dataType: t.dataType, shape: t.dims });
    const op = OPS.get(opType)!;
    let result: ConstTensor[] | undefined;
    try {
      const ctx = nodeContext(proto, facts, this.opset);
      op.inferTypes(ctx);
      result = op.evaluate!(ctx);
    } catch {
      return false;
    }
    if (result === undefined) throw new Error(`${opType}.evaluate returned nothing for constant inputs`);
    if (result.slice(0, outputs).some((t) => size(t.dims) > MAX_ELEMENTS || size(t.dims) === 0)) return false;
    this.nodes.push({ opType, inputs, outputs: names, attributes });
    result.slice(0, outputs).forEach((t, i) => {
      if (t.dataType === DataType.FLOAT) this.values.push({ name: names[i]!, shape: t.dims, values: t.values });
    });
    return true;
  }

  /** A shape that broadcasts to `shape`: a suffix of it with some axes set to 1. */
  broadcastShape(shape: readonly number[]): number[] {
    const suffix = shape.slice(this.r.int(0, shape.length));
    return suffix.map((d) => (this.r.int(0, 2) === 0 ? 1 : d));
  }

  axis(rank: number): number {
    const axis = this.r.int(0, rank - 1);
    return this.bool() ? axis : axis - rank;
  }
}

const ints = (values: readonly number[]): AttributeValue => ({ ints: values });
const min = (v: Value) => v.values.reduce((m, e) => Math.min(m, e), Infinity);
const minAbs = (v: Value) => v.values.reduce((m, e) => Math.min(m, Math.abs(e)), Infinity);
const rankAtLeast = (n: number) => (v: Value) => v.shape.length >= n;

/** One op generator: adds a node (and its constants) to the graph, or returns false when it cannot. */
type Generator = (b: Builder) => boolean;

const UNARY = ['Sigmoid', 'Tanh', 'Neg', 'Erf', 'Softplus', 'Softsign', 'Relu', 'Abs', 'Elu', 'Selu', 'Floor', 'Identity'];
const BINARY = ['Add', 'Sub', 'Mul', 'Max', 'Min'];
const REDUCE = [
  'ReduceSum',
  'ReduceMean',
  'ReduceSumSquare',
  'ReduceL2',
  'ReduceL1',
  'ReduceLogSumExp',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
];

/** A pool or conv input: rank 3 to 5 with at least `k` along each spatial axis. */
const spatial = (v: Value) => v.shape.length >= 3 && v.shape.length <= 5 && v.shape.slice(2).every((d) => d >= 2);

const GENERATORS: Record<string, Generator> = {
  unary(b) {
    const x = b.operand()!;
    return b.add(b.pick(UNARY), [x.name]);
  },
  parameterizedUnary(b) {
    const x = b.operand()!;
    const op = b.pick(['LeakyRelu', 'Elu', 'HardSigmoid', 'HardSwish', 'Selu', 'Gelu']);
    if (op === 'Gelu') {
      if (b.opset < 20) return false;
      return b.add(op, [x.name], b.bool() ? { approximate: { string: 'tanh' } } : {});
    }
    if (op === 'LeakyRelu' || op === 'Elu') return b.add(op, [x.name], { alpha: { float: b.float(0.05, 1.5) } });
    if (op === 'HardSigmoid') return b.add(op, [x.name], { alpha: { float: b.float(0.1, 0.5) }, beta: { float: b.float(0.2, 0.8) } });
    return b.add(op, [x.name]);
  },
  positiveDomain(b) {
    const x = b.operand((v) => min(v) > 0.2);
    if (x === undefined) return b.add('Exp', [b.operand((v) => Math.abs(min(v)) < 3)?.name ?? 'x']);
    const op = b.pick(['Sqrt', 'Log', 'Reciprocal', 'Pow']);
    if (op === 'Pow') {
      const exponent = b.bool()
        ? b.constant([], [b.pick([2, 3, 0.5, -1, 1.5])])
        : b.constant(b.broadcastShape(x.shape), undefined, DataType.FLOAT, -2, 2);
      return b.add(op, [x.name, exponent]);
    }
    return b.add(op, [x.name]);
  },
  binary(b) {
    const x = b.operand()!;
    const op = b.pick([...BINARY, 'Div', 'Sum', 'PRelu']);
    const other = b.operand((v) => v.name !== x.name && broadcasts(v.shape, x.shape));
    const second =
      other !== undefined && b.bool() ? other.name : b.constant(b.broadcastShape(x.shape), undefined, DataType.FLOAT, 0.25, 1.5);
    if (op === 'Div') {
      const denominator = b.operand((v) => minAbs(v) > 0.3 && broadcasts(v.shape, x.shape));
      return b.add(op, [x.name, denominator?.name ?? b.constant(b.broadcastShape(x.shape), undefined, DataType.FLOAT, 0.5, 2)]);
    }
    if (op === 'Sum') return b.add(op, [x.name, second, ...(b.bool() ? [x.name] : [])]);
    const swap = op !== 'PRelu' && b.bool();
    return b.add(op, swap ? [second, x.name] : [x.name, second]);
  },
  where(b) {
    const x = b.operand()!;
    const y = b.operand((v) => broadcasts(v.shape, x.shape)) ?? x;
    const shape = b.broadcastShape(x.shape);
    const bits = Array.from({ length: size(shape) }, () => b.r.int(0, 1));
    return b.add('Where', [b.constant(shape, bits, DataType.BOOL), x.name, y.name]);
  },
  clip(b) {
    const x = b.operand()!;
    const lo = b.float(-1, 0);
    const hi = lo + b.float(0.25, 1.5);
    if (b.opset < 11) return b.add('Clip', [x.name], { min: { float: lo }, max: { float: hi } });
    return b.add('Clip', [x.name, b.bool() ? b.constant([], [lo]) : '', b.constant([], [hi])]);
  },
  matmul(b) {
    const x = b.operand((v) => v.shape.length >= 2);
    if (x === undefined) return false;
    const k = x.shape.at(-1)!;
    const n = b.r.int(1, 4);
    const other = b.operand((v) => v.name !== x.name && v.shape.length >= 2 && v.shape.at(-2) === k);
    const weight = other !== undefined && b.bool() ? other.name : b.constant(b.bool() ? [k, n] : [...x.shape.slice(0, -2).slice(-1), k, n]);
    return b.add('MatMul', [x.name, weight]);
  },
  gemm(b) {
    const x = b.operand((v) => v.shape.length === 2);
    if (x === undefined) return b.add('Flatten', [b.operand()!.name], { axis: { int: 1 } });
    const transA = b.bool() ? 1 : 0;
    const transB = b.bool() ? 1 : 0;
    const [m, k] = transA ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
    const n = b.r.int(1, 4);
    const weight = b.constant(transB ? [n, k] : [k, n]);
    const inputs = [x.name, weight];
    if (b.bool()) inputs.push(b.constant(b.pick([[n], [1, n], [m, n], [m, 1], []])));
    return b.add('Gemm', inputs, {
      transA: { int: transA },
      transB: { int: transB },
      alpha: { float: b.float(0.5, 1.5) },
      beta: { float: b.float(0.5, 1.5) },
    });
  },
  conv(b) {
    const x = b.operand(spatial);
    if (x === undefined) return false;
    const channels = x.shape[1]!;
    const group = channels > 1 && channels % 2 === 0 && b.bool() ? 2 : b.bool() ? channels : 1;
    const out = group * b.r.int(1, 2);
    const kernel = x.shape.slice(2).map((d) => b.r.int(1, Math.min(3, d)));
    const transpose = b.r.int(0, 3) === 0;
    const strides = kernel.map(() => b.r.int(1, 2));
    const attributes: Record<string, AttributeValue> = { kernel_shape: ints(kernel), strides: ints(strides), group: { int: group } };
    if (b.bool()) attributes.dilations = ints(kernel.map(() => b.r.int(1, 2)));
    if (b.bool()) attributes.pads = ints([...kernel, ...kernel].map((k) => b.r.int(0, k - 1)));
    // biome-ignore lint/suspicious/noDuplicateElseIf: each b.bool() draws a new random bit
    else if (b.bool()) attributes.auto_pad = { string: b.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID']) };
    const weightShape = transpose ? [channels, out / group, ...kernel] : [out, channels / group, ...kernel];
    const inputs = [x.name, b.constant(weightShape)];
    if (b.bool()) inputs.push(b.constant([out]));
    if (transpose && b.bool()) attributes.output_padding = ints(strides.map((stride) => b.r.int(0, stride - 1)));
    return b.add(transpose ? 'ConvTranspose' : 'Conv', inputs, attributes);
  },
  pool(b) {
    const x = b.operand(spatial);
    if (x === undefined) return false;
    const op = b.pick(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);
    if (op.startsWith('Global')) return b.add(op, [x.name]);
    const kernel = x.shape.slice(2).map((d) => b.r.int(1, Math.min(3, d)));
    const strides = kernel.map(() => b.r.int(1, 2));
    const dilations = op === 'MaxPool' && b.bool() ? kernel.map(() => b.r.int(1, 2)) : kernel.map(() => 1);
    const attributes: Record<string, AttributeValue> = { kernel_shape: ints(kernel), strides: ints(strides) };
    if (op === 'MaxPool') attributes.dilations = ints(dilations);
    const pads = [...kernel, ...kernel].map((k) => (b.bool() ? b.r.int(0, k - 1) : 0));
    if (b.bool()) attributes.auto_pad = { string: b.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID']) };
    else attributes.pads = ints(pads);
    // With ceil_mode, ONNX Runtime's kernels drop a last window that starts in
    // the end padding but its static shape inference keeps it, so such a
    // model (forward alone) fails to load; ceil_mode is drawn only where both agree.
    const rank = kernel.length;
    const dropsAWindow = kernel.some((k, a) => {
      const span = (k - 1) * dilations[a]! + 1;
      const total = x.shape[a + 2]! + pads[a]! + pads[a + rank]! - span;
      const out = Math.ceil(total / strides[a]!) + 1;
      return (out - 1) * strides[a]! >= x.shape[a + 2]! + pads[a]!;
    });
    if (attributes.pads !== undefined && !dropsAWindow && b.bool()) attributes.ceil_mode = { int: 1 };
    if (op === 'AveragePool' && b.bool()) attributes.count_include_pad = { int: 1 };
    return b.add(op, [x.name], attributes);
  },
  reshape(b) {
    const x = b.operand()!;
    const op = b.pick(['Reshape', 'Flatten', 'Unsqueeze', 'Squeeze', 'Transpose', 'DepthToSpace']);
    const rank = x.shape.length;
    switch (op) {
      case 'Reshape': {
        const shape = factorize(b, size(x.shape));
        if (b.bool()) shape[b.r.int(0, shape.length - 1)] = -1;
        return b.add(op, [x.name, b.ints(shape)]);
      }
      case 'Flatten':
        return b.add(op, [x.name], { axis: { int: b.r.int(-rank, rank) } });
      case 'Unsqueeze': {
        const axes = [b.r.int(-rank - 1, rank)];
        return b.opset < 13 ? b.add(op, [x.name], { axes: ints(axes) }) : b.add(op, [x.name, b.ints(axes)]);
      }
      case 'Squeeze': {
        const ones = x.shape.flatMap((d, a) => (d === 1 ? [a] : []));
        if (ones.length === 0) return false;
        const axes = [b.pick(ones)];
        return b.opset < 13 ? b.add(op, [x.name], { axes: ints(axes) }) : b.add(op, [x.name, b.ints(axes)]);
      }
      case 'Transpose': {
        const perm = shuffle(
          b,
          x.shape.map((_, a) => a),
        );
        return b.add(op, [x.name], b.bool() ? { perm: ints(perm) } : {});
      }
      default: {
        if (rank !== 4) return false;
        const blocksize = 2;
        if (x.shape[1]! % 4 === 0)
          return b.add('DepthToSpace', [x.name], { blocksize: { int: blocksize }, mode: { string: b.pick(['DCR', 'CRD']) } });
        return b.add('SpaceToDepth', [x.name], { blocksize: { int: blocksize } });
      }
    }
  },
  slice(b) {
    const x = b.operand()!;
    const rank = x.shape.length;
    const axes = shuffle(
      b,
      x.shape.map((_, a) => a),
    ).slice(0, b.r.int(1, rank));
    const starts: number[] = [];
    const ends: number[] = [];
    const steps: number[] = [];
    for (const axis of axes) {
      const d = x.shape[axis]!;
      const step = b.pick([1, 1, 2, -1, -2]);
      const start = b.r.int(-d - 1, d + 1);
      starts.push(start);
      ends.push(b.pick([b.r.int(-d - 1, d + 1), step > 0 ? 1 << 30 : -(1 << 30)]));
      steps.push(step);
    }
    if (b.opset < 10) return b.add('Slice', [x.name], { starts: ints(starts), ends: ints(ends), axes: ints(axes) });
    return b.add('Slice', [x.name, b.ints(starts), b.ints(ends), b.ints(axes.map((a) => (b.bool() ? a : a - rank))), b.ints(steps)]);
  },
  split(b) {
    const x = b.operand((v) => v.shape.some((d) => d >= 2));
    if (x === undefined) return false;
    const axis = b.pick(x.shape.flatMap((d, a) => (d >= 2 ? [a] : [])));
    const d = x.shape[axis]!;
    const first = b.r.int(1, d - 1);
    return b.add('Split', [x.name, b.ints([first, d - first])], { axis: { int: axis } }, 2);
  },
  concat(b) {
    const x = b.operand()!;
    const axis = b.r.int(0, x.shape.length - 1);
    const other = b.operand((v) => v.shape.length === x.shape.length && v.shape.every((d, a) => a === axis || d === x.shape[a]));
    const otherShape = x.shape.map((d, a) => (a === axis ? b.r.int(1, 2) : d));
    return b.add('Concat', [x.name, other?.name ?? b.constant(otherShape), ...(b.bool() ? [x.name] : [])], {
      axis: { int: axis - (b.bool() ? x.shape.length : 0) },
    });
  },
  pad(b) {
    const x = b.operand()!;
    // Only mode "constant" has a gradient rule (reflect and edge are refused by name).
    const pads = [...x.shape, ...x.shape].map(() => b.r.int(-1, 2));
    const inputs = [x.name, b.ints(pads)];
    if (b.bool()) inputs.push(b.constant([], [b.float(-1, 1)]));
    return b.add('Pad', inputs, b.bool() ? { mode: { string: 'constant' } } : {});
  },
  expand(b) {
    const x = b.operand()!;
    const op = b.pick(['Expand', 'Tile', 'Gather']);
    if (op === 'Expand') {
      const target = x.shape.map((d) => (d === 1 ? b.r.int(1, 3) : d));
      return b.add(op, [x.name, b.ints(b.bool() ? [b.r.int(1, 2), ...target] : target)]);
    }
    if (op === 'Tile') return b.add(op, [x.name, b.ints(x.shape.map(() => b.r.int(1, 2)))]);
    const axis = b.r.int(0, x.shape.length - 1);
    const d = x.shape[axis]!;
    const count = b.r.int(1, 4);
    const indices = Array.from({ length: count }, () => b.r.int(-d, d - 1));
    return b.add('Gather', [x.name, b.constant(b.bool() ? [count] : [1, count], indices, DataType.INT64)], { axis: { int: axis } });
  },
  reduce(b) {
    const x = b.operand()!;
    const op = b.pick(REDUCE);
    if ((op === 'ReduceL2' || op === 'ReduceProd') && minAbs(x) < 0.1) return false;
    const rank = x.shape.length;
    const axes = shuffle(
      b,
      x.shape.map((_, a) => a),
    )
      .slice(0, b.r.int(1, rank))
      .map((a) => (b.bool() ? a : a - rank));
    const keepdims = { int: b.r.int(0, 1) };
    const asInput = op === 'ReduceSum' ? b.opset >= 13 : b.opset >= 18;
    return asInput ? b.add(op, [x.name, b.ints(axes)], { keepdims }) : b.add(op, [x.name], { axes: ints(axes), keepdims });
  },
  softmax(b) {
    const x = b.operand()!;
    const op = b.pick(['Softmax', 'LogSoftmax']);
    return b.add(op, [x.name], { axis: { int: b.axis(x.shape.length) } });
  },
  normalization(b) {
    const op = b.pick(['LayerNormalization', 'BatchNormalization', 'InstanceNormalization']);
    if (op === 'LayerNormalization') {
      const x = b.operand(rankAtLeast(1))!;
      if (b.opset < 17) return false;
      const axis = b.axis(x.shape.length);
      const normalized = x.shape.slice(axis < 0 ? axis + x.shape.length : axis);
      if (size(normalized) < 2) return false;
      const inputs = [x.name, b.constant(normalized, undefined, DataType.FLOAT, 0.5, 1.5)];
      if (b.bool()) inputs.push(b.constant(normalized));
      return b.add(op, inputs, { axis: { int: axis }, epsilon: { float: 1e-3 } });
    }
    const x = b.operand(rankAtLeast(op === 'BatchNormalization' ? 2 : 3));
    if (x === undefined) return false;
    if (op === 'InstanceNormalization' && size(x.shape.slice(2)) < 2) return false;
    const c = x.shape[1]!;
    const inputs = [x.name, b.constant([c], undefined, DataType.FLOAT, 0.5, 1.5), b.constant([c])];
    if (op === 'BatchNormalization') inputs.push(b.constant([c]), b.constant([c], undefined, DataType.FLOAT, 0.5, 2));
    return b.add(op, inputs, { epsilon: { float: 1e-3 } });
  },
};

/** The op families drawn from, in a stable order (so that a seed replays). */
export const GENERATOR_NAMES = Object.keys(GENERATORS);

/** Whether `shape` broadcasts to `target` without changing it (NumPy rules). */
function broadcasts(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  return shape.every((d, i) => d === 1 || d === target[target.length - shape.length + i]);
}

function shuffle(b: Builder, items: number[]): number[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = b.r.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A random shape of `count` elements, rank 1 to 4. */
function factorize(b: Builder, count: number): number[] {
  const shape: number[] = [];
  let rest = count;
  const rank = b.r.int(1, 4);
  for (let i = 1; i < rank; i++) {
    const divisors = Array.from({ length: rest }, (_, k) => k + 1).filter((d) => rest % d === 0);
    const d = b.pick(divisors);
    shape.push(d);
    rest /= d;
  }
  shape.push(rest);
  return shuffle(b, shape);
}

/** The random input: a batch of 1 of a vector, a sequence or an image. */
function inputShape(r: Choices): number[] {
  switch (r.int(0, 3)) {
    case 0:
      return [1, r.int(2, 8)];
    case 1:
      return [1, r.int(1, 3), r.int(2, 6)];
    case 2:
      return [1, r.int(1, 4), r.int(2, 5), r.int(2, 5)];
    default:
      return [1, r.int(1, 2), r.int(2, 3), r.int(2, 4), r.int(2, 3)];
  }
}

/**
 * A random graph of `nodeCount` nodes (2 to 6) from the generators: each
 * node takes recent values as operands, so the last node usually depends on
 * most of the graph; the last float value made is differentiated.
 */
export function randomGraph(r: Choices, nodeCount: number): RandomGraph {
  const opset = [13, 17, 18, 21][r.int(0, 3)]!;
  const b = new Builder(r, opset);
  const shape = inputShape(r);
  const x = { name: 'x', shape, values: uniformValues(size(shape), r.int(1, 1 << 30), -1.5, 1.5) };
  b.values.push(x);
  let attempts = 0;
  while (b.nodes.length < nodeCount && attempts++ < 50) {
    GENERATORS[GENERATOR_NAMES[r.int(0, GENERATOR_NAMES.length - 1)]!]!(b);
  }
  const output = b.values.at(-1)!;
  return { opset, nodes: b.nodes, initializers: b.initializers, x: { shape, values: x.values }, output: output.name };
}

/** The graph's output values in float64 for input values `x`, evaluating node by node with each op's `evaluate`. */
export function evaluateGraph(graph: RandomGraph, x: Float64Array): Float64Array {
  const facts: GraphFacts = { types: new Map(), constants: new Map() };
  const set = (name: string, t: ConstTensor) => {
    facts.constants.set(name, t);
    facts.types.set(name, { dataType: t.dataType, shape: t.dims });
  };
  for (const [name, t] of Object.entries(graph.initializers)) set(name, t);
  set('x', constTensor(DataType.FLOAT, graph.x.shape, x));
  for (const n of graph.nodes) {
    const ctx = nodeContext(node(n.opType, n.inputs, n.outputs, n.attributes ?? {}), facts, graph.opset);
    const result = OPS.get(n.opType)!.evaluate!(ctx)!;
    n.outputs.forEach((name, i) => set(name, result[i]!));
  }
  return facts.constants.get(graph.output)!.values;
}

/** A readable description of a graph, for failure messages and regression cases. */
export function describeGraph(graph: RandomGraph): string {
  return JSON.stringify(
    {
      opset: graph.opset,
      x: { shape: graph.x.shape, values: Array.from(graph.x.values) },
      nodes: graph.nodes,
      initializers: Object.fromEntries(
        Object.entries(graph.initializers).map(([name, t]) => [name, { dataType: t.dataType, dims: t.dims, values: Array.from(t.values) }]),
      ),
      output: graph.output,
    },
    null,
    0,
  );
}

/** A graph back from `describeGraph`'s JSON: how failures found by the fuzz test are kept as regression cases. */
export function graphFromJson(json: string): RandomGraph {
  const parsed = JSON.parse(json) as {
    opset: number;
    x: { shape: number[]; values: number[] };
    nodes: GraphNode[];
    initializers: Record<string, { dataType: DataType; dims: number[]; values: number[] }>;
    output: string;
  };
  return {
    opset: parsed.opset,
    x: { shape: parsed.x.shape, values: Float64Array.from(parsed.x.values) },
    nodes: parsed.nodes,
    initializers: Object.fromEntries(
      Object.entries(parsed.initializers).map(([name, t]) => [name, constTensor(t.dataType, t.dims, t.values)]),
    ),
    output: parsed.output,
  };
}
