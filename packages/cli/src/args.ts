import { parseArgs } from 'node:util';
import { FITS, type Fit } from '@saliency/core/preprocess';
import { AGGREGATIONS, type Aggregation } from '@saliency/core/visualize';
import { CliError } from './errors.js';
import { CLI_RUNTIME_IDS, type CliRuntimeId } from './load-model.js';
import type { FeedFlag } from './model-inputs.js';
import { PRECISIONS, type ModelFlags } from './onnx-model-flags.js';
import { outputPositionFlag } from './output-position-flag.js';
import type { PreprocessFlags } from './preset.js';
import type { RunOptions } from './run.js';
import { PLOT_KINDS, type SeriesFlags } from './series-plot.js';

export const USAGE = `Usage: saliency --model MODEL --input INPUT [options]
       saliency inspect MODEL     (inputs, outputs and what can be attributed, with shapes)
       saliency export MODEL --method NAME --out FILE [options]   (see saliency export --help)

Computes an attribution map of a model's output for one input and writes it
as a heatmap PNG, an overlay on the input, and/or the raw map.

Model and input:
  --model PATH           model.onnx, or a TF.js model.json or its directory
  --backend ID           runtime: onnx-node (default for .onnx), onnx-wasm, tfjs-wasm (default for TF.js), tfjs-cpu
  --input-name NAME      the model input --input gives, when the model has several (default: the
                         one input no --feed gives)
  --output-name NAME     the model output holding the logits, when the model has several
  --output-position P    the position of a sequence or dense output explained, one entry per axis
                         after the batch axis: an index, a range a:b (averaged) or : for the class
                         axis, e.g. 3,: for [B, T, K] (step 3), :,10,20 for [B, 1, H, W]
  --external-data PATH   ONNX: the external data file the model names (default: that file next to
                         the model), or the folder holding its data files
  --input PATH           a PNG or JPEG image, or a preprocessed tensor as .npy (float32/float64,
                         shape as the model takes it without the batch axis (or with one of 1),
                         e.g. [12, 256] for a 12-lead ECG), or token ids as an integer .npy
                         (int64/int32, e.g. [8]): attributed at their embeddings, per-token maps
  --feed NAME=FILE.npy   the value of another model input, held fixed (repeatable), e.g.
                         --feed attention_mask=mask.npy (int64, int32, uint8, bool or float .npy;
                         of the input's full rank, taken as it is, e.g. a state [2, 1, 128]);
                         or NAME=NUMBER for a scalar input, e.g. --feed sr=16000
  --precision P          ONNX: what the gradient graphs compute in, float32 (default) or float16;
                         float16 needs ONNX Runtime's WebGPU EP on a GPU with shader-f16, which
                         the CLI's runtimes are not: they refuse it, and so do TF.js models
  --layer NAME           grad_cam and the other layer methods: the layer explained; every other
                         method: the tensor (ONNX) or layer (TF.js) attributed at instead of the input

Method (see @saliency/core):
  --method NAME          e.g. vargrad (default), vargrad_x_sign, smoothgrad_x_input, integrated_gradients
  --target K             class explained, from 0 (default: the model's top class)
  --num-samples N        noisy samples (SmoothGrad, VarGrad; default 16); --samples N also works
  --noise-scale S        absolute noise σ (default 1)
  --noise-level L        σ relative to the input's range, instead of --noise-scale
  --noise PATH           noise samples as .npy, shape [N, ...input shape], instead of the seeded generator
  --seed N               seed of the noise (default 0)
  --steps N              Integrated Gradients steps (default 50)
  --baseline-token ID    token ids as --input: Integrated Gradients from the embedding of this token
                         at every position (e.g. [PAD]'s id) instead of the zero embedding
  --batch-size N         most model rows per call (default 64)

Image preprocessing (a --preset JSON file, flags win over it):
  --preset PATH          JSON with width, height, fit, channels, scale, mean, std, layout, channelOrder
  --width W --height H   resize to this size (bilinear; default: the image's size)
  --fit F                stretch (default), center-crop (cover, cut the overhang) or letterbox
                         (fit inside, pad with black)
  --grayscale            one channel (luma); default RGB
  --scale S              pixel (0–255) × S first (default 1/255)
  --mean M --std S       then (x − M) / S; one number or one per channel, comma-separated
  --layout L             NCHW (default for ONNX) or NHWC (default for TF.js)
  --channel-order O      RGB (default) or BGR

Output:
  --out PATH             heatmap PNG; for a time series its plot, .png or .svg; for token ids the
                         per-token map, .npy ([T, 2]: sum and L2 per token) or .json
  --overlay PATH         heatmap over the input image, PNG; for a time series the signal drawn
                         over its attribution, .png or .svg
  --alpha A              heatmap strength in the overlay, 0–1 (default 0.5)
  --raw PATH             the raw map, .npy or .json
  --colormap C           auto (default: sequential for vargrad and smoothgrad_squared, diverging
                         otherwise), diverging, sequential
  --aggregate A          channels to one value per pixel: sum (default), mean, max-abs
  --size WxH             size of the --out and --overlay PNGs (default: the input image's size;
                         the map is mapped back through the resize/crop/letterbox)
  --no-legend            no colour bar under the --out and --overlay pictures
  --top-k K              classes listed with their probabilities, and tokens by relevance (default 5)

Time series (a .npy --input of shape [time] or [channels, time]):
  --plot P               series (default for such inputs: one lane per channel, 1600 px wide)
                         or image (the map as a 2-D heatmap)
  --channel-names LIST   lane names, comma-separated, e.g. I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6
                         (default 1, 2, ...; written at each lane's left)
  --time-axis A          last (default: [channels, time]) or first (the model takes [time, channels])
  --color-scale S        shared (default: lanes compare) or per-channel
  --plot-width W         picture width in pixels (default 1600; SVG labels take 56 of it)
  --lane-height H        pixels per channel (default 80)

  -h, --help             this text
`;

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  backend: { type: 'string' },
  method: { type: 'string' },
  target: { type: 'string' },
  'num-samples': { type: 'string' },
  samples: { type: 'string' },
  'noise-scale': { type: 'string' },
  'noise-level': { type: 'string' },
  noise: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  preset: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  fit: { type: 'string' },
  grayscale: { type: 'boolean' },
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  layout: { type: 'string' },
  'channel-order': { type: 'string' },
  out: { type: 'string' },
  overlay: { type: 'string' },
  alpha: { type: 'string' },
  raw: { type: 'string' },
  colormap: { type: 'string' },
  aggregate: { type: 'string' },
  plot: { type: 'string' },
  'channel-names': { type: 'string' },
  'time-axis': { type: 'string' },
  'color-scale': { type: 'string' },
  'plot-width': { type: 'string' },
  'lane-height': { type: 'string' },
  size: { type: 'string' },
  'no-legend': { type: 'boolean' },
  'top-k': { type: 'string' },
  'input-name': { type: 'string' },
  'output-name': { type: 'string' },
  'output-position': { type: 'string' },
  'external-data': { type: 'string' },
  feed: { type: 'string', multiple: true },
  layer: { type: 'string' },
  precision: { type: 'string' },
  'baseline-token': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function number(flag: string, text: string): number {
  if (!NUMBER.test(text.trim())) throw new CliError(`--${flag} must be a number; got "${text}"`);
  return Number(text);
}

