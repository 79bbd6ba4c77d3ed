import { describe, expect, it } from 'vitest';
import { explain, hostTensor, type HostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { humanModelOps, loadHumanModel } from './helpers/npm-models.js';
import { prng } from './helpers/prng.js';
import { BACKENDS, tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';

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
 * - faceres (224×224×3, MobileNet-v1-style: Conv2D and DepthwiseConv2dNative
 *   each with its batch norm as Add, or Mul and Add, then ReLU6 as Relu and a
 *   Minimum–Maximum pair; Mean, then dense layers) keeps almost none of its
 *   logit as shipped: at this input, for the age head (logit 0.2789), the z⁺
 *   and α1β0 maps (equal here, every layer's input being ≥ 0) sum to 3.3e-5;
 *   the relevance at z⁺'s zero denominators, summed by instrumenting the rule
 *   once, is 0.0371 at the 256-unit dense layer and 0.2418 at the 13
 *   depthwise convolutions, all at units whose inputs are 0 and whose output
 *   is carried by a positive shift alone; the parts make the logit within
 *   6e-8 (gender head: 7.9e-5 of 0.5279, 0.0145 and 0.5132, within 4e-9).
 *   Its batch norms' shifts drive about 3 700 units past ReLU6's bound of 6
 *   at every input scale tried (×0.1 to ×1), where relevance passes whole
 *   and the gradient is 0 (docs/methods.md, "Bounded activations"): LRP-z
 *   differs from x ⊙ ∇f_t by 0.44 of its largest element. (With the bounds
 *   lifted to 1e4 it still differs by 0.069, cosine 0.99994: the batch norms
 *   folded into LRP's weights round otherwise than the graph's Mul and Add,
 *   and 6 of the pre-activations, among the 65 within 1e-5 of ReLU's kink,
 *   fall on its other side.) So its 30 biases are set to zero before
 *   checking: then no unit is past 6 at this input and none changes side,
 *   LRP-z is x ⊙ ∇f_t and the maps conserve; and at the input scaled by 20
 *   (84 units past 6) z⁺, α1β0 and LRP-z (no biases to absorb) still sum to
 *   the logit, −8.89e-4, while x ⊙ ∇f_t sums to 1.37e-4;
 * - tfjs-wasm gives tfjs-cpu's maps within the parity tolerance of float32
 *   devices (1e-5 of the largest magnitude, apps/parity). faceres runs on
 *   tfjs-wasm only: tfjs-cpu is slow at 224×224, and its ReLU6 kinks already
 *   part the two backends' gradients (real-models.test.ts).
 */

interface RealModel {
  readonly file: string;
  /** The output explained, where the model has several (createTfjsBackend's `outputName`). */
  readonly outputName?: string;
  readonly shape: number[];
  readonly target: number;
  /** Where it runs: both backends unless said. */
  readonly backends?: readonly BackendName[];
  /** The constants set to zero before checking (see above): how many, and whether fused ops' biases are among them. */
  readonly zeroed: { readonly count: number; readonly fusedBiases?: boolean };
  /** A factor of the input that drives units past ReLU6's bound, where LRP-z must still conserve and x ⊙ ∇f_t does not. */
  readonly saturatingScale?: number;
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
    zeroed: { count: 0 },
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
    zeroed: { count: 5 },
    methods: ['lrp_epsilon_0_1', ...CONSERVING, 'lrp_alpha_2_beta_1', 'lrp_epsilon_plus_flat', 'lrp_sequential_composite_a'],
    conserves: true,
  },
  {
    file: 'antispoof',
    shape: [1, 128, 128, 3],
    target: 0,
    ops: ['_FusedConv2D', 'MaxPool', 'Relu', 'Reshape', '_FusedMatMul', 'Sigmoid'],
    zeroed: { count: 0 },
    // Its 128 × 128 × 64 convolutions make every rule set a long run on tfjs-cpu: z⁺ only.
    methods: ['lrp_zplus'],
    conserves: true,
  },
  ...(
    [
      ['age_pred/Softmax', 30],
      ['gender_pred/Sigmoid', 0],
    ] as const
  ).map(
    ([outputName, target]): RealModel => ({
      file: 'faceres',
      outputName,
      shape: [1, 224, 224, 3],
      target,
      backends: ['wasm'],
      ops: [
        'Conv2D',
        'DepthwiseConv2dNative',
        'Mul',
        'Add',
        'Relu',
        'Minimum',
        'Maximum',
        'Mean',
        '_FusedMatMul',
        outputName.split('/')[1]!,
      ],
      // 27 batch norm shifts and the three dense layers' biases.
      zeroed: { count: 30, fusedBiases: true },
      methods: CONSERVING,
      conserves: true,
      ...(target === 30 ? { saturatingScale: 20 } : {}),
    }),
  ),
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

/**
 * Sets to zero every constant that an Add or AddV2 adds (a standalone offset
 * or a batch norm's shift), and with `fusedBiases` every fused op's bias (its
 * third input): the constants that absorb relevance or carry a unit whose
 * z⁺ is 0 (see above).
 */
function zeroOffsets(model: Awaited<ReturnType<typeof loadHumanModel>>, fusedBiases: boolean): number {
  const nodes = (model as unknown as { executor: { graph: { nodes: Record<string, GraphNode> } } }).executor.graph.nodes;
  const weights = model.weights as Record<string, tf.Tensor[]>;
  let zeroed = 0;
  for (const node of Object.values(nodes)) {
    const offsets =
      node.op === 'Add' || node.op === 'AddV2' ? node.inputs : fusedBiases && node.op.startsWith('_Fused') ? node.inputs.slice(2, 3) : [];
    for (const input of offsets) {
      if (input.op !== 'Const') continue;
      const [old] = weights[input.name]!;
      weights[input.name] = [tf.zerosLike(old!)];
      old!.dispose();
      zeroed++;
    }
  }
  return zeroed;
}

/** Checks that each row of `map` sums to the target logit: float32 sums over a deep net of terms of both signs, held to their total magnitude. */
function expectConserves(map: ArrayLike<number>, logits: HostTensor, target: number, what: string): void {
  const [rows, classes] = logits.shape as [number, number];
  const size = map.length / rows;
  for (let r = 0; r < rows; r++) {
    let [sum, magnitude] = [0, 0];
    for (let i = r * size; i < (r + 1) * size; i++) [sum, magnitude] = [sum + map[i]!, magnitude + Math.abs(map[i]!)];
    expect(Math.abs(sum - logits.data[r * classes + target]!), `${what} conserves, row ${r}`).toBeLessThanOrEqual(1e-5 * magnitude);
  }
}

const cpuMaps = new Map<string, Float32Array>();

const runsOn = (spec: RealModel, backend: BackendName) => (spec.backends ?? BACKENDS).includes(backend);

describe.each([...BACKENDS])('LRP on real GraphModels from npm on tfjs-%s', (backendName) => {
  it.each(
    MODELS.filter((spec) => runsOn(spec, backendName)).map(
      (spec) => [spec.outputName === undefined ? spec.file : `${spec.file} ${spec.outputName}`, spec] as const,
    ),
  )(
    '%s: LRP-z is x ⊙ gradient, z⁺ and α1β0 sum to the logit where they must, wasm agrees with cpu',
    async (_, spec) => {
      await useBackend(backendName);
      const ops = await humanModelOps(spec.file);
      for (const op of spec.ops) expect(ops.has(op), `${spec.file} holds ${op}`).toBe(true);
      const model = await loadHumanModel(spec.file);
      try {
        expect(zeroOffsets(model, spec.zeroed.fusedBiases ?? false), 'offsets zeroed').toBe(spec.zeroed.count);
        const backend = createTfjsBackend(model, spec.outputName === undefined ? {} : { outputName: spec.outputName });
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
        const maps = new Map<string, HostTensor>();
        for (const method of spec.methods) maps.set(method, await explain(backend, method, x, { target }));
        for (const method of spec.conserves ? CONSERVING.filter((m) => spec.methods.includes(m)) : []) {
          expectConserves(maps.get(method)!.data, logits, spec.target, method);
        }

        if (spec.saturatingScale !== undefined) {
          // Units past ReLU6's bound: relevance passes them whole, the gradient drops it (docs/methods.md, "Bounded activations").
          // Without biases the net is positively homogeneous but for those bounds, so x ⊙ ∇f_t missing f_t shows that units pass them.
          const scaled = hostTensor(
            x.data.map((v) => v * spec.saturatingScale!),
            spec.shape,
          );
          const scaledLogits = await backend.logits(scaled);
          for (const method of ['lrp_z', ...CONSERVING]) {
            expectConserves(
              (await explain(backend, method, scaled, { target })).data,
              scaledLogits,
              spec.target,
              `${method} past the bound`,
            );
          }
          const scaledGradient = await backend.gradients(scaled, Int32Array.from(target));
          const gradientSum = scaledGradient.data.reduce((a, g, i) => a + g * scaled.data[i]!, 0);
          const logit = scaledLogits.data[spec.target]!;
          console.log(`${spec.file} ${spec.outputName} at ×${spec.saturatingScale}: logit ${logit}, x ⊙ gradient sums to ${gradientSum}`);
          expect(Math.abs(gradientSum - logit), 'x ⊙ gradient loses what passes the bound').toBeGreaterThan(0.01 * Math.abs(logit));
        }
        expect(tf.memory().numTensors, 'tensors left').toBe(before);

        for (const [method, map] of maps) {
          const key = `${spec.file} ${spec.outputName ?? ''} ${method}`;
          if (backendName === 'cpu') cpuMaps.set(key, map.data);
          else if (runsOn(spec, 'cpu')) {
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
