import { isSignedMethod } from '@saliency/core';
import { aggregateChannels, clipLevel, renderHeatmap, type RgbaImage, type ScalarMap } from '@saliency/core/visualize';

/**
 * Example 0 of an image map of shape `[B, C, H, W]` (ONNX layout) as one
 * value per pixel: the channels summed with their signs, so a signed map
 * keeps its sign.
 */
export function channelSum(map: ArrayLike<number>, shape: readonly number[]): ScalarMap {
  const example = shape.slice(1);
  const size = example.reduce((a, b) => a * b, 1);
  return aggregateChannels(
    Array.from({ length: size }, (_, e) => map[e]!),
    example,
    'CHW',
    'sum',
  );
}

/**
 * The colour scale of one method's pictures: the 99th percentile of the
 * reference's |value| (core's `clipLevel`), so that every target's picture
 * of one map shares the reference's scale and a wrong map looks different;
 * undefined for an all-zero reference (each picture then uses its own).
 */
export function sharedLevel(reference: ArrayLike<number>): number | undefined {
  const level = clipLevel(reference, 99);
  return level > 0 ? level : undefined;
}

/**
 * A map's picture with core's colormaps: diverging (blue < 0 < red, white
 * at 0) for a signed method, sequential (viridis) for one whose maps are
 * never negative (VarGrad, SmoothGrad², Grad-CAM), as `isSignedMethod` says.
 */
export function mapPicture(values: ScalarMap, method: string, level: number | undefined): RgbaImage {
  return renderHeatmap(values, {
    colormap: isSignedMethod(method) ? 'diverging' : 'sequential',
    ...(level === undefined ? {} : { level }),
  });
}
