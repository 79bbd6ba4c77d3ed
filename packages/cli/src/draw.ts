import type { HostTensor } from '@saliency/core';
import { mapToSource, planGeometry, resizeBilinear, type Geometry, type Size } from '@saliency/core/preprocess';
import {
  aggregateChannels,
  overlay as blend,
  renderHeatmap,
  type Aggregation,
  type ChannelLayout,
  type ColormapKind,
  type RgbaImage,
  type ScalarMap,
} from '@saliency/core/visualize';
import { withColourBar } from './legend.js';

/** How a map becomes pictures. */
export interface DrawOptions {
  /** The map without its batch axis as drawn: `[H, W]` or 3-D with channels in `layout`. */
  readonly shape: readonly number[];
  readonly layout: ChannelLayout;
  readonly aggregate: Aggregation;
  readonly colormap: ColormapKind;
  /** Add a colour bar under each picture. */
  readonly legend: boolean;
  /** Size of the pictures instead of the source image's (or the map's, for a tensor input). */
  readonly size: Size | undefined;
  /** For an image input: the image as read and how preprocessing fitted it to the model. */
  readonly source: { readonly image: RgbaImage; readonly geometry: Geometry } | undefined;
}

export interface Pictures {
  /** The map as one value per picture pixel, what the heatmap colours. */
  readonly map: ScalarMap;
  /** The coloured map, colour bar included when asked for. */
  readonly heatmap: RgbaImage;
  /** The coloured map over the image (image inputs only), colour bar included when asked for. */
  readonly overlay: RgbaImage | undefined;
}

/** A map stretched to `size` (bilinear, half-pixel centres). */
function stretchMap(map: ScalarMap, size: Size): ScalarMap {
  if (map.width === size.width && map.height === size.height) return map;
  return mapToSource(map, planGeometry(size, map, 'stretch'));
}

/**
 * The pictures of a map: its channels aggregated to one value per pixel,
 * brought back onto the source image through the preprocessing's geometry
 * (so that a 1024 × 768 photo gets a 1024 × 768 heatmap, not one of the
 * model's squashed input), stretched to `size` when given, coloured, and
 * blended over the source image (`alpha`).
 */
export function drawMap(map: HostTensor, options: DrawOptions, alpha: number): Pictures {
  const data = map.data.subarray(
    0,
    options.shape.reduce((a, b) => a * b, 1),
  );
  const modelMap = aggregateChannels(data, [...options.shape], options.layout, options.aggregate);
  const atSource = options.source === undefined ? modelMap : mapToSource(modelMap, options.source.geometry);
  const size = options.size ?? atSource;
  const scalar = stretchMap(atSource, size);
  const plain = renderHeatmap(scalar, { colormap: options.colormap });
  const finish = (picture: RgbaImage) => (options.legend ? withColourBar(picture, scalar.data, options.colormap) : picture);
  let over: RgbaImage | undefined;
  if (options.source !== undefined) {
    const { image } = options.source;
    const background = image.width === size.width && image.height === size.height ? image : resizeBilinear(image, size.width, size.height);
    over = finish(blend(background, plain, alpha));
  }
  return { map: scalar, heatmap: finish(plain), overlay: over };
}