export function integer(flag: string, text: string, min: number): number {
  const value = number(flag, text);
  if (!Number.isSafeInteger(value) || value < min) throw new CliError(`--${flag} must be an integer ≥ ${min}; got "${text}"`);
  return value;
}

export function positive(flag: string, text: string): number {
  const value = number(flag, text);
  if (!(value >= 0) || !Number.isFinite(value)) throw new CliError(`--${flag} must be a finite number ≥ 0; got "${text}"`);
  return value;
}

export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!allowed.includes(text as T)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}; got "${text}"`);
  return text as T;
}

function list(flag: string, text: string): number[] {
  return text.split(',').map((part) => number(flag, part));
}

/** `--size 1024x768` (or `1024×768`) as a size. */
function size(text: string): { width: number; height: number } {
  const match = /^\s*(\d+)\s*[x×X]\s*(\d+)\s*$/.exec(text);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (match === null || !(width >= 1 && height >= 1))
    throw new CliError(`--size must be WIDTHxHEIGHT in pixels, e.g. 1024x768; got "${text}"`);
  return { width, height };
}

/**
 * The arguments with a negative number after a flag that takes a value
 * written as `--flag=-1`, which is how `parseArgs` takes a value that starts
 * with a dash; otherwise `--target -1` is refused as "ambiguous" before its
 * value can be checked.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const name = flag.startsWith('--') ? flag.slice(2) : undefined;
    const takesValue = name !== undefined && (OPTIONS as Record<string, { type: string }>)[name]?.type === 'string';
    const next = args[i + 1];
    if (takesValue && next !== undefined && NUMBER.test(next) && next.startsWith('-')) {
      out.push(`${flag}=${next}`);
      i++;
    } else out.push(flag);
  }
  return out;
}

/** `--feed NAME=FILE.npy` or `--feed NAME=NUMBER` (a scalar), each input named once. */
export function feedFlags(texts: readonly string[]): FeedFlag[] {
  const feeds: FeedFlag[] = [];
  for (const text of texts) {
    const at = text.indexOf('=');
    const name = text.slice(0, at).trim();
    const path = text.slice(at + 1).trim();
    if (at < 0 || name === '' || path === '')
      throw new CliError(
        `--feed must be NAME=FILE.npy, the model input's name and a .npy file, e.g. attention_mask=mask.npy, ` +
          `or NAME=NUMBER for a scalar input, e.g. sr=16000; got "${text}"`,
      );
    if (!path.toLowerCase().endsWith('.npy') && !NUMBER.test(path))
      throw new CliError(`--feed ${name}=${path}: give a .npy tensor, or a number for a scalar input`);
    if (feeds.some((f) => f.name === name)) throw new CliError(`--feed ${name} was given twice; give each input once`);
    feeds.push({ name, path });
  }
  return feeds;
}

