import { describe, expect, it } from 'vitest';
import { explain, hostTensor, type LayerGradients } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { loadHumanModel } from './helpers/npm-models.js';
import { prng } from './helpers/prng.js';
import { tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';

/*
 * Grad-CAM on GraphModels as an npm package ships them (@vladmandic/human,
 * converter output), on tfjs-cpu and tfjs-wasm: the default layer found in
 * the graph, the gradient at it checked against a central difference of the
 * logits computed from a shifted activation (the graph executed with that
 * node's value given) along the gradient itself, and wasm against cpu within
 * the parity tolerance of float32 devices.
 */

interface RealModel {
  readonly file: string;
  readonly shape: number[];
  readonly target: number;
  /** The node of the logits, before the softmax that the backend strips. */
  readonly logits: string;
  /** The op the default layer feeds (global pooling or flattening). */
  readonly pooling: string;
}

const MODELS: RealModel[] = [
  {
    file: 'emotion',
    shape: [1, 64, 64, 1],
    target: 3,
    logits: 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean',
    pooling: 'Mean',
  },
  {
    file: 'liveness',
    shape: [2, 32, 32, 3],
    target: 1,
    logits: 'StatefulPartitionedCall/sequential_1/dense_2/BiasAdd',
    pooling: 'Reshape',
  },
];

const PARITY_TOLERANCE = 1e-5;
const STEP = 1e-3;

interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly GraphNode[];
}

const onCpu = new Map<string, LayerGradients>();

describe.each(['cpu', 'wasm'] satisfies BackendName[])('Grad-CAM of real models from npm on tfjs-%s', (backendName) => {
  it.each(MODELS)(
    '$file',
    async (spec) => {
      await useBackend(backendName);
      const model = await loadHumanModel(spec.file);
      try {
        const backend = createTfjsBackend(model);
        const random = prng(9);
        const data = Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, () => random());
        const x = hostTensor(data, spec.shape);
        const rows = spec.shape[0]!;
        const targets = Int32Array.from({ length: rows }, () => spec.target);
        const before = tf.memory().numTensors;
        const layer = await backend.layerGradients(x, targets, undefined);
        expect(tf.memory().numTensors).toBe(before);

        // The default layer: a feature map [R, C, h, w] with h·w > 1, read by the pooling or flattening node.
        const [, , h, w] = layer.activation.shape as number[];
        expect(layer.activation.shape.length).toBe(4);
        expect(h! * w!).toBeGreaterThan(1);
        const nodes = (model as unknown as { executor: { graph: { nodes: Record<string, GraphNode> } } }).executor.graph.nodes;
        const readers = Object.values(nodes).filter((n) => n.inputs.some((i) => i.name === layer.layer));
        expect(
          readers.some((n) => n.op === spec.pooling),
          `${layer.layer} read by ${readers.map((n) => n.op)}`,
        ).toBe(true);

        // d/dh f_t(A + h v) at 0 = G · v, by a central difference of the logits from the shifted activation.
        let largest = 0;
        for (const g of layer.gradient.data) largest = Math.max(largest, Math.abs(g));
        const channelsLast = [0, 2, 3, 1];
        const logitsAt = (sign: number) =>
          tf.tidy(() => {
            const a = tf.transpose(tf.tensor(layer.activation.data, [...layer.activation.shape]), channelsLast);
            const v = tf.transpose(tf.div(tf.tensor(layer.gradient.data, [...layer.gradient.shape]), largest), channelsLast);
            const inputName = model.inputs[0]!.name;
            const dict = { [inputName]: tf.tensor(data, spec.shape), [layer.layer]: tf.add(a, tf.mul(v, sign * STEP)) };
            return (model.execute(dict, spec.logits) as tf.Tensor).dataSync();
          });
        const [up, down] = [logitsAt(1), logitsAt(-1)];
        const classes = up.length / rows;
        const size = layer.gradient.data.length / rows;
        for (let r = 0; r < rows; r++) {
          let dot = 0;
          for (let i = r * size; i < (r + 1) * size; i++) dot += (layer.gradient.data[i]! * layer.gradient.data[i]!) / largest;
          const difference = (up[r * classes + spec.target]! - down[r * classes + spec.target]!) / (2 * STEP);
          expect(Math.abs(dot - difference), `row ${r}: G·v ${dot} vs difference ${difference}`).toBeLessThanOrEqual(2e-2 * dot);
        }

        const map = await explain(backend, 'grad_cam', x, { target: spec.target });
        expect(map.shape).toEqual([rows, spec.shape[1], spec.shape[2], 1]);
        expect(map.data.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);

        if (backendName === 'cpu') {
          onCpu.set(spec.file, layer);
        } else {
          const cpu = onCpu.get(spec.file)!;
          expect(layer.layer).toBe(cpu.layer);
          expect(maxRelativeError(layer.activation.data, cpu.activation.data)).toBeLessThanOrEqual(PARITY_TOLERANCE);
          expect(maxRelativeError(layer.gradient.data, cpu.gradient.data)).toBeLessThanOrEqual(PARITY_TOLERANCE);
        }
      } finally {
        model.dispose();
      }
    },
    240_000,
  );
});
