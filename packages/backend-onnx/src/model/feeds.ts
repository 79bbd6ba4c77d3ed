import { AttributionError, formatShape, sizeOf, type FeedTensor } from '@saliency/core';
import { constTensor, type ConstTensor } from './const-tensor.js';
import { DataType, dataTypeName } from './data-type.js';
import { checkFedInputs, declaredShape, elementType } from './graph-io.js';
import type { ValueInfoProto } from '../proto/onnx_pb.js';

/*
 * Feeds: the graph inputs other than the attributed one, held fixed
 * (docs/methods.md, "Attribution at a tensor"). Each is given once, with a
 * batch axis of 1 (shared by every example) or of the batch of `x`; every
 * model row of a call (a noisy sample, a path point) gets its example's row.
 * The batch axis is axis 0, except where the input declares axis 0 a fixed
 * size other than 1 (a recurrent state [layers, B, H]): there it is the
 * first axis the input leaves free. A rank-0 input (a scalar, e.g. a sample
 * rate) has no batch axis: its one value, of shape [], is every row's.
 */

/** The element types a feed may have, as ONNX Runtime's tensors name them. */
type FeedType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
export type FeedData = FeedTensor['data'];

/** A feed checked against its graph input and converted to the input's element type. */
export interface ResolvedFeed {
  readonly name: string;
  readonly dataType: DataType;
  readonly type: FeedType;
  readonly data: FeedData;
  /** 1, or the batch of `x`; 1 for a scalar. */
  readonly batch: number;
  /** Where the batch axis is (see above); undefined for a scalar, which has none. */
  readonly batchAxis: number | undefined;
  /** The shape without its batch axis. */
  readonly exampleShape: readonly number[];
}

/** Per graph input element type: its ONNX Runtime name, and how a feed's array becomes that type's (undefined: not accepted). */
const CONVERSIONS: Partial<Record<DataType, { type: FeedType; convert: (data: FeedData) => FeedData | undefined; takes: string }>> = {
  [DataType.FLOAT]: {
    type: 'float32',
    convert: (d) => (d instanceof Float32Array ? d : d instanceof Float64Array ? Float32Array.from(d) : undefined),
    takes: 'Float32Array (or Float64Array, converted)',
  },
  [DataType.DOUBLE]: {
    type: 'float64',
    convert: (d) => (d instanceof Float64Array ? d : d instanceof Float32Array ? Float64Array.from(d) : undefined),
    takes: 'Float64Array (or Float32Array, converted)',
  },
  [DataType.INT64]: {
    type: 'int64',
    convert: (d) => (d instanceof BigInt64Array ? d : d instanceof Int32Array ? BigInt64Array.from(d, (v) => BigInt(v)) : undefined),
    takes: 'BigInt64Array (or Int32Array, converted)',
  },
  [DataType.INT32]: { type: 'int32', convert: (d) => (d instanceof Int32Array ? d : undefined), takes: 'Int32Array' },
  [DataType.UINT8]: { type: 'uint8', convert: (d) => (d instanceof Uint8Array ? d : undefined), takes: 'Uint8Array' },
  [DataType.BOOL]: { type: 'bool', convert: (d) => (d instanceof Uint8Array ? d : undefined), takes: 'Uint8Array (0 or 1)' },
};

/**
 * Checks the `feeds` option against the graph inputs (`inputs`, the model's
 * inputs less its initializers) when the backend is created: every input in
 * `needed` other than `attributed` has a feed, no feed names another input,
 * and each feed's element type and shape (past its batch axis) fit its input.
 */
export function resolveFeeds(
  inputs: readonly ValueInfoProto[],
  attributed: string,
  needed: ReadonlySet<string>,
  feeds: Readonly<Record<string, FeedTensor>> | undefined,
  who = 'createOnnxBackend',
): ResolvedFeed[] {
  const given = feedsOption(feeds, who);
  checkFedInputs(inputs, attributed, needed, Object.keys(given), `${who}: option feeds`);
  return resolveGivenFeeds(inputs, given, who);
}

