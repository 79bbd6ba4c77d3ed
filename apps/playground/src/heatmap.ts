import type { HostTensor } from '@saliency/core';
import { aggregateChannels, renderHeatmap, type RgbaImage } from '@saliency/core/visualize';
import type { Layout } from '@saliency/core/preprocess';

/**
 * Colours the first example of an attribution map with `@saliency/core/visualize`:
 * channels summed, clipped at the 99th percentile of |R|; a map with no
 * negative value (VarGrad, SmoothGrad²) on the sequential colormap (viridis,
 * dark → bright), a signed one on the diverging colormap (blue < 0 < red, white at 0).
 */
export function heatmap(map: HostTensor, layout: Layout): RgbaImage {
  const [batch = 1, ...example] = map.shape;
  const perExample = map.data.length / batch;
  const scalar = aggregateChannels(map.data.subarray(0, perExample), example, layout === 'NCHW' ? 'CHW' : 'HWC', 'sum');
  const signed = scalar.data.some((v) => v < 0);
  return renderHeatmap(scalar, { colormap: signed ? 'diverging' : 'sequential', percentile: 99 });
}
