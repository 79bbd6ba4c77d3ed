import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import type { ModelSpec } from './float64-model.js';

const FLOAT = { type: 'DT_FLOAT' };

function shapeAttr(shape: readonly number[]) {
  return { dim: shape.map((size) => ({ size: String(size) })) };
}

/** A GraphDef attribute value as the converter's model.json writes it (strings base64). */
export const attrs = {
  string: (value: string) => ({ s: Buffer.from(value).toString('base64') }),
  strings: (values: readonly string[]) => ({ list: { s: values.map((v) => Buffer.from(v).toString('base64')) } }),
  ints: (values: readonly number[]) => ({ list: { i: values.map(String) } }),
  int: (value: number) => ({ i: String(value) }),
  float: (value: number) => ({ f: value }),
  bool: (value: boolean) => ({ b: value }),
};

/**
 * A tfjs-converter GraphModel written as a TensorFlow GraphDef in memory (no
 * files): placeholders, float constants (the weights) and ops with their
 * attributes, as a converted model's model.json has them.
 */
export class GraphDefBuilder {
  readonly #nodes: object[] = [];
  readonly #weightSpecs: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32' }> = [];
  readonly #buffers: Array<Float32Array | Int32Array> = [];

  placeholder(name: string, shape: readonly number[]): string {
    this.#nodes.push({ name, op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: shapeAttr(shape) } } });
    return name;
  }

  constant(name: string, shape: readonly number[], values: ArrayLike<number>): string {
    return this.#constant(name, shape, Float32Array.from(values));
  }

  /** A 1-D int32 constant: a Reshape's shape, a Mean's axes. */
  constantInt32(name: string, values: readonly number[]): string {
    return this.#constant(name, [values.length], Int32Array.from(values));
  }

  #constant(name: string, shape: readonly number[], values: Float32Array | Int32Array): string {
    const [dtype, proto] = values instanceof Int32Array ? (['int32', 'DT_INT32'] as const) : (['float32', 'DT_FLOAT'] as const);
    this.#nodes.push({
      name,
      op: 'Const',
      attr: { dtype: { type: proto }, value: { tensor: { dtype: proto, tensorShape: shapeAttr(shape) } } },
    });
    this.#weightSpecs.push({ name, shape: [...shape], dtype });
    this.#buffers.push(values);
    return name;
  }

  op(name: string, op: string, input: readonly string[], attr: Record<string, object> = {}): string {
    this.#nodes.push({ name, op, input, attr: { T: FLOAT, ...attr } });
    return name;
  }

  load(): ReturnType<typeof loadGraphModelSync> {
    // float32 and int32 values are 4 bytes each: one buffer in the order of the specs.
    const weightData = new Uint8Array(4 * this.#buffers.reduce((n, a) => n + a.length, 0));
    let offset = 0;
    for (const a of this.#buffers) {
      weightData.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
      offset += a.byteLength;
    }
    return loadGraphModelSync({
      modelTopology: { node: this.#nodes, versions: { producer: 1 } },
      weightSpecs: this.#weightSpecs,
      weightData: weightData.buffer,
      format: 'graph-model',
    });
  }
}

/**
 * A GraphModel of a dense-only spec: MatMul, BiasAdd, Relu per layer, then,
 * when `head`, a Softmax (or Sigmoid) and an Identity as a converted Keras
 * model has them.
 */
export function denseGraphModel(spec: ModelSpec, head: boolean | 'Sigmoid'): ReturnType<typeof loadGraphModelSync> {
  const graph = new GraphDefBuilder();
  let previous = graph.placeholder('x', [-1, ...spec.inputShape]);
  let inDim = spec.inputShape[0]!;
  spec.layers.forEach((layer, index) => {
    if (layer.kind !== 'dense' || layer.activation === 'softmax') throw new Error('denseGraphModel: dense layers only');
    const w = graph.constant(`dense${index}/kernel`, [inDim, layer.units], layer.kernel);
    const b = graph.constant(`dense${index}/bias`, [layer.units], layer.bias);
    const product = graph.op(`dense${index}/MatMul`, 'MatMul', [previous, w], {
      transpose_a: attrs.bool(false),
      transpose_b: attrs.bool(false),
    });
    previous = graph.op(`dense${index}/BiasAdd`, 'BiasAdd', [product, b]);
    if (layer.activation === 'relu') previous = graph.op(`dense${index}/Relu`, 'Relu', [previous]);
    inDim = layer.units;
  });
  if (head !== false) previous = graph.op('probabilities', head === 'Sigmoid' ? 'Sigmoid' : 'Softmax', [previous]);
  graph.op('Identity', 'Identity', [previous]);
  return graph.load();
}
