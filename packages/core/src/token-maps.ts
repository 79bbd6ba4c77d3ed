import { AttributionError } from './errors.js';
import { formatShape, type HostTensor } from './tensor.js';

/** How `perTokenMaps` reduces the embedding axis. */
export type TokenReduction = 'sum' | 'l2';

/**
 * Per-token maps from a map at the embeddings, shape `[B, T, E]` (or any
 * `[..., E]`): the last (embedding) axis reduced, giving `[B, T]`
 * (docs/methods.md, "Attribution at a tensor"). `'sum'` keeps the sign (the
 * token's contribution under Gradient×Input and Integrated Gradients, whose
 * sums over tokens keep completeness); `'l2'` is the Euclidean norm over the
 * embedding, unsigned (how strongly the output responds to the token).
 */
export function perTokenMaps(map: HostTensor, reduction: TokenReduction): HostTensor {
  if (reduction !== 'sum' && reduction !== 'l2') {
    throw new AttributionError('INVALID_OPTION', `perTokenMaps: reduction must be 'sum' or 'l2', got ${JSON.stringify(reduction)}`);
  }
  const width = map.shape.at(-1);
  if (map.shape.length < 2 || width === undefined || width === 0 || map.data.length % width !== 0) {
    throw new AttributionError(
      'INVALID_SHAPE',
      `perTokenMaps: expected a map of shape [B, T, E] with an embedding axis last, got ${formatShape(map.shape)}`,
    );
  }
  const out = new Float32Array(map.data.length / width);
  for (let t = 0; t < out.length; t++) {
    let acc = 0;
    for (let e = t * width; e < (t + 1) * width; e++) {
      const v = map.data[e]!;
      acc += reduction === 'sum' ? v : v * v;
    }
    out[t] = reduction === 'sum' ? acc : Math.sqrt(acc);
  }
  return { data: out, shape: map.shape.slice(0, -1) };
}
