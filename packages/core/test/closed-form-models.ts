import type { GradientBackend, GradientMoments, HostTensor } from '../src/index.js';
import { AttributionError, momentsOfGroups } from '../src/index.js';
import type { ReferenceModel } from '../src/reference/index.js';

/**
 * A model with a closed-form input gradient, on one example of `size`
 * elements with `classes` logits, evaluated in float64.
 */
export interface ClosedFormModel extends ReferenceModel {
  readonly name: string;
  readonly size: number;
  readonly classes: number;
}

/** A small deterministic sequence for weights (not the noise under test). */
function weights(count: number, salt: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => Math.sin(1.7 * i + 0.3 * salt + 0.1) * 0.8);
}

/** f_k(x) = W_k · x + c_k;  ∂f_k/∂x = W_k (so its VarGrad is exactly 0). */
export function linearModel(size: number, classes: number): ClosedFormModel {
  const w = weights(size * classes, 1);
  const c = weights(classes, 2);
  return {
    name: 'linear',
    size,
    classes,
    logits: (x) => Float64Array.from({ length: classes }, (_, k) => c[k]! + x.reduce((s, v, j) => s + w[k * size + j]! * v, 0)),
    gradient: (_x, t) => w.slice(t * size, (t + 1) * size),
  };
}

/** f_k(x) = Σ_j A_kj x_j² + B_k · x;  ∂f_k/∂x = 2 A_k ⊙ x + B_k. */
export function quadraticModel(size: number, classes: number): ClosedFormModel {
  const a = weights(size * classes, 3);
  const b = weights(size * classes, 4);
  return {
    name: 'quadratic',
    size,
    classes,
    logits: (x) =>
      Float64Array.from({ length: classes }, (_, k) => x.reduce((s, v, j) => s + a[k * size + j]! * v * v + b[k * size + j]! * v, 0)),
    gradient: (x, t) => x.map((v, j) => 2 * a[t * size + j]! * v + b[t * size + j]!),
  };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** f_k(x) = σ(W_k · x + c_k);  ∂f_k/∂x = σ(1 − σ) W_k. */
export function logisticModel(size: number, classes: number): ClosedFormModel {
  const w = weights(size * classes, 5);
  const c = weights(classes, 6);
  const z = (x: Float64Array, k: number) => c[k]! + x.reduce((s, v, j) => s + w[k * size + j]! * v, 0);
  return {
    name: 'logistic',
    size,
    classes,
    logits: (x) => Float64Array.from({ length: classes }, (_, k) => sigmoid(z(x, k))),
    gradient: (x, t) => {
      const s = sigmoid(z(x, t));
      return w.slice(t * size, (t + 1) * size).map((v) => s * (1 - s) * v);
    },
  };
}

/** Counts what a backend was asked to do, to check that bad input stops before any work. */
export interface CallLog {
  logits: number;
  gradients: number;
  moments: number;
  rowsPerCall: number[];
}

/**
 * A float32 GradientBackend over a closed-form model. With `reduceMoments`
 * it also implements `gradientMoments` (two-pass per group, as a device
 * would), so that both of core's paths are exercised.
 */
export function closedFormBackend(
  model: ClosedFormModel,
  { reduceMoments = true, exampleShape = [model.size] as readonly number[] } = {},
): GradientBackend & { calls: CallLog } {
  const calls: CallLog = { logits: 0, gradients: 0, moments: 0, rowsPerCall: [] };
  const rowsOf = (x: HostTensor) => x.shape[0]!;
  const row = (x: HostTensor, r: number) => Float64Array.from(x.data.subarray(r * model.size, (r + 1) * model.size));
  const gradients = async (x: HostTensor, targets: Int32Array): Promise<HostTensor> => {
    calls.gradients++;
    calls.rowsPerCall.push(rowsOf(x));
    const data = new Float32Array(x.data.length);
    for (let r = 0; r < rowsOf(x); r++) data.set(model.gradient(row(x, r), targets[r]!), r * model.size);
    return { data, shape: [...x.shape] };
  };
  const backend: GradientBackend & { calls: CallLog } = {
    name: `closed-form-${model.name}`,
    calls,
    checkInputShape(shape) {
      const expected = [shape[0]!, ...exampleShape];
      if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
        throw new AttributionError('INVALID_SHAPE', `closed-form backend takes [B, ${exampleShape.join(', ')}]; got [${shape.join(', ')}]`);
      }
    },
    async logits(x) {
      calls.logits++;
      const data = new Float32Array(rowsOf(x) * model.classes);
      for (let r = 0; r < rowsOf(x); r++) data.set(model.logits(row(x, r)), r * model.classes);
      return { data, shape: [rowsOf(x), model.classes] };
    },
    gradients,
  };
  if (reduceMoments) {
    backend.gradientMoments = async (x, targets, groupSize): Promise<GradientMoments> => {
      calls.moments++;
      const g = await gradients(x, targets);
      calls.gradients--;
      return momentsOfGroups(g, groupSize);
    };
  }
  return backend;
}

/** Max |a − b| over max |b|: the error measure of the parity reports. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
  }
  return scale === 0 ? error : error / scale;
}
