import type { GradientBackend } from '../backend.js';
import { AttributionError } from '../errors.js';
import type { LayerRule } from '../methods/rule.js';
import { sizeOf, type HostTensor } from '../tensor.js';
import { throwIfAborted } from './abort.js';
import { expectShape } from './gradient-moments.js';
import type { ResolvedOptions } from './options.js';

/**
 * A layer method (Grad-CAM) for the batch `x`: the backend's layer
 * activations and gradients for each chunk of examples, turned into maps by
 * the rule. `targets` are resolved already.
 */
export async function layerAttribute(
  backend: GradientBackend,
  method: string,
  rule: LayerRule,
  x: HostTensor,
  targets: Int32Array,
  options: ResolvedOptions,
): Promise<HostTensor> {
  const layerGradients = backend.layerGradients?.bind(backend);
  if (layerGradients === undefined) throw new AttributionError('UNSUPPORTED_METHOD', unsupported(backend, method));
  const batch = x.shape[0]!;
  const exampleShape = x.shape.slice(1);
  const size = sizeOf(exampleShape);
  const maps: HostTensor[] = [];
  for (let first = 0; first < batch; first += options.batchSize) {
    throwIfAborted(options.signal, { done: first, total: batch });
    const count = Math.min(options.batchSize, batch - first);
    const chunk: HostTensor = { data: x.data.subarray(first * size, (first + count) * size), shape: [count, ...exampleShape] };
    const { activation, gradient, inputChannelsLast } = await layerGradients(chunk, targets.subarray(first, first + count), options.layer);
    if (activation.shape[0] !== count || activation.shape.length < 3) {
      throw new AttributionError(
        'BACKEND_OUTPUT',
        `${backend.name}: layerGradients() returned an activation of shape [${activation.shape.join(', ')}] for ${count} rows; expected [${count}, C, ...positions]`,
      );
    }
    expectShape(backend, 'layerGradients().gradient', gradient, activation.shape);
    if (inputChannelsLast === true) {
      // The map of a channels-last input: the rule's [B, 1, ...positions] holds the same values as [B, ...positions, 1].
      const map = rule.map(activation, gradient, [count, chunk.shape.at(-1)!, ...chunk.shape.slice(1, -1)]);
      maps.push({ data: map.data, shape: [count, ...map.shape.slice(2), 1] });
    } else {
      maps.push(rule.map(activation, gradient, chunk.shape));
    }
    options.onProgress?.({ done: first + count, total: batch });
  }
  const data = new Float32Array(maps.reduce((n, m) => n + m.data.length, 0));
  let offset = 0;
  for (const m of maps) {
    data.set(m.data, offset);
    offset += m.data.length;
  }
  return { data, shape: [batch, ...(maps[0]?.shape.slice(1) ?? [1, ...x.shape.slice(2)])] };
}

/** The message of a method the backend cannot run, naming what it lacks. */
export function unsupported(backend: GradientBackend, method: string, backward?: string): string {
  if (backward === undefined)
    return `method ${method} needs layer activations and gradients (layerGradients), which backend ${backend.name} does not offer`;
  const offered = backend.backwardRuleSets ?? [];
  return (
    `method ${method} needs the modified backward pass "${backward}", which backend ${backend.name} does not run ` +
    `(it runs ${offered.length === 0 ? 'no modified backward pass' : offered.join(', ')})`
  );
}
