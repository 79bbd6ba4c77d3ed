import { AttributionError } from '../errors.js';
import type { RuntimeLibrary } from '../runtime-id.js';
import { FITS, type Fit, type Size } from './geometry.js';

/** Memory order of an image tensor: channels first (ONNX, PyTorch) or last (TF.js). */
export type Layout = 'NCHW' | 'NHWC';
export type ChannelOrder = 'RGB' | 'BGR';

/** How an image becomes the model's input tensor. */
export interface Preprocess {
  readonly width: number;
  readonly height: number;
  /** How the image's size becomes `width × height` (see `Fit`). */
  readonly fit: Fit;
  /** One channel, luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL's "L"). */
  readonly grayscale: boolean;
  /** Pixel values 0–255 are multiplied by this first. */
  readonly scale: number;
  /** Subtracted after scaling: one value, or one per channel. */
  readonly mean: readonly number[];
  /** Divides after the mean: one value, or one per channel. */
  readonly std: readonly number[];
  readonly layout: Layout;
  /** Order of the colour channels in the tensor. */
  readonly channelOrder: ChannelOrder;
}

/** Some of a `Preprocess`: what a preset file or a command line gives; the rest comes from defaults. */
export type PreprocessSettings = { -readonly [K in keyof Preprocess]?: Preprocess[K] };

/**
 * Reads a preset (parsed JSON) such as
 * `{ "width": 28, "height": 28, "channels": 1, "scale": 0.00392156862745098,
 *    "mean": 0.1307, "std": 0.3081, "layout": { "onnx": "NCHW", "tfjs": "NHWC" } }`.
 * Keys, all optional: `width`, `height`, `fit` (`"stretch"`, `"center-crop"`,
 * `"letterbox"`), `channels` (1 = grayscale, 3 = colour) or `grayscale`,
 * `scale`, `mean` and `std` (a number or one per channel), `layout`
 * (`"NCHW"`, `"NHWC"`, or one per runtime library: `{ "onnx": …, "tfjs": … }`),
 * `channelOrder`. A bad value is an `AttributionError` (`INVALID_OPTION`)
 * that starts with `name` and names the key.
 */
export function parsePreset(json: unknown, library: RuntimeLibrary, name = 'preset'): PreprocessSettings {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new AttributionError('INVALID_OPTION', `${name}: a preset must be a JSON object`);
  const preset = json as Record<string, unknown>;
  const bad = (key: string, what: string) =>
    new AttributionError('INVALID_OPTION', `${name}: "${key}" must be ${what}; got ${JSON.stringify(preset[key])}`);
  const out: PreprocessSettings = {};
  for (const key of ['width', 'height'] as const) {
    if (preset[key] === undefined) continue;
    if (!Number.isInteger(preset[key]) || (preset[key] as number) < 1) throw bad(key, 'an integer ≥ 1');
    out[key] = preset[key] as number;
  }
  if (preset.fit !== undefined) {
    if (!FITS.includes(preset.fit as Fit)) throw bad('fit', FITS.map((f) => `"${f}"`).join(', '));
    out.fit = preset.fit as Fit;
  }
  if (preset.channels !== undefined) {
    if (preset.channels !== 1 && preset.channels !== 3) throw bad('channels', '1 or 3');
    out.grayscale = preset.channels === 1;
  }
  if (preset.grayscale !== undefined) {
    if (typeof preset.grayscale !== 'boolean') throw bad('grayscale', 'true or false');
    out.grayscale = preset.grayscale;
  }
  if (preset.scale !== undefined) {
    if (typeof preset.scale !== 'number' || !Number.isFinite(preset.scale)) throw bad('scale', 'a number');
    out.scale = preset.scale;
  }
  for (const key of ['mean', 'std'] as const) {
    const value = preset[key];
    if (value === undefined) continue;
    const list = typeof value === 'number' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw bad(key, 'a number or a list of numbers');
    }
    out[key] = list as number[];
  }
  if (preset.layout !== undefined) {
    const layout =
      typeof preset.layout === 'object' && preset.layout !== null ? (preset.layout as Record<string, unknown>)[library] : preset.layout;
    if (layout !== 'NCHW' && layout !== 'NHWC') throw bad('layout', `"NCHW", "NHWC" or an object with a "${library}" key holding one`);
    out.layout = layout;
  }
  if (preset.channelOrder !== undefined) {
    if (preset.channelOrder !== 'RGB' && preset.channelOrder !== 'BGR') throw bad('channelOrder', '"RGB" or "BGR"');
    out.channelOrder = preset.channelOrder;
  }
  return out;
}

/**
 * The preprocessing in use: `settings` over the defaults — the image's own
 * size, stretch, colour, scale 1/255, mean 0, std 1, RGB, and the usual
 * layout of the runtime library (NCHW for ONNX, NHWC for TF.js). Refuses
 * (`INVALID_OPTION`) a std of 0 and a mean or std whose length is neither 1
 * nor the number of channels.
 */
export function resolvePreprocess(settings: PreprocessSettings, image: Size, library: RuntimeLibrary): Preprocess {
  const grayscale = settings.grayscale ?? false;
  const channels = grayscale ? 1 : 3;
  const mean = settings.mean ?? [0];
  const std = settings.std ?? [1];
  for (const [key, values] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw new AttributionError('INVALID_OPTION', `${key} has ${values.length} values; give one, or one per channel (${channels})`);
    }
  }
  if (std.some((s) => s === 0)) throw new AttributionError('INVALID_OPTION', 'std must not be 0');
  return {
    width: settings.width ?? image.width,
    height: settings.height ?? image.height,
    fit: settings.fit ?? 'stretch',
    grayscale,
    scale: settings.scale ?? 1 / 255,
    mean,
    std,
    layout: settings.layout ?? (library === 'onnx' ? 'NCHW' : 'NHWC'),
    channelOrder: settings.channelOrder ?? 'RGB',
  };
}