/** The `feeds` option as an object (absent: none), refused where it is not one. */
export function feedsOption(feeds: unknown, who: string): Readonly<Record<string, FeedTensor>> {
  const given = feeds ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new AttributionError('INVALID_OPTION', `${who}: option feeds must be an object of tensors by input name`);
  }
  return given as Readonly<Record<string, FeedTensor>>;
}

/** Each feed of `given` resolved against its graph input (`resolveFeed`), once `checkFedInputs` has matched the names. */
function resolveGivenFeeds(inputs: readonly ValueInfoProto[], given: Readonly<Record<string, FeedTensor>>, who: string): ResolvedFeed[] {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  return Object.entries(given).map(([name, feed]) => {
    const input = byName.get(name)!;
    return resolveFeed(input, feed, `${who}: feed "${name}"`, feedBatchAxis(declaredShape(input)));
  });
}

/**
 * The attributed input's name where `inputName` does not give it: with
 * feeds, the one graph input they leave; otherwise undefined (the model's
 * only input, chosen by `chooseInputOutput`).
 */
export function inputNameLeft(
  inputs: readonly ValueInfoProto[],
  inputName: string | undefined,
  fed: readonly string[] | undefined,
): string | undefined {
  if (inputName !== undefined || fed === undefined) return inputName;
  const unfed = inputs.filter((i) => !fed.includes(i.name));
  return unfed.length === 1 ? unfed[0]!.name : undefined;
}

/** The batch axis of a fed input of this declared shape (see above): undefined for a scalar. */
export function feedBatchAxis(declared: ReadonlyArray<number | null>): number | undefined {
  if (declared.length === 0) return undefined;
  if (declared[0] === null || declared[0] === 1) return 0;
  // The first free axis; none free: axis 0, as for any other input.
  return Math.max(0, declared.indexOf(null));
}

/**
 * A tensor for graph input `input` checked (element type, shape but for the
 * batch axis `batchAxis`, none for a scalar) and converted; `where` begins
 * each message. The attributed input's batch axis is always axis 0.
 */
export function resolveFeed(input: ValueInfoProto, feed: FeedTensor, where: string, batchAxis: number | undefined): ResolvedFeed {
  const dataType = elementType(input);
  const conversion = dataType === undefined ? undefined : CONVERSIONS[dataType];
  if (conversion === undefined) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `${where}: the input's element type ${dataType === undefined ? '(none: not a tensor)' : dataTypeName(dataType)} cannot be fed; ` +
        `fed inputs may be float32, float64, int64, int32, uint8 or bool`,
    );
  }
  const shape = feed?.shape;
  const { batch, exampleShape } = fedShape(declaredShape(input), shape, where, batchAxis);
  const data = ArrayBuffer.isView(feed.data) ? conversion.convert(feed.data as FeedData) : undefined;
  if (data === undefined) {
    const got = ArrayBuffer.isView(feed.data) ? feed.data.constructor.name : typeof feed.data;
    throw new AttributionError(
      'INVALID_INPUT',
      `${where}: the input is ${dataTypeName(dataType!)}, which takes a ${conversion.takes}; got ${got}`,
    );
  }
  if (data.length !== sizeOf(shape)) {
    throw new AttributionError('INVALID_SHAPE', `${where}: ${data.length} values do not fill shape ${formatShape(shape)}`);
  }
  return { name: input.name, dataType: dataType!, type: conversion.type, data, batch, batchAxis, exampleShape };
}

/**
 * The batch and the shape past the batch axis of a feed of `shape` for an
 * input of this declared shape: its rank, every size the input declares but
 * on the batch axis `batchAxis` (none for a scalar), a batch of at least 1;
 * refused (`INVALID_SHAPE`, `where` first) naming what the input takes.
 */
