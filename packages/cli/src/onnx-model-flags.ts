import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { AttributionError, type OutputPosition } from '@saliency/core';
import type { OnnxModelDescription, OnnxTensorInfo } from '@saliency/backend-onnx';
import type { FeedTensor } from '@saliency/core';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { chooseInputs, feedTensors, listTensors, type FeedFlag, type ModelTensorInfo, type ReadFeed } from './model-inputs.js';

/** The command line's choices about a model: which input and output, where its external data is. */
export interface ModelFlags {
  /** `--input-name`: the graph input explained, when the model has several. */
  readonly inputName?: string;
  /** `--output-name`: the graph output that holds the logits, when the model has several. */
  readonly outputName?: string;
  /** `--output-position`: the position of a sequence or dense output explained (ONNX and TF.js). */
  readonly outputPosition?: OutputPosition;
  /** `--external-data`: the external data file the model names, or the folder holding its files. */
  readonly externalData?: string;
  /** `--feed NAME=FILE.npy`: values of the model inputs besides the one `--input` gives. */
  readonly feeds?: readonly FeedFlag[];
  /**
   * `--layer`: for a layer method (Grad-CAM) the layer explained (core's
   * `layer` option); for every other method the tensor attributed at (the
   * backend's `layer` option: docs/methods.md, "Attribution at a tensor").
   */
  readonly layer?: string;
  /**
   * `--precision`: what the ONNX backend's gradient graphs compute in
   * (docs/methods.md, "Precision"); float16 only on ONNX Runtime's WebGPU EP,
   * so the backend refuses it on the CLI's runtimes, and TF.js models refuse it.
   */
  readonly precision?: Precision;
}

/** The `--precision` values. */
export const PRECISIONS = ['float32', 'float16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What `createOnnxBackend` gets from the flags. */
export interface OnnxBackendFlags {
  readonly inputName?: string;
  readonly outputName?: string;
  readonly outputPosition?: OutputPosition;
  readonly externalData?: ReadonlyMap<string, Uint8Array>;
  readonly feeds?: Record<string, FeedTensor>;
  /** The tensor attributed at (not a Grad-CAM layer, which is an option of `explain`). */
  readonly layer?: string;
  readonly precision?: Precision;
}

/** Reads the model's declaration, a model that is not one being a model error naming the file. */
export async function describeModelFile(file: string, bytes: Uint8Array): Promise<OnnxModelDescription> {
  const { describeOnnxModel } = await import('@saliency/backend-onnx');
  try {
    return describeOnnxModel(bytes);
  } catch (error) {
    if (error instanceof AttributionError) throw new CliError(`--model ${file}: ${error.message}`, EXIT.model, { cause: error });
    throw error;
  }
}

/** The one tensor named by `flag`, or the only one; refusing an unknown name or a missing choice as usage. */
function chooseName(tensors: readonly OnnxTensorInfo[], wanted: string | undefined, what: string, flag: string): string | undefined {
  if (wanted !== undefined) {
    if (!tensors.some((t) => t.name === wanted))
      throw new CliError(`${flag}: the model has no ${what} "${wanted}"; its ${what}s are ${listTensors(tensors)}`);
    return wanted;
  }
  if (tensors.length > 1) throw new CliError(`the model has ${tensors.length} ${what}s (${listTensors(tensors)}); choose one with ${flag}`);
  return undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/**
 * The external data files of a model at `file`, by the name the model gives
 * them: by default each read from the model's folder; `--external-data` names
 * the one file (whatever its name) or a folder holding them all.
 */
async function externalData(
  file: string,
  names: readonly string[],
  flag: string | undefined,
): Promise<Map<string, Uint8Array> | undefined> {
  if (names.length === 0) {
    if (flag !== undefined)
      throw new CliError(`--external-data: the model ${basename(file)} keeps all its data inside; leave the flag out`);
    return undefined;
  }
  for (const name of names) {
    // ONNX names the files relative to the model's folder; a name that leaves it is not read.
    if (isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      throw new CliError(`--model ${file} names the external data file "${name}", outside the model's folder; it is not read`, EXIT.model);
    }
  }
  const folder = flag !== undefined && (await isDirectory(flag)) ? flag : dirname(file);
  if (flag !== undefined && folder !== flag && names.length > 1) {
    throw new CliError(
      `--external-data: the model ${basename(file)} keeps its data in ${names.length} files (${names.join(', ')}); give the folder that holds them`,
    );
  }
  const data = new Map<string, Uint8Array>();
  for (const name of names) {
    const path = flag !== undefined && folder !== flag ? flag : join(folder, name);
    try {
      data.set(name, await readFile(path));
    } catch {
      // The model's own data file missing is a model problem (3); the file a flag names, a usage one (2).
      if (flag === undefined) {
        throw new CliError(
          `--model ${file} keeps its weights in the external data file "${name}", which is not next to it (${path} does not exist); give its path with --external-data`,
          EXIT.model,
        );
      }
      throw new CliError(
        `--external-data: ${path} (the data file "${name}" that ${basename(file)} names) does not exist or cannot be read`,
      );
    }
  }
  return data;
}

/**
 * The `createOnnxBackend` options that the flags give for the model at
 * `file`: the input, feeds and output checked against what the model
 * declares (a wrong or missing choice is a usage error listing them, before
 * the backend is built), the feeds converted to their inputs' element types,
 * its external data read; and the declaration of the input `--input` gives.
 * `layer` is the tensor attributed at, if any.
 */
export async function onnxBackendFlags(
  file: string,
  bytes: Uint8Array,
  flags: ModelFlags,
  feeds: readonly ReadFeed[],
  layer: string | undefined,
): Promise<{ options: OnnxBackendFlags; input: ModelTensorInfo }> {
  const model = await describeModelFile(file, bytes);
  const input = chooseInputs(model.inputs, flags.inputName, feeds);
  const outputName = chooseName(model.outputs, flags.outputName, 'output', '--output-name');
  const fed = feedTensors(feeds, model.inputs);
  const data = await externalData(file, model.externalDataFiles, flags.externalData);
  const options: OnnxBackendFlags = {
    ...(model.inputs.length > 1 || flags.inputName !== undefined ? { inputName: input.name } : {}),
    ...(outputName === undefined ? {} : { outputName }),
    ...(flags.outputPosition === undefined ? {} : { outputPosition: flags.outputPosition }),
    ...(data === undefined ? {} : { externalData: data }),
    ...(feeds.length === 0 ? {} : { feeds: fed }),
    ...(layer === undefined ? {} : { layer }),
    ...(flags.precision === undefined ? {} : { precision: flags.precision }),
  };
  return { options, input };
}
