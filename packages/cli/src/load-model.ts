import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AttributionError, runtimeLibrary, type GradientBackend, type RuntimeId, type RuntimeLibrary } from '@saliency/core';
import { CliError, namesLayer } from './errors.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { chooseInputs, feedMessage, feedTensors, type ModelTensorInfo, type ReadFeed } from './model-inputs.js';
import { onnxBackendFlags, type ModelFlags } from './onnx-model-flags.js';

/** Which kind of model a file is, and so which runtime library runs it. */
export type ModelFormat = RuntimeLibrary;

/** The runtimes the CLI runs a model on (core's runtime ids that work in Node): ONNX Runtime native or wasm, TF.js wasm or cpu. */
export const CLI_RUNTIME_IDS = ['onnx-node', 'onnx-wasm', 'tfjs-wasm', 'tfjs-cpu'] as const satisfies readonly RuntimeId[];
export type CliRuntimeId = (typeof CLI_RUNTIME_IDS)[number];

/** A model ready to explain. */
export interface LoadedModel {
  readonly backend: GradientBackend;
  readonly format: ModelFormat;
  /** The declared input shape, `null` for a free dimension; undefined when unknown. */
  readonly inputShape: ReadonlyArray<number | null> | undefined;
  /** The model input `--input` gives, as the model declares it (element type included); undefined when unknown. */
  readonly input: ModelTensorInfo | undefined;
  dispose(): Promise<void>;
}

/**
 * Tells the format from the path: a `.onnx` file is ONNX; a directory or a
 * `.json` file is TF.js (`model.json` in the directory).
 */
export async function modelFormatOf(path: string): Promise<{ format: ModelFormat; file: string }> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new CliError(`--model: ${path} does not exist`);
  if (info.isDirectory()) {
    const file = join(path, 'model.json');
    if (!(await stat(file).catch(() => undefined))?.isFile()) throw new CliError(`--model: the directory ${path} holds no model.json`);
    return { format: 'tfjs', file };
  }
  if (path.endsWith('.onnx')) return { format: 'onnx', file: path };
  if (path.endsWith('.json')) return { format: 'tfjs', file: path };
  throw new CliError(`--model: ${path} is neither an ONNX model (.onnx) nor a TF.js model (model.json or its directory)`);
}

/** The runtime used when `--backend` is not given. */
export function defaultRuntime(format: ModelFormat): CliRuntimeId {
  return format === 'onnx' ? 'onnx-node' : 'tfjs-wasm';
}

/**
 * Loads the model at `file` onto the runtime `kind`, with `feeds` for its
 * other inputs and, when `attributeAt` names a tensor, attributing at it.
 * Runtimes are imported only when used, so an ONNX run never loads TF.js
 * and the other way round.
 */
export async function loadModel(
  file: string,
  format: ModelFormat,
  kind: CliRuntimeId,
  flags: ModelFlags = {},
  feeds: readonly ReadFeed[] = [],
  attributeAt: string | undefined = undefined,
): Promise<LoadedModel> {
  if (runtimeLibrary(kind) !== format) {
    throw new CliError(
      `--backend ${kind} cannot run a${format === 'onnx' ? 'n ONNX' : ' TF.js'} model; use ${CLI_RUNTIME_IDS.filter((k) => runtimeLibrary(k) === format).join(' or ')}`,
    );
  }
  if (format === 'tfjs' && flags.externalData !== undefined) {
    throw new CliError(`--external-data: only for ONNX models; ${basename(file)} is a TF.js model`);
  }
  if (format === 'tfjs' && flags.precision === 'float16') {
    throw new CliError(
      `--precision float16: TF.js has no float16 compute path (its backends compute in float32); ${basename(file)} is a TF.js model. Leave the flag out`,
    );
  }
  try {
    return await (format === 'onnx' ? loadOnnx(file, kind, flags, feeds, attributeAt) : loadTfjs(file, kind, flags, feeds, attributeAt));
  } catch (error) {
    // What is wrong with a model file is one line naming it; the library's error stays as `cause`.
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    if (error instanceof AttributionError) {
      const fed = feedMessage(message, feeds);
      const layer = namesLayer(error, attributeAt) ? `--layer: ${message.replace(/^create\w+Backend: (option )?/, '')}` : undefined;
      const precision =
        flags.precision !== undefined && message.includes('option precision')
          ? `--precision ${flags.precision}: ${message.replace(/^createOnnxBackend: option /, '')}`
          : undefined;
      const position = message.includes('option outputPosition')
        ? `--output-position: ${message.replace(/^create\w+Backend: option outputPosition /, '')}`
        : undefined;
      throw new CliError(fed ?? layer ?? precision ?? position ?? `--model ${file}: ${message}`, exitCodeOf(error.code), { cause: error });
    }
    if (format === 'tfjs') throw new CliError(`--model ${file}: TF.js cannot load it: ${message}`, EXIT.model, { cause: error });
    throw error;
  }
}