export function fedShape(
  declared: ReadonlyArray<number | null>,
  shape: unknown,
  where: string,
  batchAxis: number | undefined,
): { batch: number; exampleShape: number[] } {
  const takes = `the input takes shape ${formatDeclared(declared)} (${
    batchAxis === undefined ? 'a scalar: give shape []' : `batch axis ${batchAxis === 0 ? 'first' : batchAxis}, of 1 or the batch of x`
  })`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new AttributionError(
      'INVALID_SHAPE',
      `${where}: shape must be an array of sizes; ${takes}; got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  }
  const sizes = shape as number[];
  const fits = declared.length === sizes.length && declared.every((d, axis) => d === null || axis === batchAxis || d === sizes[axis]);
  const batch = batchAxis === undefined ? 1 : sizes[batchAxis]!;
  if (!fits || batch === 0) throw new AttributionError('INVALID_SHAPE', `${where}: ${takes}, got ${formatShape(sizes)}`);
  return { batch, exampleShape: sizes.filter((_, axis) => axis !== batchAxis) };
}

function formatDeclared(declared: ReadonlyArray<number | null>): string {
  return `[${declared.map((d) => d ?? '?').join(', ')}]`;
}

/** The values of the scalar feeds, by name, which the backend folds into the model (`passes/fold-scalar-feeds.ts`). */
export function scalarFeedValues(feeds: readonly ResolvedFeed[]): Map<string, ConstTensor> {
  return new Map(
    feeds
      .filter((feed) => feed.batchAxis === undefined)
      .map((feed) => [feed.name, constTensor(feed.dataType, [], Array.from(feed.data, Number))]),
  );
}

/** The shape of `feed` in a run of `rows` model rows: `rows` on its batch axis; a scalar's []. */
export function feedShape(feed: Pick<ResolvedFeed, 'batchAxis' | 'exampleShape'>, rows: number): number[] {
  if (feed.batchAxis === undefined) return [];
  const shape = [...feed.exampleShape];
  shape.splice(feed.batchAxis, 0, rows);
  return shape;
}

/** The feeds' shapes for a run of `rows` model rows. */
export function feedShapes(feeds: readonly ResolvedFeed[], rows: number): Map<string, readonly number[]> {
  return new Map(feeds.map((feed) => [feed.name, feedShape(feed, rows)]));
}

/**
 * The example of each of a call's `rows` rows: `examples` (core's
 * `GradientRequest.examples`) or, absent, row r is example r; refused
 * (naming the feed) where a feed of a batch axis has no row for one.
 */
export function rowExamples(feeds: readonly ResolvedFeed[], rows: number, examples: Int32Array | undefined, who: string): Int32Array {
  if (examples !== undefined && examples.length !== rows) {
    throw new AttributionError('INVALID_OPTION', `${who}: request.examples has ${examples.length} entries for ${rows} rows`);
  }
  const resolved = examples ?? Int32Array.from({ length: rows }, (_, r) => r);
  for (const feed of feeds) {
    if (feed.batch === 1) continue;
    const row = resolved.findIndex((e) => !(e >= 0 && e < feed.batch));
    if (row >= 0 || (examples === undefined && rows !== feed.batch)) {
      const batchOfX = resolved.reduce((most, e) => Math.max(most, e + 1), 0);
      throw new AttributionError(
        'INVALID_SHAPE',
        `${who}: feed "${feed.name}" holds ${feed.batch} examples, but x holds ${batchOfX}` +
          `${row >= 0 ? ` (row ${row} is of example ${resolved[row]})` : ''}; give feeds a batch of 1 or of the batch of x` +
          (examples === undefined ? ' (or, for several rows per example, request.examples)' : ''),
      );
    }
  }
  return resolved;
}

/** The values of `feed` for rows of the examples `examples`, of shape `feedShape(feed, examples.length)`: each row its example's row. */
export function feedRows(feed: ResolvedFeed, examples: Int32Array): FeedData {
  if (feed.batchAxis === undefined) return feed.data;
  const rows = examples.length;
  // The feed is [outer, batch, inner] about its batch axis; each row takes its example's inner blocks.
  const outer = sizeOf(feed.exampleShape.slice(0, feed.batchAxis));
  const inner = sizeOf(feed.exampleShape.slice(feed.batchAxis));
  const data = new (feed.data.constructor as new (n: number) => FeedData)(rows * outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      const from = (o * feed.batch + (feed.batch === 1 ? 0 : examples[r]!)) * inner;
      (data as { set(a: ArrayLike<unknown>, o: number): void }).set(feed.data.subarray(from, from + inner), (o * rows + r) * inner);
    }
  }
  return data;
}
