import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AttributionError,
  explain,
  formatShape,
  hostTensor,
  isIntegerDtype,
  isSignedMethod,
  methodRule,
  parseMethodName,
  type AttributionOptions,
  type FeedTensor,
  type HostTensor,
  type NpyTensor,
} from '@saliency/core';
import type { Aggregation, ChannelLayout, ColormapKind, RgbaImage } from '@saliency/core/visualize';
import { cliErrorOf, CliError, namesLayer } from './errors.js';
import { exitCodeOf } from './exit-codes.js';
import type { ModelFlags } from './onnx-model-flags.js';
import { decodeImage, encodePng } from './image-io.js';
import { imageToTensor, resolvePreprocess, type Geometry, type Preprocess, type Size } from '@saliency/core/preprocess';
import { drawMap, type Pictures } from './draw.js';
import { progressUnits, sampleCountWarning } from './method-notes.js';
import { argmax, summarizeClasses, type ClassSummary } from './summary.js';
import { defaultRuntime, loadModel, modelFormatOf, type CliRuntimeId, type LoadedModel } from './load-model.js';
import { attributedInput, modelInput, readFeeds, sameToken } from './attributed-input.js';
import { readNpy, readNpyTensor, writeNpy } from './npy.js';
import { asUsageError, describePreprocess, readPreset, type PreprocessFlags } from './preset.js';
import { createProgressBar, type ProgressStream } from './progress.js';
import { readUserFile } from './user-file.js';
import { choosePlot, seriesPlots, type PlotKind, type SeriesFlags } from './series-plot.js';
import { encodeTokenTable, tokenRelevance, type TokenRelevance } from './tokens.js';

/** Everything one run needs, as parsed from the command line. */
export interface RunOptions {
  readonly model: string;
  /** A PNG or JPEG image, or a preprocessed tensor as `.npy` (without its batch axis, or with one of size 1). */
  readonly input: string;
  readonly method: string;
  readonly target?: number;
  readonly numSamples?: number;
  readonly noiseScale?: number;
  readonly noiseLevel?: number;
  readonly seed?: number;
  readonly steps?: number;
  /** Token ids as input: Integrated Gradients' baseline is the embedding of this token at every position (default: zero). */
  readonly baselineToken?: number;
  readonly batchSize?: number;
  /** The runtime id. Default: onnx-node for ONNX, tfjs-wasm for TF.js. */
  readonly backend?: CliRuntimeId;
  /** Noise samples `[N, ...input shape]` as `.npy`, instead of the seeded generator. */
  readonly noise?: string;
  /** Heatmap PNG; for a time series the plot of the map, PNG or SVG. */
  readonly out?: string;
  /** Heatmap blended over the (resized) input image, PNG; for a time series the signal over its map, PNG or SVG. */
  readonly overlay?: string;
  /** How a time series is drawn (see series-plot.ts). */
  readonly series?: SeriesFlags;
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
  /** How many of the best classes the summary lists. Default 5. */
  readonly topK?: number;
  /** Size of the heatmap and overlay PNGs. Default: the input image's (a tensor input: the map's). */
  readonly size?: Size;
  /** A colour bar under the heatmap and overlay. Default true. */
  readonly legend?: boolean;
  /** The model input and output to use, the values of its other inputs, where the external data is, the layer. */
  readonly modelFlags?: ModelFlags;
}

/** Where the run reports progress and warnings: the progress bar is drawn only on a terminal. */
export interface RunIO {
  readonly stderr: ProgressStream;
}