async function loadOnnx(
  file: string,
  kind: CliRuntimeId,
  flags: ModelFlags,
  feeds: readonly ReadFeed[],
  attributeAt: string | undefined,
): Promise<LoadedModel> {
  const bytes = await readFile(file);
  const { createOnnxBackend } = await import('@saliency/backend-onnx');
  const { options, input } = await onnxBackendFlags(file, bytes, flags, feeds, attributeAt);
  const ort = kind === 'onnx-node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
  const sessionOptions = kind === 'onnx-wasm' ? { executionProviders: ['wasm'] } : {};
  const backend = createOnnxBackend(ort, bytes, { sessionOptions, ...options });
  return { backend, format: 'onnx', inputShape: backend.inputShape, input, dispose: () => backend.dispose() };
}

/** A TF.js model read from disk onto the runtime `kind`, as TF.js loads it. */
/** A TF.js model as TF.js loaded it: a converter GraphModel or a LayersModel. */
export type OpenedTfjsModel =
  | { kind: 'graph-model'; model: import('@tensorflow/tfjs').GraphModel }
  | { kind: 'layers-model'; model: import('@tensorflow/tfjs').LayersModel };

export async function openTfjsModel(file: string, kind: CliRuntimeId): Promise<OpenedTfjsModel> {
  // The Node build of @tensorflow/tfjs registers every gradient.
  const tf = await import('@tensorflow/tfjs');
  // Production mode: no per-op NaN checks, and no console banner suggesting tfjs-node.
  tf.enableProdMode();
  if (kind === 'tfjs-wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(kind === 'tfjs-wasm' ? 'wasm' : 'cpu');
  await tf.ready();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`--model: ${file} is not valid JSON (${(error as Error).message})`, EXIT.model, { cause: error });
  }
  if (json === null || typeof json !== 'object' || json.modelTopology === null || typeof json.modelTopology !== 'object') {
    throw new CliError(`--model: ${file} is not a TF.js model.json (it has no "modelTopology")`, EXIT.model);
  }
  const { modelArtifacts } = await import('@saliency/backend-tfjs');
  const handler = fileHandler(file, json, modelArtifacts);
  const isGraph = json.format === 'graph-model' || (json.modelTopology as { node?: unknown } | undefined)?.node !== undefined;
  if (isGraph) return { kind: 'graph-model' as const, model: await tf.loadGraphModel(handler) };
  return { kind: 'layers-model' as const, model: await tf.loadLayersModel(handler) };
}

async function loadTfjs(
  file: string,
  kind: CliRuntimeId,
  flags: ModelFlags,
  feeds: readonly ReadFeed[],
  attributeAt: string | undefined,
): Promise<LoadedModel> {
  const opened = await openTfjsModel(file, kind);
  const { model } = opened;
  const { createTfjsBackend } = await import('@saliency/backend-tfjs');
  const inputs: ModelTensorInfo[] = model.inputs.map((t) => ({
    name: t.name,
    type: t.dtype,
    shape: (t.shape ?? []).map((d) => (d === -1 ? null : d)),
  }));
  let backend: ReturnType<typeof createTfjsBackend>;
  let input: ModelTensorInfo;
  try {
    input = chooseInputs(inputs, flags.inputName, feeds);
    backend = createTfjsBackend(model, {
      ...(inputs.length > 1 || flags.inputName !== undefined ? { inputName: input.name } : {}),
      ...(flags.outputName === undefined ? {} : { outputName: flags.outputName }),
      ...(feeds.length === 0 ? {} : { feeds: feedTensors(feeds, inputs) }),
      ...(attributeAt === undefined ? {} : { layer: attributeAt }),
      ...(flags.outputPosition === undefined ? {} : { outputPosition: flags.outputPosition }),
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  const inputShape = input.shape.length === 0 ? undefined : (input.shape as (number | null)[]);
  return {
    backend,
    format: 'tfjs',
    inputShape,
    input,
    dispose: async () => {
      await backend.dispose();
      model.dispose();
    },
  };
}

/**
 * A TF.js IO handler that reads `model.json` and its weight files from disk
 * (the paths of the weights manifest are relative to model.json's folder),
 * as `tf.io.browserFiles` does in a browser; `@tensorflow/tfjs` has no file
 * handler without tfjs-node.
 */
function fileHandler(file: string, json: Record<string, unknown>, modelArtifacts: typeof import('@saliency/backend-tfjs').modelArtifacts) {
  const folder = dirname(file);
  const readWeightFile = (path: string) =>
    readFile(join(folder, path)).catch(() => {
      throw new CliError(`--model: weight file ${path} named by ${basename(file)} is missing from ${folder}`, EXIT.model);
    });
  return { load: () => modelArtifacts(json as unknown as import('@tensorflow/tfjs').io.ModelJSON, readWeightFile) };
}
