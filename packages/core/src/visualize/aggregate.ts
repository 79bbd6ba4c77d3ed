import type { ScalarMap } from './image.js';

/** How the channels of one pixel become one value. */
export type Aggregation = 'sum' | 'mean' | 'max-abs';

export const AGGREGATIONS: readonly Aggregation[] = ['sum', 'mean', 'max-abs'];

/** Where the channel axis of a 3-D map is: first (`[C, H, W]`) or last (`[H, W, C]`). */
export type ChannelLayout = 'CHW' | 'HWC';

/**
 * Reduces a map's channels to one value per pixel:
 *
 *   sum:     A[y,x] = Σ_c R[c,y,x]
 *   mean:    A[y,x] = (1/C) Σ_c R[c,y,x]
 *   max-abs: A[y,x] = R[c*,y,x] with c* = argmax_c |R[c,y,x]| (the first on a tie),
 *            so the sign of the strongest channel is kept.
 *
 * `shape` is `[H, W]` (returned as is), or `[C, H, W]` / `[H, W, C]` as
 * `layout` says. A leading batch axis of 1 is dropped.
 */
export function aggregateChannels(
  data: ArrayLike<number>,
  shape: readonly number[],
  layout: ChannelLayout,
  mode: Aggregation = 'sum',
): ScalarMap {
  if (!AGGREGATIONS.includes(mode)) {
    throw new RangeError(`aggregateChannels: mode must be one of ${AGGREGATIONS.join(', ')}; got ${String(mode)}`);
  }
  const dims = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : [...shape];
  if (dims.length === 2) {
    const [height, width] = dims as [number, number];
    return { width, height, data: Float32Array.from(data) };
  }
  if (dims.length !== 3) {
    throw new RangeError(`aggregateChannels: expected a map of shape [H, W], [C, H, W] or [H, W, C]; got [${shape.join(', ')}]`);
  }
  const [channels, height, width] = (layout === 'CHW' ? dims : [dims[2], dims[0], dims[1]]) as [number, number, number];
  if (data.length !== channels * height * width) {
    throw new RangeError(`aggregateChannels: shape [${shape.join(', ')}] needs ${channels * height * width} values; got ${data.length}`);
  }
  const pixels = height * width;
  // Element (c, pixel) of the map, whichever axis holds the channels.
  const at = layout === 'CHW' ? (c: number, p: number) => data[c * pixels + p]! : (c: number, p: number) => data[p * channels + c]!;
  const out = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    if (mode === 'max-abs') {
      let best = at(0, p);
      for (let c = 1; c < channels; c++) if (Math.abs(at(c, p)) > Math.abs(best)) best = at(c, p);
      out[p] = best;
    } else {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += at(c, p);
      out[p] = mode === 'mean' ? sum / channels : sum;
    }
  }
  return { width, height, data: out };
}
