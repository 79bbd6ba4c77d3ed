import type { GradientBackend } from '../backend.js';
import type { MethodName } from '../methods/method-name.js';
import { applyModifiers } from '../methods/modifiers.js';
import { methodRule } from '../methods/registry.js';
import { ruleValue } from '../methods/rule.js';
import { sizeOf, type HostTensor } from '../tensor.js';
import { throwIfAborted } from './abort.js';
import { expectShape, gradientMomentsOfRows } from './gradient-moments.js';
import { checkInput } from './input.js';
import { AttributionError } from '../errors.js';
import { layerAttribute, unsupported } from './layer-attribute.js';
import { modelRows } from './model-rows.js';
import { rowExamples } from './row-plan.js';
import type { ResolvedOptions } from './options.js';
import { numClasses, resolveTargets } from './targets.js';

/**
 * Computes `method` for the batch `x` on `backend`: checks everything before
 * any model work, resolves the targets from one clean forward pass, runs the
 * model rows the method's rule asks for in chunks, reduces them by the rule
 * and applies the modifiers.
 */
export async function attribute(
  backend: GradientBackend,
  method: MethodName,
  x: HostTensor,
  options: ResolvedOptions,
): Promise<HostTensor> {
  checkInput(x);
  backend.checkInputShape?.(x.shape);
  const { signal } = options;
  const batch = x.shape[0]!;
  const exampleShape = x.shape.slice(1);
  const size = sizeOf(exampleShape);
  const rule = methodRule(method.base);
  const rows = modelRows(rule.rows, options, x);
  if (rule.backward !== undefined && !backend.backwardRuleSets?.includes(rule.backward)) {
    throw new AttributionError('UNSUPPORTED_METHOD', unsupported(backend, method.base, rule.backward));
  }
  if (rule.layer !== undefined && backend.layerGradients === undefined)
    throw new AttributionError('UNSUPPORTED_METHOD', unsupported(backend, method.base));

  throwIfAborted(signal, undefined);
  const logits = await backend.logits(x);
  const classes = numClasses(logits, batch, backend.name);
  const targets = resolveTargets(options.target, batch, classes, () => logits);
  if (rule.layer !== undefined) return layerAttribute(backend, method.base, rule.layer, x, targets, options);
  const request = rule.backward === undefined ? undefined : { backward: rule.backward };

  const map = new Float32Array(x.data.length);
  const moments = { count: 1, mean: 0, m2: 0 };
  const write = (i: number) => {
    map[i] = ruleValue(rule, moments, options, x.data[i]!, rows.baseline(i));
  };
  if (rule.rows === 'input') {
    // One row per example, the input itself: the batch goes to the backend as it is.
    for (let first = 0; first < batch; first += options.batchSize) {
      throwIfAborted(signal, { done: first, total: batch });
      const count = Math.min(options.batchSize, batch - first);
      const chunk: HostTensor = { data: x.data.subarray(first * size, (first + count) * size), shape: [count, ...exampleShape] };
      const examples = rowExamples(first, count, 1);
      const gradients = await backend.gradients(chunk, targets.subarray(first, first + count), { ...request, examples });
      expectShape(backend, 'gradients()', gradients, chunk.shape);
      for (let e = 0; e < chunk.data.length; e++) {
        moments.mean = gradients.data[e]!;
        write(first * size + e);
      }
      options.onProgress?.({ done: first + count, total: batch });
    }
  } else {
    const accumulators = await gradientMomentsOfRows(
      backend,
      exampleShape,
      targets,
      rows.perExample,
      options.batchSize,
      rows.write,
      options.onProgress,
      signal,
    );
    accumulators.forEach((accumulator, example) => {
      moments.count = accumulator.count;
      for (let e = 0; e < size; e++) {
        moments.mean = accumulator.mean[e]!;
        moments.m2 = accumulator.m2[e]!;
        write(example * size + e);
      }
    });
  }
  applyModifiers(map, x.data, { ...method.modifiers, mu: options.mu });
  return { data: map, shape: [...x.shape] };
}
