import { describe, expect, it } from 'vitest';
import { explain, hostTensor, type HostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { humanModelOps, loadHumanModel } from './helpers/npm-models.js';
import { prng } from './helpers/prng.js';
import { tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';

/*
 * LRP (docs/methods.md, "LRP") on GraphModels as an npm package ships them
 * (@vladmandic/human, converter output), on tfjs-cpu and tfjs-wasm. What must
 * hold without a reference map:
 * - LRP-z is the ordinary gradient at every layer, so its map is x ⊙ ∇f_t,
 *   the backend's plain input gradient (no LRP code in it);
 * - z⁺ and α1β0 give biases no share, and every other op here (Relu, MaxPool,
 *   Reshape, a Mul by a constant) passes relevance on whole, so the map sums
 *   to the target logit — where no denominator is 0 and the relevance is not
 *   absorbed. An Add of a constant outside a weighted op (liveness's batch
 *   norms after a ReLU, written as Mul and Add) absorbs b ⊙ c: those
 *   constants are set to zero in the loaded model, whose logits change with
 *   them, before checking. A neuron whose every contribution is negative has
 *   z⁺ = 0 and loses its relevance; after a ReLU it carries none, but emotion
 *   passes linear outputs on (a separable convolution's depthwise half, the
 *   convolutions before MaxPool and the residual AddV2), and there its α1β0
 *   map sums to −0.357 against the logit −1.859 (the relevance at α1β0's zero
 *   denominators, summed by instrumenting the rule once, is −1.502: the two
 *   make the logit within 1e-6; its z⁺ denominators, over inputs of both
 *   signs, also cancel): it is held to LRP-z and to wasm's agreement with
 *   cpu only;
 * - tfjs-wasm gives tfjs-cpu's maps within the parity tolerance of float32
 *   devices (1e-5 of the largest magnitude, apps/parity).
 */

interface RealModel {
  readonly file: string;
  readonly shape: number[];
  readonly target: number;
  /** Ops the test is about: the shipped graph must hold them. */
  readonly ops: string[];
  /** The rule sets compared between wasm and cpu. */
  readonly methods: string[];
  /** Whether the z⁺ and α1β0 maps must sum to the logit (see above). */
  readonly conserves: boolean;
  /** Where wasm and cpu may differ by more than float32 rounding: the differences found, with the reason. */
  readonly wasmAgreement?: { readonly [method: string]: { readonly maxError: number; readonly cosine: number } };
}

const CONSERVING = ['lrp_zplus', 'lrp_alpha_1_beta_0'];
const MODELS: RealModel[] = [
  {
    file: 'emotion',
    shape: [1, 64, 64, 1],
    target: 3,
    ops: ['_FusedConv2D', 'DepthwiseConv2dNative', 'MaxPool', 'AddV2', 'Mean', 'Softmax'],
    methods: ['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0'],
    conserves: false,
    // Its linear outputs hold neurons whose positive contributions are within rounding of 0: there α1β0's
    // quotient R / z⁺ turns wasm's and cpu's last-bit differences into large ones, or z⁺ is exactly 0 on one
    // and not on the other: 1.2e-3 of the largest element at this input, the maps' cosine 0.99999987 (ε: 1.1e-6).
    wasmAgreement: { lrp_alpha_1_beta_0: { maxError: 5e-3, cosine: 0.99999 } },
  },
  {
    file: 'liveness',
    shape: [2, 32, 32, 3],
    target: 1,
    ops: ['_FusedConv2D', 'Mul', 'Add', 'MaxPool', 'Reshape', '_FusedMatMul', 'Softmax'],
    methods: ['lrp_epsilon_0_1', ...CONSERVING, 'lrp_alpha_2_beta_1', 'lrp_epsilon_plus_flat', 'lrp_sequential_composite_a'],
    conserves: true,
  },
  {
    file: 'antispoof',
    shape: [1, 128, 128, 3],
    target: 0,
    ops: ['_FusedConv2D', 'MaxPool', 'Relu', 'Reshape', '_FusedMatMul', 'Sigmoid'],
    // Its 128 × 128 × 64 convolutions make every rule set a long run on tfjs-cpu: z⁺ only.
    methods: ['lrp_zplus'],
    conserves: true,
  },
];
const PARITY_TOLERANCE = 1e-5;

function image(shape: readonly number[], seed: number): Float32Array {
  const random = prng(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => random());
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [dot, aa, bb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

interface GraphNode {
  readonly op: string;
  readonly inputs: readonly { readonly name: string; readonly op: string }[];
}

/** Sets to zero every constant that an Add or AddV2 adds outside a weighted op (the only ops that absorb relevance here). */
function zeroStandaloneOffsets(model: Awaited<ReturnType<typeof loadHumanModel>>): number {
  const nodes = (model as unknown as { executor: { graph: { nodes: Record<string, GraphNode> } } }).executor.graph.nodes;
  const weights = model.weights as Record<string, tf.Tensor[]>;
  let zeroed = 0;
  for (const node of Object.values(nodes)) {
    if (node.op !== 'Add' && node.op !== 'AddV2') continue;
    for (const input of node.inputs) {
      if (input.op !== 'Const') continue;
      const [old] = weights[input.name]!;
      weights[input.name] = [tf.zerosLike(old!)];
      old!.dispose();
      zeroed++;
    }
  }
  return zeroed;
}

const cpuMaps = new Map<string, Float32Array>();

describe.each(['cpu', 'wasm'] satisfies BackendName[])('LRP on real GraphModels from npm on tfjs-%s', (backendName) => {
  it.each(MODELS)(
    '$file: LRP-z is x ⊙ gradient, z⁺ and α1β0 sum to the logit where they must, wasm agrees with cpu',
    async (spec) => {
      await useBackend(backendName);
      const ops = await humanModelOps(spec.file);
      for (const op of spec.ops) expect(ops.has(op), `${spec.file} holds ${op}`).toBe(true);
      const model = await loadHumanModel(spec.file);
      try {
        const zeroed = zeroStandaloneOffsets(model);
        expect(zeroed, 'offsets zeroed').toBe(spec.file === 'liveness' ? 5 : 0);
        const backend = createTfjsBackend(model);
        expect(backend.backwardRuleSets).toContain('lrp');
        const rows = spec.shape[0]!;
        const x = hostTensor(image(spec.shape, 11), spec.shape);
        const target = Array.from({ length: rows }, () => spec.target);
        const before = tf.memory().numTensors;

        const gradient = await backend.gradients(x, Int32Array.from(target));
        const lrpZ = await explain(backend, 'lrp_z', x, { target });
        expect(
          maxRelativeError(
            lrpZ.data,
            Array.from(gradient.data, (g, i) => g * x.data[i]!),
          ),
          'LRP-z',
        ).toBeLessThanOrEqual(PARITY_TOLERANCE);

        const logits = await backend.logits(x);
        const classes = logits.shape[1]!;
        const size = x.data.length / rows;
        const maps = new Map<string, HostTensor>();
        for (const method of spec.methods) maps.set(method, await explain(backend, method, x, { target }));
        for (const method of spec.conserves ? CONSERVING.filter((m) => spec.methods.includes(m)) : []) {
          for (let r = 0; r < rows; r++) {
            const row = maps.get(method)!.data.subarray(r * size, (r + 1) * size);
            const sum = row.reduce((a, v) => a + v, 0);
            const magnitude = row.reduce((a, v) => a + Math.abs(v), 0);
            const logit = logits.data[r * classes + spec.target]!;
            // float32 sums over a deep net of terms of both signs: held to their total magnitude.
            expect(Math.abs(sum - logit), `${method} conserves, row ${r}`).toBeLessThanOrEqual(1e-5 * magnitude);
          }
        }
        expect(tf.memory().numTensors, 'tensors left').toBe(before);

        for (const [method, map] of maps) {
          const key = `${spec.file} ${method}`;
          if (backendName === 'cpu') cpuMaps.set(key, map.data);
          else {
            const error = maxRelativeError(map.data, cpuMaps.get(key)!);
            const cos = cosine(map.data, cpuMaps.get(key)!);
            console.log(`${key}: tfjs-wasm vs tfjs-cpu relative max error ${error.toExponential(2)}, cosine ${cos}`);
            expect(error, method).toBeLessThanOrEqual(spec.wasmAgreement?.[method]?.maxError ?? PARITY_TOLERANCE);
            expect(cos, method).toBeGreaterThanOrEqual(spec.wasmAgreement?.[method]?.cosine ?? 1 - 1e-9);
          }
        }
      } finally {
        model.dispose();
      }
    },
    240_000,
  );
});
