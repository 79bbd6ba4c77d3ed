import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AttributionError, runtimeLibrary, type GradientBackend, type RuntimeId, type RuntimeLibrary } from '@saliency/core';
import { cliErrorOf, CliError } from './errors.js';

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
 * Loads the model at `file` onto the runtime `kind`. Runtimes are imported
 * only when used, so an ONNX run never loads TF.js and the other way round.
 */
export async function loadModel(file: string, format: ModelFormat, kind: CliRuntimeId): Promise<LoadedModel> {
  if (runtimeLibrary(kind) !== format) {
    throw new CliError(
      `--backend ${kind} cannot run a${format === 'onnx' ? 'n ONNX' : ' TF.js'} model; use ${CLI_RUNTIME_IDS.filter((k) => runtimeLibrary(k) === format).join(' or ')}`,
    );
  }
  try {
    return await (format === 'onnx' ? loadOnnx(file, kind) : loadTfjs(file, kind));
  } catch (error) {
    // A model file is input: whatever is wrong with it is one line naming the file, with the library's error as `cause`.
    if (error instanceof CliError) throw error;
    if (error instanceof AttributionError) throw cliErrorOf(error, `--model ${file}: ${error.message}`);
    // TF.js's own refusals of a model.json (a topology it cannot build) are plain errors.
    if (format === 'tfjs') throw new CliError(`--model ${file}: TF.js could not load it: ${error instanceof Error ? error.message : String(error)}`, 2, { cause: error });
    throw error;
  }
}

async function loadOnnx(file: string, kind: CliRuntimeId): Promise<LoadedModel> {
  const bytes = await readFile(file);
  const { createOnnxBackend } = await import('@saliency/backend-onnx');
  const ort = kind === 'onnx-node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
  const sessionOptions = kind === 'onnx-wasm' ? { executionProviders: ['wasm'] } : {};
  const backend = createOnnxBackend(ort, bytes, { sessionOptions });
  return { backend, format: 'onnx', inputShape: backend.inputShape, dispose: () => backend.dispose() };
}

async function loadTfjs(file: string, kind: CliRuntimeId): Promise<LoadedModel> {
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
    throw new CliError(`--model: ${file} is not valid JSON (${(error as Error).message})`, 2, { cause: error });
  }
  const { modelArtifacts } = await import('@saliency/backend-tfjs');
  const handler = fileHandler(file, json, modelArtifacts);
  const isGraph = json.format === 'graph-model' || (json.modelTopology as { node?: unknown } | undefined)?.node !== undefined;
  const model = isGraph ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  const { createTfjsBackend } = await import('@saliency/backend-tfjs');
  const backend = createTfjsBackend(model);
  const declared = isGraph ? (model as import('@tensorflow/tfjs').GraphModel).inputs[0]?.shape : (model as import('@tensorflow/tfjs').LayersModel).inputs[0]?.shape;
  return {
    backend,
    format: 'tfjs',
    inputShape: declared?.map((d) => (d === -1 ? null : d)),
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
function fileHandler(
  file: string,
  json: Record<string, unknown>,
  modelArtifacts: typeof import('@saliency/backend-tfjs').modelArtifacts,
) {
  const folder = dirname(file);
  const readWeightFile = (path: string) =>
    readFile(join(folder, path)).catch(() => {
      throw new CliError(`--model: weight file ${path} named by ${basename(file)} is missing from ${folder}`);
    });
  return { load: () => modelArtifacts(json as unknown as import('@tensorflow/tfjs').io.ModelJSON, readWeightFile) };
}
