import { AttributionError, formatShape } from '@saliency/core';
import type { GraphFacts } from './graph-facts.js';

/**
 * The tensor a layer attribution (Grad-CAM) looks at: `wanted` when given,
 * which must be a float value computed from the model input on the path to
 * the logits; otherwise the default layer (docs/methods.md, "Grad-CAM"):
 * the last value, in graph order, of the input's rank (4-D images, 3-D time
 * series) whose extent past the channel axis is more than one position, so
 * the last feature map before global pooling or flattening.
 */
export function layerTensor(
  wanted: string | undefined,
  inputName: string,
  fromInput: ReadonlySet<string>,
  facts: GraphFacts,
  producers: ReadonlyMap<string, number>,
): string {
  const inputRank = facts.types.get(inputName)!.shape.length;
  const candidates = [...fromInput]
    .filter((name) => name !== inputName && producers.has(name) && isFeatureMap(facts.types.get(name)!.shape, inputRank))
    .sort((a, b) => producers.get(a)! - producers.get(b)!);
  if (wanted === undefined) {
    const last = candidates.at(-1);
    if (last === undefined) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `no layer to explain: no tensor of the input's rank ${inputRank} with more than one spatial position lies between ` +
          `the input "${inputName}" and the logits; give the layer option a tensor name`,
      );
    }
    return last;
  }
  if (!fromInput.has(wanted) || wanted === inputName) {
    const exists = facts.types.has(wanted);
    throw new AttributionError(
      'INVALID_OPTION',
      `layer "${wanted}" ${exists ? 'is not computed from the input on the path to the logits' : 'is no tensor of the model'}; ` +
        `feature maps there: ${
          candidates
            .slice(-8)
            .map((c) => `"${c}" ${formatShape(facts.types.get(c)!.shape)}`)
            .join(', ') || 'none'
        }`,
    );
  }
  return wanted;
}

/** [B, C, ...positions] of the input's rank (at least 3) with more than one position. */
export function isFeatureMap(shape: readonly number[], inputRank: number): boolean {
  return inputRank >= 3 && shape.length === inputRank && shape.slice(2).reduce((a, b) => a * b, 1) > 1;
}
