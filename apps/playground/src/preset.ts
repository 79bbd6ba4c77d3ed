/** Memory order of an image tensor: channels first (ONNX, PyTorch) or last (TF.js). */
export type Layout = 'NCHW' | 'NHWC';

/**
 * How an image becomes a model input, as in `examples/mnist/preprocess.json`:
 * resized to `width` × `height`, reduced to `channels` (1: luminance, 3: RGB),
 * then each value p ∈ [0, 255] becomes x = (p · scale − mean) / std
 * (`mean`, `std`: one number, or one per channel), laid out per runtime.
 */
export interface Preset {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly scale: number;
  readonly mean: number | readonly number[];
  readonly std: number | readonly number[];
  readonly layout: { readonly onnx: Layout; readonly tfjs: Layout };
}

function fail(what: string): never {
  throw new Error(`preprocessing preset: ${what}`);
}

function perChannel(name: string, value: unknown, channels: number): void {
  const values = Array.isArray(value) ? value : [value];
  if ((Array.isArray(value) && value.length !== channels) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    fail(`"${name}" must be a finite number or ${channels} of them, got ${JSON.stringify(value)}`);
  }
  if (name === 'std' && values.some((v) => v === 0)) fail('"std" must not be 0');
}

function layout(name: string, value: unknown): Layout {
  if (value !== 'NCHW' && value !== 'NHWC') fail(`"layout.${name}" must be "NCHW" or "NHWC", got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a parsed preset, naming the first field that is wrong. */
export function parsePreset(value: unknown): Preset {
  if (typeof value !== 'object' || value === null) fail('must be a JSON object');
  const p = value as Record<string, unknown>;
  for (const name of ['width', 'height'] as const) {
    if (!Number.isInteger(p[name]) || (p[name] as number) < 1) fail(`"${name}" must be a positive integer, got ${JSON.stringify(p[name])}`);
  }
  if (p.channels !== 1 && p.channels !== 3) fail(`"channels" must be 1 or 3, got ${JSON.stringify(p.channels)}`);
  if (typeof p.scale !== 'number' || !Number.isFinite(p.scale)) fail(`"scale" must be a finite number, got ${JSON.stringify(p.scale)}`);
  perChannel('mean', p.mean, p.channels);
  perChannel('std', p.std, p.channels);
  const l = (p.layout ?? {}) as Record<string, unknown>;
  return {
    width: p.width as number,
    height: p.height as number,
    channels: p.channels,
    scale: p.scale,
    mean: p.mean as Preset['mean'],
    std: p.std as Preset['std'],
    layout: { onnx: layout('onnx', l.onnx), tfjs: layout('tfjs', l.tfjs) },
  };
}
