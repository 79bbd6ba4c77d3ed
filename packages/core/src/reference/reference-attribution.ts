import { AttributionError } from '../errors.js';
import { checkInput } from '../engine/input.js';
import { modelRows } from '../engine/model-rows.js';
import { resolveOptions, type AttributionOptions } from '../engine/options.js';
import { resolveTargets } from '../engine/targets.js';
import { parseMethodName } from '../methods/method-name.js';
import { applyModifiers } from '../methods/modifiers.js';
import { METHOD_NAMES, methodRule } from '../methods/registry.js';
import { ruleValue } from '../methods/rule.js';
import { sizeOf, type HostTensor } from '../tensor.js';

/**
 * The registered method names (without μ suffixes) that `referenceAttribution`
 * computes: those whose maps come from plain input gradients. Guided
 * Backprop, DeconvNet (a modified backward pass) and Grad-CAM (layer
 * gradients) are not among them; their references are PyTorch's.
 */
export function referenceMethodNames(): string[] {
  return METHOD_NAMES.filter((name) => {
    const rule = methodRule(parseMethodName(name).base);
    return rule.backward === undefined && rule.layer === undefined;
  });
}

/** A model evaluated in float64 on one example (the input without its batch axis, flat). */
export interface ReferenceModel {
  logits(example: Float64Array): Float64Array;
  /** ∂ logits[target] / ∂ example. */
  gradient(example: Float64Array, target: number): Float64Array;
}

/**
 * The formulas of docs/methods.md evaluated directly in float64, one example
 * and one model row at a time, with a two-pass mean and M2 handed to the
 * method's rule: slow and plain, the yardstick for the batched, chunked,
 * float32 path. Its rows are written by the engine's own row writers, so it
 * adds the very same noise, rounded to float32 as the backends see it.
 */
export function referenceAttribution(
  methodName: string,
  model: ReferenceModel,
  x: HostTensor,
  options: AttributionOptions = {},
): Float64Array {
  const method = parseMethodName(methodName);
  const rule = methodRule(method.base);
  if (rule.backward !== undefined || rule.layer !== undefined) {
    throw new AttributionError(
      'UNSUPPORTED_METHOD',
      `referenceAttribution computes input gradients of a closed-form model; method ${method.base} needs ` +
        `${rule.backward === undefined ? 'layer gradients' : `the modified backward pass "${rule.backward}"`}, which it does not have`,
    );
  }
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
  const rows = modelRows(rule.rows, resolved, x);
  const row = new Float32Array(size);
  for (let b = 0; b < batch; b++) {
    const gradients = Array.from({ length: rows.perExample }, (_, i) => {
      rows.write(b, i, row);
      return model.gradient(Float64Array.from(row), targets[b]!);
    });
    const n = gradients.length;
    for (let e = 0; e < size; e++) {
      let mean = 0;
      for (const g of gradients) mean += g[e]!;
      mean /= n;
      let m2 = 0;
      for (const g of gradients) m2 += (g[e]! - mean) ** 2;
      map[b * size + e] = ruleValue(rule, { count: n, mean, m2 }, resolved, x.data[b * size + e]!, rows.baseline(b * size + e));
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
