import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AttributionError } from '@saliency/core';
import type { AttributableTensors } from '@saliency/backend-onnx';
import { feedFlags, integer } from './args.js';
import { readFeeds } from './attributed-input.js';
import { CliError } from './errors.js';
import { feedTensors, listTensors, type FeedFlag, type ReadFeed } from './model-inputs.js';
import { modelFormatOf, openTfjsModel } from './load-model.js';
import { EXIT } from './exit-codes.js';
import { describeModelFile } from './onnx-model-flags.js';

export const INSPECT_USAGE = `Usage: saliency inspect MODEL [--feed NAME=FILE.npy|NUMBER ...] [--shape NAME=DIMS ...]

Lists what a model takes and gives: its inputs and outputs with their element
types and shapes (? for a free dimension), for an ONNX model the external
data files it names and whether they are next to it, and what can be
attributed: each input with the --feed flags the others need (token ids are
attributed at their embeddings), and the layers --layer takes with their
shapes: for an ONNX model the float tensors computed from each input on the
way to the output (the default embedding and Grad-CAM layer marked), for a
TF.js layers model its layers. Use the names with --input-name,
--output-name, --feed and --layer.

  --feed NAME=FILE.npy   the value of another ONNX model input, as the main command takes it (repeatable);
                         NAME=NUMBER for a scalar input, e.g. --feed sr=16000: the layers are listed with
                         it folded into the model, past the If nodes it decides
  --shape NAME=DIMS      the shape of an ONNX model input, batch first, e.g. --shape input=1,576, where its
                         free dimensions cannot be just any size (a window wider than the sizes tried)
`;

/** One input or output as listed: name, element type, shape with `?` for a free dimension. */
export interface TensorLine {
  readonly name: string;
  readonly type: string | undefined;
  readonly shape: ReadonlyArray<number | string | null>;
}

export interface ModelListing {
  readonly file: string;
  /** `ONNX model`, `TF.js layers-model` or `TF.js graph-model`. */
  readonly kind: string;
  readonly inputs: readonly TensorLine[];
  readonly outputs: readonly TensorLine[];
  /** ONNX: the external data files the model names, each with whether it is next to the model. */
  readonly externalData: ReadonlyArray<{ readonly name: string; readonly found: boolean }>;
  /** TF.js layers models: the layers `--layer` names, with their output shapes; undefined where the CLI cannot list them. */
  readonly layers?: ReadonlyArray<{ readonly name: string; readonly kind: string; readonly shape: ReadonlyArray<number | null> }>;
  /** ONNX: per input, the tensors `--layer` can name (backend-onnx's `attributableTensors`), or why it has none. */
  readonly tensorsByInput?: ReadonlyArray<AttributableTensors | { readonly inputName: string; readonly refused: string }>;
  /** ONNX: the inputs `--feed` gave, as given. */
  readonly fed?: readonly FeedFlag[];
}

/** What `saliency inspect` takes besides the model: `--feed` (files read) and `--shape`, for the ONNX layers. */
export interface InspectOptions {
  readonly feeds?: readonly ReadFeed[];
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
}

