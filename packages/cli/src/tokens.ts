import { perTokenMaps, type FeedTensor, type HostTensor } from '@saliency/core';
import { CliError } from './errors.js';
import { writeNpy } from './npy.js';

/** One token's relevance: its position in the sequence, its id, and the map at its embedding reduced by sum and by L2 norm. */
export interface TokenRelevance {
  readonly position: number;
  readonly id: number | bigint;
  readonly sum: number;
  readonly l2: number;
}

/**
 * Per-token relevance of one example from a map at the embeddings `[1, T, E]`
 * of token ids `[1, T]` (docs/methods.md, "Attribution at a tensor"): core's
 * `perTokenMaps` by sum (signed) and by L2 norm (unsigned), in token order.
 */
export function tokenRelevance(map: HostTensor, ids: FeedTensor): TokenRelevance[] {
  const tokens = ids.data.length;
  if (map.shape.length !== 3 || map.shape[0] !== 1 || map.shape[1] !== tokens) {
    throw new CliError(
      `the map has shape [${map.shape.join(', ')}], not [1, ${tokens}, E] at the embeddings of the ${tokens} token ids of --input; write it with --raw`,
    );
  }
  const sums = perTokenMaps(map, 'sum').data;
  const norms = perTokenMaps(map, 'l2').data;
  return Array.from({ length: tokens }, (_, t) => ({ position: t, id: ids.data[t]!, sum: sums[t]!, l2: norms[t]! }));
}

/** The per-token map as `.npy` (shape `[T, 2]`: per token its sum and its L2 norm) or `.json` (one object per token). */
export function encodeTokenTable(path: string, method: string, tokens: readonly TokenRelevance[]): Uint8Array | string {
  if (path.toLowerCase().endsWith('.json')) {
    const rows = tokens.map((t) => ({ position: t.position, id: Number(t.id), sum: t.sum, l2: t.l2 }));
    return JSON.stringify({ method, columns: ['sum', 'l2'], tokens: rows });
  }
  const data = new Float32Array(tokens.length * 2);
  tokens.forEach((t, i) => {
    data[2 * i] = t.sum;
    data[2 * i + 1] = t.l2;
  });
  return writeNpy(data, [tokens.length, 2]);
}

function value(v: number): string {
  return v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4) ? v.toFixed(4) : v.toExponential(2);
}

/**
 * The `k` most relevant tokens by L2 norm (how strongly the output responds
 * to the token, whatever the method's sign), as printed:
 *
 * ```
 * top 3 of 8 tokens by L2 norm over the embedding (position id: L2, sum):
 *   #2 id 2054: L2 0.8123, sum -0.1020
 * ```
 */
export function formatTopTokens(tokens: readonly TokenRelevance[], k: number): string[] {
  const order = [...tokens].sort((a, b) => b.l2 - a.l2 || a.position - b.position).slice(0, Math.max(1, k));
  return [
    `top ${order.length} of ${tokens.length} tokens by L2 norm over the embedding (position, id: L2, sum):`,
    ...order.map((t) => `  #${t.position} id ${t.id}: L2 ${value(t.l2)}, sum ${value(t.sum)}`),
  ];
}
