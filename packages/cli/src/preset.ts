import { CliError } from './errors.js';
import type { ChannelOrder, Layout, Preprocess } from './preprocess.js';

/** Preprocessing values given on the command line; each wins over the preset's. */
export interface PreprocessFlags {
  readonly width?: number;
  readonly height?: number;
  readonly grayscale?: boolean;
  readonly scale?: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly layout?: Layout;
  readonly channelOrder?: ChannelOrder;
}

/** Which kind of model the input is for; a preset may give a layout per kind. */
export type ModelFormat = 'onnx' | 'tfjs';

/**
 * Reads a preset JSON such as
 * `{ "width": 28, "height": 28, "channels": 1, "scale": 0.00392156862745098,
 *    "mean": 0.1307, "std": 0.3081, "layout": { "onnx": "NCHW", "tfjs": "NHWC" } }`.
 * Keys: `width`, `height`, `channels` (1 = grayscale, 3 = colour) or
 * `grayscale`, `scale`, `mean` and `std` (a number or one per channel),
 * `layout` (`"NCHW"`, `"NHWC"`, or one per model format), `channelOrder`.
 */
export function parsePreset(json: unknown, format: ModelFormat, name: string): PreprocessFlags {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new CliError(`${name}: a preset must be a JSON object`);
  const preset = json as Record<string, unknown>;
  const bad = (key: string, what: string) => new CliError(`${name}: "${key}" must be ${what}; got ${JSON.stringify(preset[key])}`);
  const out: { -readonly [K in keyof PreprocessFlags]: PreprocessFlags[K] } = {};
  for (const key of ['width', 'height'] as const) {
    if (preset[key] === undefined) continue;
    if (!Number.isInteger(preset[key]) || (preset[key] as number) < 1) throw bad(key, 'an integer ≥ 1');
    out[key] = preset[key] as number;
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
    const layout = typeof preset.layout === 'object' && preset.layout !== null ? (preset.layout as Record<string, unknown>)[format] : preset.layout;
    if (layout !== 'NCHW' && layout !== 'NHWC') throw bad('layout', `"NCHW", "NHWC" or an object with a "${format}" key holding one`);
    out.layout = layout;
  }
  if (preset.channelOrder !== undefined) {
    if (preset.channelOrder !== 'RGB' && preset.channelOrder !== 'BGR') throw bad('channelOrder', '"RGB" or "BGR"');
    out.channelOrder = preset.channelOrder;
  }
  return out;
}

/**
 * The preprocessing in use: flags over the preset over defaults. Defaults:
 * the image's own size, colour, scale 1/255, mean 0, std 1, RGB, and the
 * usual layout of the format (NCHW for ONNX, NHWC for TF.js).
 */
export function resolvePreprocess(
  preset: PreprocessFlags,
  flags: PreprocessFlags,
  image: { width: number; height: number },
  format: ModelFormat,
): Preprocess {
  const merged = { ...preset, ...flags };
  const std = merged.std ?? [1];
  if (std.some((s) => s === 0)) throw new CliError('--std must not be 0');
  return {
    width: merged.width ?? image.width,
    height: merged.height ?? image.height,
    grayscale: merged.grayscale ?? false,
    scale: merged.scale ?? 1 / 255,
    mean: merged.mean ?? [0],
    std,
    layout: merged.layout ?? (format === 'onnx' ? 'NCHW' : 'NHWC'),
    channelOrder: merged.channelOrder ?? 'RGB',
  };
}

/** The preprocessing as the flags that give it, for messages. */
export function describePreprocess(p: Preprocess): string {
  return (
    `--width ${p.width} --height ${p.height}${p.grayscale ? ' --grayscale' : ''} --scale ${p.scale} ` +
    `--mean ${p.mean.join(',')} --std ${p.std.join(',')} --layout ${p.layout}${p.grayscale ? '' : ` --channel-order ${p.channelOrder}`}`
  );
}
