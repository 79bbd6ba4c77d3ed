import { checkInput } from '../methods/input.js';
import { applyModifiers, baselineOf, noiseOf, VARIANCE_ZERO_THRESHOLD } from '../methods/attribute.js';
import { parseMethodName } from '../methods/method-name.js';
import { resolveOptions, type AttributionOptions } from '../methods/options.js';
import { resolveTargets } from '../methods/targets.js';
import { sizeOf, type HostTensor } from '../tensor.js';

/** A model evaluated in float64 on one example (the input without its batch axis, flat). */
export interface ReferenceModel {
  logits(example: Float64Array): Float64Array;
  /** ∂ logits[target] / ∂ example. */
  gradient(example: Float64Array, target: number): Float64Array;
}

/**
 * The spec's formulas evaluated directly in float64, one example and one
 * sample at a time, with a two-pass variance: slow and plain, the yardstick
 * for the batched, chunked, float32 path. It adds the very same noise.
 */
export function referenceAttribution(
  methodName: string,
  model: ReferenceModel,
  x: HostTensor,
  options: AttributionOptions = {},
): Float64Array {
  const method = parseMethodName(methodName);
  const resolved = resolveOptions(method, {}, options);
  checkInput(x);
  const batch = x.shape[0]!;
  const size = sizeOf(x.shape.slice(1));
  const exampleOf = (b: number) => Float64Array.from(x.data.subarray(b * size, (b + 1) * size));
  const logits = Array.from({ length: batch }, (_, b) => model.logits(exampleOf(b)));
  const classes = logits[0]!.length;
  const targets = resolveTargets(resolved.target, batch, classes, () => ({
    data: Float32Array.from(logits.flatMap((row) => [...row])),
    shape: [batch, classes],
  }));

  const map = new Float64Array(x.data.length);
  const noise = noiseOf(resolved, x);
  const epsilon = new Float32Array(size);
  const at = method.base === 'integrated_gradients' ? baselineOf(resolved, x) : () => 0;
  for (let b = 0; b < batch; b++) {
    const clean = exampleOf(b);
    let points: Float64Array[];
    if (method.base === 'gradient') {
      points = [clean];
    } else if (method.base === 'integrated_gradients') {
      points = Array.from({ length: resolved.steps }, (_, k) =>
        clean.map((v, e) => at(b * size + e) + ((k + 1) / resolved.steps) * (v - at(b * size + e))),
      );
    } else {
      points = Array.from({ length: resolved.numSamples }, (_, i) => {
        noise(b, i, epsilon);
        return clean.map((v, e) => v + epsilon[e]!);
      });
    }
    const gradients = points.map((p) => model.gradient(p, targets[b]!));
    const n = gradients.length;
    for (let e = 0; e < size; e++) {
      let mean = 0;
      for (const g of gradients) mean += g[e]!;
      mean /= n;
      let value = mean;
      if (method.base === 'vargrad') {
        let squares = 0;
        for (const g of gradients) squares += (g[e]! - mean) ** 2;
        value = squares / (resolved.unbiased ? n - 1 : n);
        if (Math.abs(value) < VARIANCE_ZERO_THRESHOLD) value = 0;
      } else if (method.base === 'smoothgrad_squared') {
        value = 0;
        for (const g of gradients) value += g[e]! ** 2;
        value /= n;
      } else if (method.base === 'integrated_gradients') {
        value *= clean[e]! - at(b * size + e);
      }
      map[b * size + e] = value;
    }
  }
  applyModifiers(map, x.data, { ...method.modifiers, mu: resolved.mu });
  return map;
}

/**
 * ∂ logits[target] / ∂ example by central differences,
 * (f_t(x + h·e_k) − f_t(x − h·e_k)) / 2h, in float64: error O(h²) away from kinks.
 */
export function centralDifferenceGradient(
  logits: (example: Float64Array) => Float64Array,
  example: Float64Array,
  target: number,
  h = 1e-5,
): Float64Array {
  const gradient = new Float64Array(example.length);
  const probe = Float64Array.from(example);
  for (let k = 0; k < example.length; k++) {
    probe[k] = example[k]! + h;
    const up = logits(probe)[target]!;
    probe[k] = example[k]! - h;
    const down = logits(probe)[target]!;
    probe[k] = example[k]!;
    gradient[k] = (up - down) / (2 * h);
  }
  return gradient;
}
