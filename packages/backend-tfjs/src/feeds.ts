import * as tf from '@tensorflow/tfjs-core';
import { AttributionError, formatShape, sizeOf, type FeedTensor } from '@saliency/core';

/** One input of a model as the backend reports it: its name, declared shape (`null`: any size) and dtype. */
export interface ModelInput {
  readonly name: string;
  readonly shape: readonly (number | null)[] | undefined;
  readonly dtype: string | undefined;
}

/** The values of the model inputs other than the attributed one, by input name, `R` rows each. */
export type FeedValues = ReadonlyMap<string, tf.Tensor>;

/** `ids int32 [any, 16]`: an input as messages list it. */
export function describeInput(input: ModelInput): string {
  const shape = input.shape === undefined ? '[?]' : `[${input.shape.map((d) => d ?? 'any').join(', ')}]`;
  return `"${input.name}" ${input.dtype ?? '?'} ${shape}`;
}

/** The model's inputs, for error messages. */
export function describeInputs(inputs: readonly ModelInput[]): string {
  return inputs.map(describeInput).join(', ');
}

/**
 * The input attributed: the one named `inputName`, or the model's only input.
 * A model with several inputs needs `inputName` (the others are `feeds`).
 */
export function attributedInput(inputs: readonly ModelInput[], inputName: string | undefined, modelName: string): ModelInput {
  if (inputName !== undefined) {
    const named = inputs.find((i) => i.name === inputName);
    if (named === undefined) {
      throw new AttributionError(
        'INVALID_OPTION',
        `createTfjsBackend: the ${modelName} has no input named ${JSON.stringify(inputName)}; its inputs are ${describeInputs(inputs)}`,
      );
    }
    return named;
  }
  if (inputs.length !== 1) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the ${modelName} has ${inputs.length} inputs (${describeInputs(inputs)}); ` +
        'name the attributed one with inputName and give every other one in feeds',
    );
  }
  return inputs[0]!;
}

/** A checked feed and the input it goes to. */
export interface Feed {
  readonly input: ModelInput;
  readonly value: FeedTensor;
}

/**
 * Checks `feeds` against the model's inputs before any work: exactly one feed
 * for every input but the attributed one, each of a shape the input takes
 * (its batch axis free) and with as many values as its shape holds.
 */
export function checkFeeds(
  inputs: readonly ModelInput[],
  attributed: string,
  feeds: Readonly<Record<string, FeedTensor>> | undefined,
  modelName: string,
): readonly Feed[] {
  const given = feeds ?? {};
  const listed = `the ${modelName}'s inputs are ${describeInputs(inputs)}, of which "${attributed}" is attributed`;
  for (const name of Object.keys(given)) {
    if (name === attributed || !inputs.some((i) => i.name === name)) {
      throw new AttributionError(
        'INVALID_OPTION',
        `createTfjsBackend: feeds names ${JSON.stringify(name)}, ${name === attributed ? 'the attributed input' : 'which is no input of the model'}; ${listed}`,
      );
    }
  }
  return inputs
    .filter((input) => input.name !== attributed)
    .map((input) => {
      const value = given[input.name];
      if (value === undefined) {
        throw new AttributionError('INVALID_OPTION', `createTfjsBackend: feeds lacks the input ${describeInput(input)}; ${listed}`);
      }
      const shape = value.shape;
      const fits =
        shape.length >= 1 &&
        shape.every((d) => Number.isInteger(d) && d >= 0) &&
        shape[0]! >= 1 &&
        (input.shape === undefined ||
          (input.shape.length === shape.length && input.shape.every((d, axis) => axis === 0 || d === null || d === shape[axis])));
      if (!fits || sizeOf(shape) !== value.data.length) {
        throw new AttributionError(
          'INVALID_SHAPE',
          `createTfjsBackend: the feed for input ${describeInput(input)} has shape ${formatShape(shape)} and ${value.data.length} values; ` +
            "it needs the input's shape with a batch axis of 1 (shared by every row) or of the rows explained, and as many values as that shape holds",
        );
      }
      return { input, value };
    });
}

/**
 * The feeds as tensors of `rows` rows, each row its example's feed row: a
 * batch of 1 repeated over every row; otherwise row r takes feed row
 * `examples[r]` (core's `GradientRequest.examples`: the example a noisy
 * sample or path point belongs to), or, without `examples`, row r (the feed's
 * batch then being `rows`). Call inside a tidy.
 */
export function feedValues(feeds: readonly Feed[], rows: number, backendName: string, examples?: Int32Array): FeedValues {
  if (examples !== undefined && examples.length !== rows) {
    throw new AttributionError('INVALID_OPTION', `${backendName}: request.examples has ${examples.length} entries for ${rows} rows`);
  }
  const values = new Map<string, tf.Tensor>();
  for (const { input, value } of feeds) {
    const batch = value.shape[0]!;
    const tensor = feedTensor(value, input.dtype);
    if (batch === 1) {
      values.set(input.name, tf.tile(tensor, [rows, ...value.shape.slice(1).map(() => 1)]));
      continue;
    }
    const row = examples === undefined ? -1 : examples.findIndex((e) => !(e >= 0 && e < batch));
    if (row >= 0 || (examples === undefined && batch !== rows)) {
      throw new AttributionError(
        'INVALID_SHAPE',
        `${backendName}: the feed for input "${input.name}" has a batch of ${batch}, but ` +
          (row >= 0 ? `row ${row} of this call is of example ${examples![row]}` : `this call runs ${rows} rows`) +
          '; give a batch of 1 (repeated over every row) or one row per example explained',
      );
    }
    const asIs = examples === undefined || (batch === rows && examples.every((e, r) => e === r));
    values.set(input.name, asIs ? tensor : tf.gather(tensor, tf.tensor1d(examples, 'int32')));
  }
  return values;
}

/** A feed (or a model input given as one) as a tensor of the input's dtype (int32, bool; float32 otherwise). */
export function feedTensor(feed: FeedTensor, dtype: string | undefined): tf.Tensor {
  const numbers: ArrayLike<number> = feed.data instanceof BigInt64Array ? Array.from(feed.data, Number) : feed.data;
  const shape = [...feed.shape];
  if (dtype === 'int32') return tf.tensor(Int32Array.from(numbers), shape, 'int32');
  if (dtype === 'bool') return tf.tensor(Uint8Array.from(numbers), shape, 'bool');
  return tf.tensor(Float32Array.from(numbers), shape, 'float32');
}
