/**
 * Image preprocessing, the pure pixel math shared by the CLI and the
 * playground (decoding an image file or drawing on a canvas stays with
 * them): presets, fitting an image to the model's size (stretch, centre
 * crop, letterbox) with the geometry recorded, grayscale, normalisation and
 * layout, and mapping a map of the model input back onto the original image.
 */
export { parsePreset, resolvePreprocess, type Preprocess, type PreprocessSettings, type Layout, type ChannelOrder } from './settings.js';
export { imageToTensor } from './image-to-tensor.js';
export {
  planGeometry,
  resample,
  resizeBilinear,
  mapToSource,
  isIdentity,
  FITS,
  type Fit,
  type Geometry,
  type Rect,
  type Size,
} from './geometry.js';
