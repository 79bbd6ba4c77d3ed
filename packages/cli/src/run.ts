import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AttributionError, explain, formatShape, hostTensor, isSignedMethod, parseMethodName, type AttributionOptions, type HostTensor } from '@saliency/core';
import { aggregateChannels, overlay as blend, renderHeatmap, type Aggregation, type ChannelLayout, type ColormapKind, type RgbaImage } from '@saliency/core/visualize';
import { CliError } from './errors.js';
import { decodeImage, encodePng } from './image-io.js';
import { imageToTensor, resolvePreprocess, type Preprocess } from '@saliency/core/preprocess';
import { defaultRuntime, loadModel, modelFormatOf, type CliRuntimeId, type LoadedModel } from './load-model.js';
import { readNpy, writeNpy } from './npy.js';
import { asUsageError, describePreprocess, readPreset, type PreprocessFlags } from './preset.js';
import { createProgressBar, type ProgressStream } from './progress.js';
import { readUserFile } from './user-file.js';

/** Everything one run needs, as parsed from the command line. */
export interface RunOptions {
  readonly model: string;
  /** A PNG or JPEG image, or a preprocessed tensor as `.npy` (without its batch axis). */
  readonly input: string;
  readonly method: string;
  readonly target?: number;
  readonly numSamples?: number;
  readonly noiseScale?: number;
  readonly noiseLevel?: number;
  readonly seed?: number;
  readonly steps?: number;
  readonly batchSize?: number;
  /** The runtime id. Default: onnx-node for ONNX, tfjs-wasm for TF.js. */
  readonly backend?: CliRuntimeId;
  /** Noise samples `[N, ...input shape]` as `.npy`, instead of the seeded generator. */
  readonly noise?: string;
  /** Heatmap PNG. */
  readonly out?: string;
  /** Heatmap blended over the (resized) input image, PNG. */
  readonly overlay?: string;
  /** The raw map, `.npy` or `.json` (`{ shape, data }`). */
  readonly raw?: string;
  readonly preset?: string;
  readonly preprocess?: PreprocessFlags;
  /** `auto` (default): sequential for VarGrad and SmoothGrad², diverging for signed methods. */
  readonly colormap?: 'auto' | ColormapKind;
  /** How channels become one value per pixel. Default `sum`. */
  readonly aggregate?: Aggregation;
  /** Strength of the heatmap in the overlay. Default 0.5. */
  readonly alpha?: number;
}

/** Where the run reports progress: the progress bar is drawn only on a terminal. */
export interface RunIO {
  readonly stderr: ProgressStream;
}

export interface RunResult {
  /** The model input, batch axis included. */
  readonly input: HostTensor;
  readonly map: HostTensor;
  /** The coloured map, when the map can be drawn (images and maps of ≤ 3 axes). */
  readonly heatmap: RgbaImage | undefined;
  readonly preprocess: Preprocess | undefined;
  /** The runtime id the map was computed on (`GradientBackend.name`), e.g. `onnx-node`. */
  readonly backend: string;
}

function requireExtension(flag: string, path: string | undefined, extensions: readonly string[]): void {
  if (path !== undefined && !extensions.some((e) => path.toLowerCase().endsWith(e))) {
    throw new CliError(`${flag}: ${path} must end in ${extensions.join(' or ')}`);
  }
}

/**
 * How the map (without its batch axis) is drawn: a `[H, W]` map as is, a
 * `[L]` map as one row, a 3-D map with its channels aggregated; a map of
 * more axes cannot be drawn.
 */
function drawableShape(shape: readonly number[], layout: ChannelLayout): { shape: number[]; layout: ChannelLayout } | undefined {
  const example = shape.slice(1);
  if (example.length === 1) return { shape: [1, example[0]!], layout };
  if (example.length === 2 || example.length === 3) return { shape: example, layout };
  return undefined;
}

/**
 * The whole command: reads and checks every input, loads the model, computes
 * the map with `explain`, and writes the heatmap, overlay and raw map that
 * were asked for. Bad input is refused with a `CliError` before model work.
 */
