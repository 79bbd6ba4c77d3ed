import { isSignedMethod, type HostTensor } from '@saliency/core';
import { mapToSource, type Geometry, type Layout } from '@saliency/core/preprocess';
import {
  aggregateChannels,
  clipLevel,
  grayToRgba,
  renderHeatmap,
  type ColormapKind,
  type RgbaImage,
  type ScalarMap,
} from '@saliency/core/visualize';

/** A map drawn over the image it explains, at the image's size. */
export interface DrawnMap {
  /** The map at the image's size (one value per image pixel). */
  readonly map: ScalarMap;
  readonly heatmap: RgbaImage;
  readonly colormap: ColormapKind;
  /** The value the colormap's ends stand for: `c = P99(|R|)` (sequential 0 … c; diverging −c … c). */
  readonly level: number;
}

/**
 * Colours the first example of `method`'s attribution map with
 * `@saliency/core/visualize` at the source image's size: channels summed,
 * mapped back through the preprocessing's resize, crop or letterbox
 * (`mapToSource`), clipped at the 99th percentile of |R|; a method whose
 * maps are never negative (VarGrad, SmoothGrad², Grad-CAM) on the sequential
 * colormap (viridis, dark → bright), a signed one (`isSignedMethod`) on the
 * diverging colormap (blue < 0 < red, white at 0). A layer method's map
 * (Grad-CAM) has one channel at the model input's size, in its layout, so it
 * is scaled up to the image like any other.
 */
export function drawMap(map: HostTensor, method: string, layout: Layout, geometry: Geometry): DrawnMap {
  const [batch = 1, ...example] = map.shape;
  const perExample = map.data.length / batch;
  const scalar = mapToSource(
    aggregateChannels(map.data.subarray(0, perExample), example, layout === 'NCHW' ? 'CHW' : 'HWC', 'sum'),
    geometry,
  );
  const colormap: ColormapKind = isSignedMethod(method) ? 'diverging' : 'sequential';
  return { map: scalar, heatmap: renderHeatmap(scalar, { colormap, percentile: 99 }), colormap, level: clipLevel(scalar.data, 99) };
}

/** The fitted image as the model sees it: in gray where the model takes one channel (luma, as the preprocessing). */
export function asModelSees(resized: RgbaImage, grayscale: boolean): RgbaImage {
  if (!grayscale) return resized;
  const luma = new Float32Array(resized.width * resized.height);
  for (let p = 0; p < luma.length; p++)
    luma[p] = 0.299 * resized.data[4 * p]! + 0.587 * resized.data[4 * p + 1]! + 0.114 * resized.data[4 * p + 2]!;
  return grayToRgba(luma, resized.width, resized.height);
}
