import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import type { ModelSpec } from './float64-model.js';

const FLOAT = { type: 'DT_FLOAT' };

function shapeAttr(shape: readonly number[]) {
  return { dim: shape.map((size) => ({ size: String(size) })) };
}

/**
 * A tfjs-converter GraphModel of a dense-only spec, written as a TensorFlow
 * GraphDef in memory (no files): MatMul, BiasAdd, Relu per layer, then, when
 * `softmax`, a Softmax and an Identity as a converted Keras model has them.
 */
export function denseGraphModel(spec: ModelSpec, head: boolean | 'Sigmoid'): ReturnType<typeof loadGraphModelSync> {
  const nodes: object[] = [{ name: 'x', op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: shapeAttr([-1, ...spec.inputShape]) } } }];
  const weightSpecs: Array<{ name: string; shape: number[]; dtype: 'float32' }> = [];
  const buffers: Float32Array[] = [];
  let inDim = spec.inputShape[0]!;
  let previous = 'x';
  spec.layers.forEach((layer, index) => {
    if (layer.kind !== 'dense' || layer.activation === 'softmax') throw new Error('denseGraphModel: dense layers only');
    const w = `dense${index}/kernel`;
    const b = `dense${index}/bias`;
    for (const [name, shape, values] of [
      [w, [inDim, layer.units], layer.kernel],
      [b, [layer.units], layer.bias],
    ] as const) {
      nodes.push({ name, op: 'Const', attr: { dtype: FLOAT, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shapeAttr(shape) } } } });
      weightSpecs.push({ name, shape: [...shape], dtype: 'float32' });
      buffers.push(Float32Array.from(values));
    }
    nodes.push({
      name: `dense${index}/MatMul`,
      op: 'MatMul',
      input: [previous, w],
      attr: { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } },
    });
    nodes.push({ name: `dense${index}/BiasAdd`, op: 'BiasAdd', input: [`dense${index}/MatMul`, b], attr: { T: FLOAT } });
    previous = `dense${index}/BiasAdd`;
    if (layer.activation === 'relu') {
      nodes.push({ name: `dense${index}/Relu`, op: 'Relu', input: [previous], attr: { T: FLOAT } });
      previous = `dense${index}/Relu`;
    }
    inDim = layer.units;
  });
  if (head !== false) {
    nodes.push({ name: 'probabilities', op: head === 'Sigmoid' ? 'Sigmoid' : 'Softmax', input: [previous], attr: { T: FLOAT } });
    previous = 'probabilities';
  }
  nodes.push({ name: 'Identity', op: 'Identity', input: [previous], attr: { T: FLOAT } });

  const total = buffers.reduce((n, a) => n + a.length, 0);
  const weightData = new Float32Array(total);
  let offset = 0;
  for (const a of buffers) {
    weightData.set(a, offset);
    offset += a.length;
  }
  return loadGraphModelSync({
    modelTopology: { node: nodes, versions: { producer: 1 } },
    weightSpecs,
    weightData: weightData.buffer,
    format: 'graph-model',
  });
}
