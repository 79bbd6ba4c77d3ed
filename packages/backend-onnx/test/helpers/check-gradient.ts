import { expect } from 'vitest';
import { constTensor, type ConstTensor } from '../../src/model/const-tensor.js';
import { evaluateOp, operandValues, uniformValues, type GradientCase } from './op-case.js';
import { runForward, runGradient } from './run-gradient.js';

export { evaluateOp, uniformValues, type GradientCase, type Operand } from './op-case.js';

/**
 * Differentiates the op with respect to each non-constant operand in turn:
 * our gradient graph, run by onnxruntime-node in float32, against float64
 * central differences of Σ ȳ ⊙ y through the op's own `evaluate`, for a
 * random cotangent ȳ. Also checks the forward output against `evaluate`,
 * so that the reference is the ONNX semantics as ONNX Runtime runs them.
 */
export async function checkGradient(c: GradientCase, tolerance = 1e-4): Promise<void> {
  const values = operandValues(c);
  const variables = c.inputs.flatMap((operand, i) => (operand !== null && !operand.constant ? [i] : []));
  expect(variables.length, 'a case needs an operand to differentiate').toBeGreaterThan(0);
  const y = evaluateOp(c, values)[c.output ?? 0]!;
  const forward = (await runForward(c))[c.output ?? 0]!;
  expectClose(forward, y.values, 1e-5, `${c.opType} forward vs evaluate`);
  const cotangent = uniformValues(y.values.length, (c.seed ?? 1) * 7 + 3);
  for (const variable of variables) {
    const gradient = await runGradient(c, variable, cotangent);
    const reference = centralDifferences(c, values, variable, cotangent);
    expectClose(gradient, reference, tolerance, `${c.opType} gradient of input ${variable}`);
  }
}

function centralDifferences(
  c: GradientCase,
  values: ReadonlyArray<ConstTensor | undefined>,
  variable: number,
  cotangent: Float64Array,
): Float64Array {
  const x = values[variable]!;
  const objective = (probe: Float64Array) => {
    const inputs = values.map((v, i) => (i === variable ? constTensor(x.dataType, x.dims, probe) : v));
    const y = evaluateOp(c, inputs)[c.output ?? 0]!;
    return y.values.reduce((s, v, i) => s + v * cotangent[i]!, 0);
  };
  const probe = Float64Array.from(x.values);
  const gradient = new Float64Array(probe.length);
  for (let k = 0; k < probe.length; k++) {
    const h = 1e-6 * Math.max(1, Math.abs(x.values[k]!));
    probe[k] = x.values[k]! + h;
    const up = objective(probe);
    probe[k] = x.values[k]! - h;
    const down = objective(probe);
    probe[k] = x.values[k]!;
    gradient[k] = (up - down) / (2 * h);
  }
  return gradient;
}

/** max |actual − expected| ≤ tolerance · max(|expected|), and the reference is not all zeros. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale, `${label}: the reference is all zeros, so the check could not fail`).toBeGreaterThan(0);
  expect(error / scale, `${label}: max error ${error} against max |reference| ${scale}`).toBeLessThanOrEqual(tolerance);
}