/** Reads the model at `path` (an .onnx file, or a TF.js model.json or its folder) and lists it. */
export async function inspectModel(path: string, options: InspectOptions = {}): Promise<ModelListing> {
  const { format, file } = await modelFormatOf(path);
  if (format === 'onnx') {
    const description = await describeModelFile(file, await readFile(file));
    const externalData = await Promise.all(
      description.externalDataFiles.map(async (name) => ({
        name,
        found: (await stat(join(dirname(file), name)).catch(() => undefined))?.isFile() === true,
      })),
    );
    const tensorsByInput = await onnxTensorsByInput(file, description.inputs, externalData, options);
    return {
      file,
      kind: 'ONNX model',
      inputs: description.inputs,
      outputs: description.outputs,
      externalData,
      ...(tensorsByInput === undefined ? {} : { tensorsByInput }),
      fed: (options.feeds ?? []).map((feed) => ({ name: feed.name, path: feed.path })),
    };
  }
  if ((options.feeds ?? []).length > 0 || Object.keys(options.shapes ?? {}).length > 0) {
    throw new CliError('inspect: --feed and --shape are for ONNX models; a TF.js model lists its layers as it is built');
  }
  // TF.js records output shapes only in the built model, so the model is loaded (on the cpu runtime).
  const opened = await openTfjsModel(file, 'tfjs-cpu').catch((error: unknown) => {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `--model ${file}: TF.js cannot load it: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      EXIT.model,
      { cause: error },
    );
  });
  try {
    const line = (t: { name: string; shape?: ReadonlyArray<number | null> | undefined; dtype?: string }): TensorLine => ({
      name: t.name,
      type: t.dtype,
      shape: (t.shape ?? []).map((d) => (d === null || d === -1 ? null : d)),
    });
    const { model } = opened;
    const layers =
      opened.kind === 'layers-model'
        ? opened.model.layers
            .filter((layer) => layer.getClassName() !== 'InputLayer')
            .map((layer) => ({
              name: layer.name,
              kind: layer.getClassName(),
              // a layer of several outputs lists its first
              shape: (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (number | null)[],
            }))
        : undefined;
    return {
      file,
      kind: `TF.js ${opened.kind}`,
      inputs: model.inputs.map((t) => line(t as Parameters<typeof line>[0])),
      outputs: model.outputs.map((t) => line(t as Parameters<typeof line>[0])),
      externalData: [],
      ...(layers === undefined ? {} : { layers }),
    };
  } finally {
    opened.model.dispose();
  }
}

/**
 * For each input, the tensors inside the model `--layer` can name with their
 * shapes; for a model of several outputs, on the way to the first (the names
 * for another are given in the refusal of a wrong one).
 */
async function onnxTensorsByInput(
  file: string,
  inputs: readonly TensorLine[],
  externalData: ReadonlyArray<{ readonly name: string; readonly found: boolean }>,
  options: InspectOptions,
): Promise<ModelListing['tensorsByInput']> {
  const feeds = options.feeds ?? [];
  for (const name of [...feeds.map((f) => f.name), ...Object.keys(options.shapes ?? {})]) {
    if (!inputs.some((t) => t.name === name))
      throw new CliError(`inspect: the model has no input "${name}"; its inputs are ${listTensors(inputs)}`);
  }
  if (externalData.some((d) => !d.found)) return undefined;
  const { attributableTensors, describeOnnxModel } = await import('@saliency/backend-onnx');
  const bytes = await readFile(file);
  const data = new Map(await Promise.all(externalData.map(async (d) => [d.name, await readFile(join(dirname(file), d.name))] as const)));
  const outputName = describeOnnxModel(bytes).outputs[0]?.name;
  const fed = feedTensors(feeds, inputs);
  // A fed input is not attributed: the layers are listed from each of the others.
  return inputs
    .filter((input) => !(input.name in fed))
    .map((input) => {
      try {
        return attributableTensors(bytes, {
          inputName: input.name,
          ...(outputName === undefined ? {} : { outputName }),
          externalData: data,
          feeds: fed,
          ...(options.shapes === undefined ? {} : { shapes: options.shapes }),
        });
      } catch (error) {
        if (error instanceof AttributionError) return { inputName: input.name, refused: error.message };
        throw error;
      }
    });
}

function formatTensor(t: TensorLine): string {
  return `  ${t.name}  ${t.type ?? '?'}  [${t.shape.map((d) => d ?? '?').join(', ')}]`;
}

/** The listing as printed by `saliency inspect`. */
export function formatListing(listing: ModelListing): string {
  const lines = [
    `${basename(listing.file)}: ${listing.kind}`,
    'inputs:',
    ...listing.inputs.map(formatTensor),
    'outputs:',
    ...listing.outputs.map(formatTensor),
  ];
  if (listing.externalData.length > 0) {
    lines.push(
      'external data:',
      ...listing.externalData.map(
        (d) => `  ${d.name}  ${d.found ? 'next to the model' : 'MISSING next to the model: give it with --external-data'}`,
      ),
    );
  }
  const fed = listing.fed ?? [];
  lines.push(
    'attribution (--input, --feed, --layer):',
    ...listing.inputs
      .filter((input) => !fed.some((f) => f.name === input.name))
      .map((input) => attributionLine(input, listing.inputs, fed)),
  );
  if (listing.layers !== undefined) {
    lines.push(
      'layers (--layer NAME: the tensor attributed at; for grad_cam, the layer explained):',
      ...listing.layers.map((l) => `  ${l.name}  ${l.kind}  [${l.shape.map((d) => d ?? '?').join(', ')}]`),
    );
  } else if (listing.tensorsByInput !== undefined) {
    for (const found of listing.tensorsByInput) lines.push(...formatTensorsFrom(found));
  } else {
    lines.push('layers: --layer takes a tensor name of the model; an unknown one is answered with the tensors on the way to the output');
  }
  return `${lines.join('\n')}\n`;
}

/** The tensors computed from one ONNX input that --layer can name, marking the defaults. */
function formatTensorsFrom(found: NonNullable<ModelListing['tensorsByInput']>[number]): string[] {
  if ('refused' in found) return [`layers from input ${found.inputName}: none (${found.refused})`];
  const heading =
    `layers from input ${found.inputName} to output ${found.outputName} (--layer NAME: the tensor attributed at; ` +
    'for grad_cam, the layer explained; * a feature map grad_cam can explain):';
  return [
    heading,
    ...found.tensors.map((t) => {
      const marks = [
        t.name === found.defaultLayer ? 'attributed at by default' : undefined,
        t.name === found.defaultGradCamLayer ? 'grad_cam default' : undefined,
      ].filter((mark) => mark !== undefined);
      const shape = `[${t.shape.map((d) => d ?? '?').join(', ')}]`;
      return `  ${t.featureMap ? '*' : ' '} ${t.name}  ${t.op}  ${t.type}  ${shape}${marks.length > 0 ? `  (${marks.join('; ')})` : ''}`;
    }),
  ];
}

const INTEGER_TYPES = new Set(['int64', 'int32', 'uint8', 'bool']);

/**
 * One input as the attributed one: what is attributed, and the feeds the
 * other inputs take: as `fed` gives them, else a .npy file, or a number for
 * a scalar (rank-0) input.
 */
function attributionLine(input: TensorLine, inputs: readonly TensorLine[], fed: readonly FeedFlag[]): string {
  const at = INTEGER_TYPES.has(input.type ?? '')
    ? `${input.type}: token ids, attributed at the embeddings they select, or at --layer`
    : `${input.type ?? '?'}: attributed as it is, or at --layer`;
  const value = (other: TensorLine) => fed.find((f) => f.name === other.name)?.path ?? (other.shape.length === 0 ? 'NUMBER' : 'FILE.npy');
  const feeds = inputs.filter((other) => other !== input).map((other) => ` --feed ${other.name}=${value(other)}`);
  const name = inputs.length > 1 ? ` --input-name ${input.name}` : '';
  return `  --input FILE${name}${feeds.join('')}  (${at})`;
}

/** `saliency inspect MODEL`: the arguments after `inspect`; returns the text to print, or the usage for --help. */
export async function inspectCommand(args: readonly string[]): Promise<string> {
  let parsed: { values: { help?: boolean; feed?: string[]; shape?: string[] }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        help: { type: 'boolean', short: 'h' },
        feed: { type: 'string', multiple: true },
        shape: { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new CliError(`inspect: ${(error as Error).message.split('\n')[0]} (see saliency inspect --help)`);
  }
  if (parsed.values.help) return INSPECT_USAGE;
  if (parsed.positionals.length !== 1) {
    throw new CliError(
      `inspect takes one model (an .onnx file, or a TF.js model.json or its folder); got ${parsed.positionals.length}: saliency inspect MODEL`,
    );
  }
  const feeds = await readFeeds(feedFlags(parsed.values.feed ?? []));
  return formatListing(await inspectModel(parsed.positionals[0]!, { feeds, shapes: shapeFlags(parsed.values.shape ?? []) }));
}

/** `--shape NAME=DIMS` (DIMS positive integers, batch first), each input named once. */
function shapeFlags(texts: readonly string[]): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const text of texts) {
    const at = text.indexOf('=');
    const name = text.slice(0, at).trim();
    if (at < 0 || name === '') throw new CliError(`--shape must be NAME=DIMS, e.g. input=1,576; got "${text}"`);
    if (name in shapes) throw new CliError(`--shape ${name} was given twice; give each input once`);
    shapes[name] = text
      .slice(at + 1)
      .split(',')
      .map((d) => integer('shape', d, 1));
  }
  return shapes;
}