export interface RunResult {
  /** What was explained, batch axis included: the model input, or with `--layer` or token ids the tensor attributed at (`attributedInput`). */
  readonly input: HostTensor;
  readonly map: HostTensor;
  /** The coloured map, when the image plot can draw the map (images and maps of ≤ 3 axes), at the output size; undefined for the series plot. */
  readonly heatmap: RgbaImage | undefined;
  /** The pictures written (heatmap, overlay, the map at their size), when the map can be drawn. */
  readonly pictures: Pictures | undefined;
  readonly preprocess: Preprocess | undefined;
  /** The runtime id the map was computed on (`GradientBackend.name`), e.g. `onnx-node`. */
  readonly backend: string;
  /** The explained class and the model's best ones, when the model gives one row of class scores. */
  readonly classes: ClassSummary | undefined;
  /** Milliseconds spent reading the model and running its first forward pass (the clean input's logits). */
  readonly loadMs: number;
  /** Milliseconds spent computing the map. */
  readonly explainMs: number;
  /** For token ids as `--input`: each token's relevance (the map at its embedding reduced by sum and L2 norm). */
  readonly tokens: readonly TokenRelevance[] | undefined;
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
  requireExtension('--overlay', options.overlay, ['.png', '.svg']);
  requireExtension('--raw', options.raw, ['.npy', '.json']);
  const layerMethod = methodRule(parseMethodName(options.method).base).layer !== undefined;
  // One flag, one meaning per method kind: a layer method's layer to explain, else the tensor attributed at.
  const attributeAt = layerMethod ? undefined : options.modelFlags?.layer;

  const started = performance.now();
  const { format, file } = await modelFormatOf(options.model);
  const inputBytes = await readUserFile('--input', options.input);
  const isTensorInput = options.input.toLowerCase().endsWith('.npy');
  let tensor: NpyTensor | undefined;
  let preprocess: Preprocess | undefined;
  let source: { image: RgbaImage; geometry: Geometry } | undefined;
  let imageTensor: HostTensor | undefined;
  if (isTensorInput) {
    tensor = readNpyTensor(inputBytes, `--input ${options.input}`);
  } else {
    const image = decodeImage(inputBytes, `--input ${options.input}`);
    const preset: PreprocessFlags = options.preset === undefined ? {} : await readPreset(options.preset, format);
    const settings = { ...preset, ...options.preprocess };
    const resolved = asUsageError('preprocessing: ', () => resolvePreprocess(settings, image, format));
    const fitted = imageToTensor(image, resolved);
    imageTensor = fitted.tensor;
    // A map at a tensor inside the model is not in the image's geometry: drawn at its own size.
    if (attributeAt === undefined) source = { image, geometry: fitted.geometry };
    preprocess = resolved;
  }
  const tokenIds = tensor !== undefined && isIntegerDtype(tensor.dtype);
  if (options.baselineToken !== undefined && !tokenIds) {
    throw new CliError('--baseline-token: only for token ids as --input (an integer .npy); other inputs start Integrated Gradients at 0');
  }
  requireExtension('--out', options.out, tokenIds ? ['.npy', '.json'] : ['.png', '.svg']);
  if (options.overlay !== undefined && (tokenIds || attributeAt !== undefined)) {
    throw new CliError(
      tokenIds
        ? `--overlay: token ids have no picture to draw the map over; write the per-token map with --out tokens.npy|tokens.json, the map at the embeddings with --raw`
        : `--overlay: the map is at the tensor "${attributeAt}" (--layer), not at the input; draw it with --out, or write it with --raw`,
    );
  }
  const feeds = await readFeeds(options.modelFlags?.feeds ?? []);

  let noise: HostTensor | undefined;
  if (options.noise !== undefined) {
    const array = readNpy(await readUserFile('--noise', options.noise), `--noise ${options.noise}`);
    noise = hostTensor(array.data, array.shape);
  }
  const channelLayout: ChannelLayout = (preprocess?.layout ?? options.preprocess?.layout ?? 'NCHW') === 'NCHW' ? 'CHW' : 'HWC';
  const warning = sampleCountWarning(options.method, options.numSamples);
  if (warning !== undefined) io.stderr.write(`saliency: ${warning}\n`);

