import { isIntegerDtype, type FeedTensor, type NpyTensor } from '@saliency/core';
import { CliError } from './errors.js';

/** A model input or output as a model declares it: name, element type (`float32`, `int64`, …), shape with `null` or a name for a free dimension. */
export interface ModelTensorInfo {
  readonly name: string;
  readonly type: string | undefined;
  readonly shape: ReadonlyArray<number | string | null>;
}

/** `--feed NAME=FILE.npy` as given. */
export interface FeedFlag {
  readonly name: string;
  readonly path: string;
}

/** A `--feed` with its file read. */
export interface ReadFeed extends FeedFlag {
  readonly tensor: NpyTensor;
}

/** The tensors as `"name" [1, 3, ?, ?]`, for messages. */
export function listTensors(tensors: readonly ModelTensorInfo[]): string {
  return tensors.map((t) => `"${t.name}" [${t.shape.map((d) => d ?? '?').join(', ')}]`).join(', ');
}

/**
 * A `.npy` tensor as a batch of one: its own leading axis when it already has
 * one of 1 and the model's declared input has as many axes as the file, else
 * a batch axis added in front (the documented form, without the batch axis).
 */
export function batchShape(fileShape: readonly number[], declared: ReadonlyArray<unknown> | undefined): number[] {
  if (fileShape[0] === 1 && declared !== undefined && declared.length === fileShape.length) return [...fileShape];
  return [1, ...fileShape];
}

type Elements = FeedTensor['data'];