/** The model flags given, or undefined when none is. */
function modelFlags(v: {
  'input-name'?: string;
  'output-name'?: string;
  'output-position'?: string;
  'external-data'?: string;
  feed?: string[];
  layer?: string;
  precision?: string;
}): ModelFlags | undefined {
  const feeds = feedFlags(v.feed ?? []);
  if (v.layer !== undefined && v.layer.trim() === '') throw new CliError('--layer needs a tensor or layer name; got ""');
  const flags: ModelFlags = {
    ...(v['input-name'] === undefined ? {} : { inputName: v['input-name'] }),
    ...(v['output-name'] === undefined ? {} : { outputName: v['output-name'] }),
    ...(v['output-position'] === undefined ? {} : { outputPosition: outputPositionFlag(v['output-position']) }),
    ...(v['external-data'] === undefined ? {} : { externalData: v['external-data'] }),
    ...(feeds.length === 0 ? {} : { feeds }),
    ...(v.layer === undefined ? {} : { layer: v.layer }),
    ...(v.precision === undefined ? {} : { precision: oneOf('precision', v.precision, PRECISIONS) }),
  };
  return Object.keys(flags).length === 0 ? undefined : flags;
}

/** `--target`: a class index, counted from 0. */
function target(text: string): number {
  const value = number('target', text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CliError(
      `--target must be a class index, an integer ≥ 0 (the first class is 0); got "${text}". Leave it out to explain the model's top class`,
    );
  }
  return value;
}

/**
 * Parses the command line into `RunOptions`, or `'help'`. Unknown flags,
 * missing values and bad values throw a `CliError` naming the flag.
 */