  const model = await loadModel(file, format, options.backend ?? defaultRuntime(format), options.modelFlags, feeds, attributeAt);
  try {
    const u: FeedTensor | HostTensor = tensor === undefined ? imageTensor! : modelInput(tensor, options.input, model, attributeAt);
    const x = attributeAt !== undefined || tokenIds ? await attributedInput(model, u, options.input, attributeAt) : (u as HostTensor);
    const baseline =
      options.baselineToken === undefined
        ? undefined
        : await attributedInput(model, sameToken(u, options.baselineToken), `--baseline-token ${options.baselineToken}`, attributeAt);
    const plot: PlotKind = tokenIds ? 'image' : choosePlot(options.series ?? {}, x, isTensorInput, options.out, options.overlay);
    if (plot === 'image' && isTensorInput && options.overlay !== undefined) {
      throw new CliError('--overlay needs an image --input (PNG or JPEG), or a time series .npy drawn with --plot series');
    }
    const drawable = tokenIds ? undefined : drawableShape(x.shape, channelLayout);
    if (!tokenIds && plot === 'image' && drawable === undefined && (options.out !== undefined || options.overlay !== undefined)) {
      throw new CliError(
        `the input ${formatShape(x.shape)} has more than 3 axes besides the batch; its map cannot be drawn: write it with --raw only`,
      );
    }
    if (x === u) checkShape(model, x, options, preprocess);
    let logits: HostTensor;
    try {
      logits = await model.backend.logits(x);
    } catch (error) {
      // The first forward pass is where a backend builds the model's graphs and meets what it cannot run.
      if (error instanceof AttributionError) {
        const where = namesLayer(error, attributeAt) ? '--layer' : `--model ${file}`;
        throw new CliError(`${where}: ${error.message}`, exitCodeOf(error.code), { cause: error });
      }
      throw error;
    }
    const loadMs = performance.now() - started;
    const { unit, total } = progressUnits(options.method, options.numSamples, options.steps);
    const bar = createProgressBar(io.stderr, options.method, undefined, unit);
    bar.start(total);
    const explainOptions: AttributionOptions = {
      ...(options.target === undefined ? {} : { target: options.target }),
      ...(options.numSamples === undefined ? {} : { numSamples: options.numSamples }),
      ...(options.noiseScale === undefined ? {} : { noiseScale: options.noiseScale }),
      ...(options.noiseLevel === undefined ? {} : { noiseLevel: options.noiseLevel }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.steps === undefined ? {} : { steps: options.steps }),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(noise === undefined ? {} : { noise }),
      ...(baseline === undefined ? {} : { baseline }),
      ...(layerMethod && options.modelFlags?.layer !== undefined ? { layer: options.modelFlags.layer } : {}),
      onProgress: (p) => bar.update(p),
    };
    let map: HostTensor;
    const explainStarted = performance.now();
    try {
      map = await explain(model.backend, options.method, x, explainOptions);
    } catch (error) {
      if (error instanceof AttributionError) throw cliErrorOf(error, explainMessage(error, options.modelFlags?.layer));
      throw error;
    } finally {
      bar.finish();
    }
    const explainMs = performance.now() - explainStarted;

    let pictures: Pictures | undefined;
    const colormap =
      options.colormap === undefined || options.colormap === 'auto'
        ? isSignedMethod(options.method)
          ? 'diverging'
          : 'sequential'
        : options.colormap;
    if (plot === 'series') {
      for (const { path, bytes } of seriesPlots(options.series ?? {}, x, map, colormap, options.alpha, options))
        await writeOutput(path, bytes);
    } else if (drawable !== undefined) {
      // A layer method's map (Grad-CAM) has one channel, not the input's: drawn by its own shape.
      const shown = drawableShape(map.shape, drawable.layout) ?? drawable;
      pictures = drawMap(
        map,
        { ...shown, aggregate: options.aggregate ?? 'sum', colormap, legend: options.legend ?? true, size: options.size, source },
        options.alpha ?? 0.5,
      );
    }
    const tokens = tokenIds ? tokenRelevance(map, u) : undefined;
    if (tokens !== undefined && options.out !== undefined)
      await writeOutput(options.out, encodeTokenTable(options.out, options.method, tokens));
    if (!tokenIds && plot === 'image' && options.out !== undefined) await writeOutput(options.out, encodePng(pictures!.heatmap));
    if (plot === 'image' && options.overlay !== undefined) await writeOutput(options.overlay, encodePng(pictures!.overlay!));
    if (options.raw !== undefined) {
      const bytes = options.raw.toLowerCase().endsWith('.npy')
        ? writeNpy(map.data, map.shape)
        : JSON.stringify({ method: options.method, shape: map.shape, data: Array.from(map.data) });
      await writeOutput(options.raw, bytes);
    }
    return {
      input: x,
      map,
      heatmap: pictures?.heatmap,
      pictures,
      preprocess,
      backend: model.backend.name,
      classes: classSummary(logits, options.target, options.topK ?? 5),
      loadMs,
      explainMs,
      tokens,
    };
  } finally {
    await model.dispose();
  }
}