/** How a `.npy` dtype is named in messages. */
function describeDtype(dtype: NpyTensor['dtype']): string {
  const names = { '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '<i4': 'int32', '|u1': 'uint8', '|b1': 'bool' } as const;
  return `${isIntegerDtype(dtype) ? 'integers' : 'floats'} (${names[dtype]})`;
}

/** The elements as numbers, when each fits in `[min, max]`; else the first that does not. */
function integersWithin(data: Elements, min: number, max: number): { values: number[] } | { outside: bigint | number } {
  const values: number[] = [];
  for (const v of data) {
    if (v < min || v > max) return { outside: v };
    values.push(Number(v));
  }
  return { values };
}

/**
 * The elements of `tensor` in the array type a model input of element type
 * `type` takes: floats for a float input (float64 files rounded to float32 for
 * float32), integers widened to int64 or narrowed to int32, uint8 or bool
 * where every value fits. A float file for an integer input, an integer file
 * for a float input or a value out of range is refused, `what` naming the
 * flag and file. An element type the CLI does not convert to (float16, int8, …)
 * gets the file's elements as they are, for the backend to judge.
 */
export function elementsFor(what: string, tensor: NpyTensor, input: ModelTensorInfo): Elements {
  const type = input.type === 'float' ? 'float32' : input.type === 'double' ? 'float64' : input.type;
  const integer = isIntegerDtype(tensor.dtype);
  const refuse = (hint: string) =>
    new CliError(`${what} holds ${describeDtype(tensor.dtype)}, but the model's input "${input.name}" takes ${type}; ${hint}`);
  if (type === 'float32' || type === 'float64') {
    if (integer) throw refuse(`give ${type} values (np.save(path, x.astype('<f4'))), or a model whose input takes token ids`);
    return type === 'float32' ? Float32Array.from(tensor.data as Float32Array) : Float64Array.from(tensor.data as Float64Array);
  }
  const range = { int32: [-(2 ** 31), 2 ** 31 - 1], uint8: [0, 255], bool: [0, 1] } as const;
  if (type === 'int64' || type === 'int32' || type === 'uint8' || type === 'bool') {
    if (!integer)
      throw refuse(`save them as integers (np.save(path, x.astype('${type === 'int64' ? '<i8' : type === 'int32' ? '<i4' : '|u1'}')))`);
    if (type === 'int64')
      return tensor.data instanceof BigInt64Array
        ? tensor.data
        : BigInt64Array.from(tensor.data as Int32Array | Uint8Array, (v) => BigInt(v));
    const fitting = integersWithin(tensor.data, range[type][0], range[type][1]);
    if ('outside' in fitting) throw refuse(`${fitting.outside} is outside what ${type} holds`);
    return type === 'int32' ? Int32Array.from(fitting.values) : Uint8Array.from(fitting.values);
  }
  return tensor.data;
}

/**
 * A read `.npy` file (or scalar) as the value of the model input `input`:
 * its elements converted (`elementsFor`); its shape as it is where it has
 * the input's rank (a scalar; a state `[2, 1, 128]` whose batch axis is not
 * the first), else with a batch axis of 1 added.
 */
export function modelInputTensor(what: string, tensor: NpyTensor, input: ModelTensorInfo): FeedTensor {
  const fullRank = tensor.shape.length === input.shape.length;
  return {
    data: elementsFor(what, tensor, input),
    shape: fullRank ? [...tensor.shape] : batchShape(tensor.shape, input.shape.length === 0 ? undefined : input.shape),
  };
}

/**
 * Which model input `--input` gives: `--input-name`, or else the one input
 * not fed. A feed naming no input, or the explained one, is refused listing
 * the model's inputs with their shapes. An input left without a value is the
 * backend's to refuse: only the inputs the explained output depends on need
 * one (`feedMessage`).
 */
export function chooseInputs(
  inputs: readonly ModelTensorInfo[],
  inputName: string | undefined,
  feeds: readonly FeedFlag[],
): ModelTensorInfo {
  for (const feed of feeds) {
    if (!inputs.some((t) => t.name === feed.name))
      throw new CliError(`--feed ${feed.name}=${feed.path}: the model has no input "${feed.name}"; its inputs are ${listTensors(inputs)}`);
  }
  let chosen: ModelTensorInfo | undefined;
  if (inputName !== undefined) {
    chosen = inputs.find((t) => t.name === inputName);
    if (chosen === undefined)
      throw new CliError(`--input-name: the model has no input "${inputName}"; its inputs are ${listTensors(inputs)}`);
  } else {
    const unfed = inputs.filter((t) => !feeds.some((f) => f.name === t.name));
    if (unfed.length === 1) chosen = unfed[0];
    else if (unfed.length === 0)
      throw new CliError(
        `--feed gives every input of the model (${listTensors(inputs)}); leave out the one --input gives, or name it with --input-name`,
      );
    else
      throw new CliError(
        `the model has ${inputs.length} inputs (${listTensors(inputs)}); choose the one --input gives with --input-name, ` +
          'and give the others with --feed NAME=FILE.npy',
      );
  }
  const explained = chosen!;
  if (feeds.some((f) => f.name === explained.name))
    throw new CliError(`--feed ${explained.name}: "${explained.name}" is the input --input gives; feed only the other inputs`);
  return explained;
}

/** The feeds as the backends take them (`feeds`), each converted for its model input. */
export function feedTensors(feeds: readonly ReadFeed[], inputs: readonly ModelTensorInfo[]): Record<string, FeedTensor> {
  const out: Record<string, FeedTensor> = {};
  for (const feed of feeds) {
    const input = inputs.find((t) => t.name === feed.name)!;
    out[feed.name] = modelInputTensor(`--feed ${feed.name}=${feed.path}`, feed.tensor, input);
  }
  return out;
}

/**
 * A backend's refusal of its `feeds` option in the command line's words
 * (`--feed`), where it is one; undefined otherwise. `feeds` are the flags
 * given, for their file names.
 */
export function feedMessage(message: string, feeds: readonly FeedFlag[]): string | undefined {
  const text = message.replace(/^create\w+Backend: /, '');
  // ONNX: `needs input "b" besides the attributed input "a": give it in option feeds; …`; TF.js: `feeds lacks the input "b" …; …`
  const missing =
    /needs inputs? (.*) besides the attributed input "[^"]*": give (?:it|them) in (?:option )?feeds; (.*)$/.exec(text) ??
    /^feeds lacks the input ("[^"]*") [^;]*; (.*)$/.exec(text);
  if (missing !== null) {
    const names = [...missing[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    return `the model's output needs ${names.length === 1 ? 'input' : 'inputs'} ${missing[1]} besides --input: give ${names
      .map((name) => `--feed ${name}=FILE.npy`)
      .join(' ')}; ${missing[2]}`;
  }
  const named = /feed (?:for input )?"([^"]*)"/.exec(text)?.[1];
  const flag = feeds.find((f) => f.name === named);
  return flag === undefined ? undefined : `--feed ${flag.name}=${flag.path}: ${text}`;
}