export function parseCommandLine(args: readonly string[]): RunOptions | 'help' {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(args), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see saliency --help)`);
  }
  if (values.help) return 'help';
  if (values.model === undefined) throw new CliError('--model is required (an .onnx file or a TF.js model.json); see saliency --help');
  if (values.input === undefined) throw new CliError('--input is required (a PNG/JPEG image or a .npy tensor); see saliency --help');
  const v = values;
  const preprocess: PreprocessFlags = {};
  if (v.width !== undefined) preprocess.width = integer('width', v.width, 1);
  if (v.height !== undefined) preprocess.height = integer('height', v.height, 1);
  if (v.fit !== undefined) preprocess.fit = oneOf<Fit>('fit', v.fit, FITS);
  if (v.grayscale !== undefined) preprocess.grayscale = v.grayscale;
  if (v.scale !== undefined) preprocess.scale = number('scale', v.scale);
  if (v.mean !== undefined) preprocess.mean = list('mean', v.mean);
  if (v.std !== undefined) preprocess.std = list('std', v.std);
  if (v.layout !== undefined) preprocess.layout = oneOf('layout', v.layout, ['NCHW', 'NHWC'] as const);
  if (v['channel-order'] !== undefined) preprocess.channelOrder = oneOf('channel-order', v['channel-order'], ['RGB', 'BGR'] as const);
  if (v['noise-scale'] !== undefined && v['noise-level'] !== undefined) {
    throw new CliError('--noise-scale and --noise-level were both given; choose an absolute σ or one relative to the input range');
  }
  if (v['num-samples'] !== undefined && v.samples !== undefined) {
    throw new CliError('--num-samples and --samples were both given; --samples is another name for --num-samples');
  }
  const samplesFlag = v.samples === undefined ? 'num-samples' : 'samples';
  const samples = v['num-samples'] ?? v.samples;
  const alpha = v.alpha === undefined ? undefined : number('alpha', v.alpha);
  if (alpha !== undefined && !(alpha >= 0 && alpha <= 1)) throw new CliError(`--alpha must be in [0, 1]; got "${v.alpha}"`);
  const series = seriesFlags(v);
  const optional = <K extends string, T>(key: K, value: T | undefined) =>
    value === undefined ? {} : ({ [key]: value } as { [P in K]: T });
  return {
    model: v.model!,
    input: v.input!,
    method: v.method ?? 'vargrad',
    preprocess,
    ...optional('target', v.target === undefined ? undefined : target(v.target)),
    ...optional('numSamples', samples === undefined ? undefined : integer(samplesFlag, samples, 1)),
    ...optional('noiseScale', v['noise-scale'] === undefined ? undefined : positive('noise-scale', v['noise-scale'])),
    ...optional('noiseLevel', v['noise-level'] === undefined ? undefined : positive('noise-level', v['noise-level'])),
    ...optional('seed', v.seed === undefined ? undefined : integer('seed', v.seed, 0)),
    ...optional('steps', v.steps === undefined ? undefined : integer('steps', v.steps, 1)),
    ...optional('baselineToken', v['baseline-token'] === undefined ? undefined : integer('baseline-token', v['baseline-token'], 0)),
    ...optional('batchSize', v['batch-size'] === undefined ? undefined : integer('batch-size', v['batch-size'], 1)),
    ...optional('backend', v.backend === undefined ? undefined : oneOf<CliRuntimeId>('backend', v.backend, CLI_RUNTIME_IDS)),
    ...optional('noise', v.noise),
    ...optional('out', v.out),
    ...optional('overlay', v.overlay),
    ...optional('raw', v.raw),
    ...optional('preset', v.preset),
    ...optional('alpha', alpha),
    ...optional(
      'colormap',
      v.colormap === undefined ? undefined : oneOf('colormap', v.colormap, ['auto', 'diverging', 'sequential'] as const),
    ),
    ...optional('series', Object.keys(series).length === 0 ? undefined : series),
    ...optional('size', v.size === undefined ? undefined : size(v.size)),
    ...optional('topK', v['top-k'] === undefined ? undefined : integer('top-k', v['top-k'], 1)),
    ...optional('legend', v['no-legend'] === true ? false : undefined),
    ...optional('modelFlags', modelFlags(v)),
    ...optional('aggregate', v.aggregate === undefined ? undefined : oneOf<Aggregation>('aggregate', v.aggregate, AGGREGATIONS)),
  };
}

/** The time-series flags, checked. */
function seriesFlags(v: {
  plot?: string;
  'channel-names'?: string;
  'time-axis'?: string;
  'color-scale'?: string;
  'plot-width'?: string;
  'lane-height'?: string;
}): SeriesFlags {
  const flags: { -readonly [K in keyof SeriesFlags]: SeriesFlags[K] } = {};
  if (v.plot !== undefined) flags.plot = oneOf('plot', v.plot, PLOT_KINDS);
  if (v['time-axis'] !== undefined) flags.timeAxis = oneOf('time-axis', v['time-axis'], ['last', 'first'] as const);
  if (v['color-scale'] !== undefined) flags.colorScale = oneOf('color-scale', v['color-scale'], ['shared', 'per-channel'] as const);
  if (v['plot-width'] !== undefined) flags.plotWidth = integer('plot-width', v['plot-width'], 100);
  if (v['lane-height'] !== undefined) flags.laneHeight = integer('lane-height', v['lane-height'], 8);
  if (v['channel-names'] !== undefined) {
    const names = v['channel-names'].split(',').map((name) => name.trim());
    if (names.some((name) => name === ''))
      throw new CliError(`--channel-names has an empty name in "${v['channel-names']}"; give comma-separated names, e.g. I,II,III`);
    flags.channelNames = names;
  }
  return flags;
}