export async function run(options: RunOptions, io: RunIO = { stderr: process.stderr }): Promise<RunResult> {
  try {
    parseMethodName(options.method);
  } catch (error) {
    throw new CliError(`--method: ${(error as Error).message}`);
  }
  if (options.out === undefined && options.raw === undefined && options.overlay === undefined) {
    throw new CliError('nothing to write: give --out heatmap.png, --overlay overlay.png and/or --raw map.npy|map.json');
  }
  requireExtension('--out', options.out, ['.png']);
  requireExtension('--overlay', options.overlay, ['.png']);
  requireExtension('--raw', options.raw, ['.npy', '.json']);

  const { format, file } = await modelFormatOf(options.model);
  const inputBytes = await readUserFile('--input', options.input);
  const isTensorInput = options.input.toLowerCase().endsWith('.npy');
  let x: HostTensor;
  let preprocess: Preprocess | undefined;
  let resized: RgbaImage | undefined;
  if (isTensorInput) {
    if (options.overlay !== undefined) throw new CliError('--overlay needs an image --input (PNG or JPEG), not a tensor');
    const array = readNpy(inputBytes, `--input ${options.input}`);
    x = hostTensor(array.data, [1, ...array.shape]);
  } else {
    const image = decodeImage(inputBytes, `--input ${options.input}`);
    const preset: PreprocessFlags = options.preset === undefined ? {} : await readPreset(options.preset, format);
    const settings = { ...preset, ...options.preprocess };
    const resolved = asUsageError('preprocessing: ', () => resolvePreprocess(settings, image, format));
    ({ tensor: x, resized } = imageToTensor(image, resolved));
    preprocess = resolved;
  }

  let noise: HostTensor | undefined;
  if (options.noise !== undefined) {
    const array = readNpy(await readUserFile('--noise', options.noise), `--noise ${options.noise}`);
    noise = hostTensor(array.data, array.shape);
  }
  const channelLayout: ChannelLayout = (preprocess?.layout ?? options.preprocess?.layout ?? 'NCHW') === 'NCHW' ? 'CHW' : 'HWC';
  const drawable = drawableShape(x.shape, channelLayout);
  if (drawable === undefined && (options.out !== undefined || options.overlay !== undefined)) {
    throw new CliError(`the input ${formatShape(x.shape)} has more than 3 axes besides the batch; its map cannot be drawn: write it with --raw only`);
  }

  const model = await loadModel(file, format, options.backend ?? defaultRuntime(format));
  try {
    checkShape(model, x, options, preprocess);
    const bar = createProgressBar(io.stderr, options.method);
    const explainOptions: AttributionOptions = {
      ...(options.target === undefined ? {} : { target: options.target }),
      ...(options.numSamples === undefined ? {} : { numSamples: options.numSamples }),
      ...(options.noiseScale === undefined ? {} : { noiseScale: options.noiseScale }),
      ...(options.noiseLevel === undefined ? {} : { noiseLevel: options.noiseLevel }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.steps === undefined ? {} : { steps: options.steps }),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(noise === undefined ? {} : { noise }),
      onProgress: (p) => bar.update(p),
    };
    let map: HostTensor;
    try {
      map = await explain(model.backend, options.method, x, explainOptions);
    } catch (error) {
      if (error instanceof AttributionError) throw new CliError(explainMessage(error), 2);
      throw error;
    } finally {
      bar.finish();
    }

    let heatmap: RgbaImage | undefined;
    if (drawable !== undefined) {
      const colormap = options.colormap === undefined || options.colormap === 'auto' ? (isSignedMethod(options.method) ? 'diverging' : 'sequential') : options.colormap;
      // A layer method's map (Grad-CAM) has one channel, not the input's: drawn by its own shape.
      const shown = drawableShape(map.shape, drawable.layout) ?? drawable;
      const map2d = aggregateChannels(map.data, shown.shape, shown.layout, options.aggregate ?? 'sum');
      heatmap = renderHeatmap(map2d, { colormap });
    }
    if (options.out !== undefined) await writeOutput(options.out, encodePng(heatmap!));
    if (options.overlay !== undefined) await writeOutput(options.overlay, encodePng(blend(resized!, heatmap!, options.alpha ?? 0.5)));
    if (options.raw !== undefined) {
      const bytes = options.raw.toLowerCase().endsWith('.npy')
        ? writeNpy(map.data, map.shape)
        : JSON.stringify({ method: options.method, shape: map.shape, data: Array.from(map.data) });
      await writeOutput(options.raw, bytes);
    }
    return { input: x, map, heatmap, preprocess, backend: model.backend.name };
  } finally {
    await model.dispose();
  }
}

/** Checks the input against the model's declared shape, saying what the input became and which flags would fit. */
function checkShape(model: LoadedModel, x: HostTensor, options: RunOptions, preprocess: Preprocess | undefined): void {
  try {
    model.backend.checkInputShape?.(x.shape);
  } catch (error) {
    if (!(error instanceof AttributionError)) throw error;
    const became = preprocess === undefined
      ? `the tensor ${options.input} became ${formatShape(x.shape)} with its batch axis`
      : `the image ${options.input} became ${formatShape(x.shape)} (${describePreprocess(preprocess)})`;
    throw new CliError(`the model does not take this input: ${error.message}; ${became}${suggestFlags(model.inputShape, preprocess)}`);
  }
}

/** Preprocessing flags that would give the model's declared image shape, if it looks like one. */
export function suggestFlags(shape: ReadonlyArray<number | null> | undefined, preprocess: Preprocess | undefined): string {
  if (preprocess === undefined || shape === undefined || shape.length !== 4) return '';
  const [, a, b, c] = shape;
  const hint = (layout: string, channels: number, height: number | null, width: number | null) =>
    `; try ${height === null ? '' : `--height ${height} `}${width === null ? '' : `--width ${width} `}${channels === 1 ? '--grayscale ' : ''}--layout ${layout}` +
    ' (or a --preset file with these values)';
  if (a === 1 || a === 3) return hint('NCHW', a, b ?? null, c ?? null);
  if (c === 1 || c === 3) return hint('NHWC', c, a ?? null, b ?? null);
  return '';
}

function explainMessage(error: AttributionError): string {
  if (error.code === 'INVALID_TARGET') return `--target: ${error.message}`;
  if (error.code === 'INVALID_OPTION') return `bad option: ${error.message}`;
  return error.message;
}

/** Writes an output file, making its folder first, as a user naming `out/heatmap.png` expects. */
async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
