import { uniformValues } from './op-case.js';
import { evaluateGraph, type RandomGraph } from './random-graph.js';
import { runGraphGradient } from './run-gradient.js';

/** Step of the float64 central differences (relative to max(1, |x_k|)). */
const H = 1e-5;
/**
 * Step of the kink probe. Within this distance of a kink (ReLU or Abs at 0,
 * a Clip bound, a MaxPool or Max tie, a Floor step) central differences
 * average two slopes and float32 may sit on the other side, so such points
 * are skipped: a rule is checked where its function is differentiable.
 */
const KINK_H = 1e-4;
const RELATIVE_TOLERANCE = 2e-3;
const ABSOLUTE_TOLERANCE = 1e-5;

export type GraphCheck =
  | { readonly kind: 'skipped'; readonly why: string }
  | { readonly kind: 'passed' }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * Checks the gradient graph of `graph`, run by onnxruntime-node in float32,
 * against float64 central differences of Σ ȳ ⊙ y through the ops' own
 * `evaluate`, for a random cotangent ȳ:
 *
 *   max_k |x̄_k − D_k| ≤ 2·10⁻³ · max_k |D_k| + 10⁻⁵,
 *   D_k = (F(x + h e_k) − F(x − h e_k)) / 2h,  F(x) = Σ ȳ ⊙ y(x).
 *
 * Skips points within 10⁻⁴ of a kink along some input direction (the one-
 * sided differences there disagree) and graphs whose values are not finite.
 */
export async function checkGraphGradient(graph: RandomGraph): Promise<GraphCheck> {
  const x0 = graph.x.values;
  const y0 = evaluateGraph(graph, x0);
  if (!y0.every(Number.isFinite) || y0.some((v) => Math.abs(v) > 1e6)) return { kind: 'skipped', why: 'non-finite or huge output' };
  const cotangent = uniformValues(y0.length, x0.length * 7 + y0.length);
  const objective = (x: Float64Array) => evaluateGraph(graph, x).reduce((s, v, i) => s + v * cotangent[i]!, 0);
  const f0 = objective(x0);
  const probe = Float64Array.from(x0);
  const reference = new Float64Array(x0.length);
  const at = (k: number, delta: number) => {
    probe[k] = x0[k]! + delta;
    const value = objective(probe);
    probe[k] = x0[k]!;
    return value;
  };
  const oneSided: Array<[number, number]> = [];
  for (let k = 0; k < x0.length; k++) {
    const h = H * Math.max(1, Math.abs(x0[k]!));
    reference[k] = (at(k, h) - at(k, -h)) / (2 * h);
    oneSided.push([(at(k, KINK_H) - f0) / KINK_H, (f0 - at(k, -KINK_H)) / KINK_H]);
  }
  const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const kinked = oneSided.findIndex(([up, down]) => Math.abs(up - down) > 1e-3 * scale + 1e-7);
  if (kinked >= 0) return { kind: 'skipped', why: `near a kink along x[${kinked}]` };

  const gradient = await runGraphGradient(
    {
      nodes: graph.nodes,
      initializers: graph.initializers,
      x: { shape: graph.x.shape, values: x0 },
      output: graph.output,
      outputSize: y0.length,
      opset: graph.opset,
    },
    cotangent,
  );
  let error = 0;
  let worst = 0;
  for (let k = 0; k < x0.length; k++) {
    const e = Math.abs(gradient[k]! - reference[k]!);
    if (e > error) [error, worst] = [e, k];
  }
  if (!(error <= RELATIVE_TOLERANCE * scale + ABSOLUTE_TOLERANCE)) {
    return {
      kind: 'failed',
      message:
        `gradient error ${error} at x[${worst}] (ours ${gradient[worst]}, central differences ${reference[worst]}) ` +
        `against max |reference| ${scale}; ops ${graph.nodes.map((n) => n.opType).join(' → ')}`,
    };
  }
  return { kind: 'passed' };
}