/** The class summary of a single example's logits `[1, K]`; undefined for any other output shape. */
function classSummary(logits: HostTensor, target: number | undefined, topK: number): ClassSummary | undefined {
  if (logits.shape.length !== 2 || logits.shape[0] !== 1) return undefined;
  return summarizeClasses(logits.data, target ?? argmax(logits.data), topK);
}

/** Checks the input against the model's declared shape, saying what the input became and which flags would fit. */
function checkShape(model: LoadedModel, x: HostTensor, options: RunOptions, preprocess: Preprocess | undefined): void {
  try {
    model.backend.checkInputShape?.(x.shape);
  } catch (error) {
    if (!(error instanceof AttributionError)) throw error;
    const became =
      preprocess === undefined
        ? `the tensor ${options.input} became ${formatShape(x.shape)} with its batch axis`
        : `the image ${options.input} became ${formatShape(x.shape)} (${describePreprocess(preprocess)})`;
    throw new CliError(`the model does not take this input: ${error.message}; ${became}${suggestFlags(model.inputShape, preprocess)}`);
  }
}

/**
 * The whole preprocessing that would give the model's declared image shape,
 * if it looks like one: size, channels and layout changed to fit, and the
 * scale, mean and std kept, so that following the hint never silently
 * changes the normalisation. Where the channel count changes and the mean
 * or std has one value per old channel, it says that they must be given.
 */
export function suggestFlags(shape: ReadonlyArray<number | null> | undefined, preprocess: Preprocess | undefined): string {
  if (preprocess === undefined || shape === undefined || shape.length !== 4) return '';
  const [, a, b, c] = shape;
  const hint = (layout: Preprocess['layout'], channels: number, height: number | null, width: number | null) => {
    const fitting: Preprocess = {
      ...preprocess,
      layout,
      grayscale: channels === 1,
      height: height ?? preprocess.height,
      width: width ?? preprocess.width,
    };
    const perChannel = [preprocess.mean, preprocess.std].some((v) => v.length !== 1 && v.length !== channels);
    const flags = perChannel
      ? describePreprocess({ ...fitting, mean: [0], std: [1] }).replace('--mean 0 --std 1', `--mean M --std S`)
      : describePreprocess(fitting);
    return (
      `; try ${flags}` +
      (perChannel
        ? ` with the model's mean M and std S for ${channels} channel${channels === 1 ? '' : 's'}`
        : " (the scale, mean and std are the ones used now: check that they are the model's)") +
      ', or a --preset file with all of these values'
    );
  };
  if (a === 1 || a === 3) return hint('NCHW', a, b ?? null, c ?? null);
  if (c === 1 || c === 3) return hint('NHWC', c, a ?? null, b ?? null);
  return '';
}

function explainMessage(error: AttributionError, layer: string | undefined): string {
  if (error.code === 'INVALID_TARGET') return `--target: ${error.message}`;
  if (namesLayer(error, layer)) return `--layer: ${error.message}`;
  if (error.code === 'INVALID_OPTION') return `bad option: ${error.message}`;
  return error.message;
}

/** Writes an output file, making its folder first, as a user naming `out/heatmap.png` expects. */
async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
