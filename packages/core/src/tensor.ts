/**
 * A float32 tensor in host memory: a row-major `Float32Array` and its shape.
 * The first axis is the batch axis wherever a method takes a batch.
 */
export interface HostTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/**
 * A tensor given to a model input that is not attributed — token ids, an
 * attention mask, a second image — in any element type a model input takes.
 * Backends take these as `feeds` (one per model input other than the
 * attributed one) and as the model input of `attributedInput` when they
 * attribute at a tensor inside the model (docs/methods.md, "Attribution at a
 * tensor"). Its first axis is the batch axis: 1 (shared by every example) or
 * the batch of `x`; the backend repeats it over each example's rows.
 */
export interface FeedTensor {
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  readonly shape: readonly number[];
}

/** Number of elements of a tensor of this shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Makes a host tensor, checking that the data fills the shape exactly. */
export function hostTensor(data: Float32Array | readonly number[], shape: readonly number[]): HostTensor {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`hostTensor: shape [${shape.join(', ')}] must hold non-negative integers`);
  }
  if (sizeOf(shape) !== array.length) {
    throw new RangeError(`hostTensor: shape [${shape.join(', ')}] holds ${sizeOf(shape)} elements but the data has ${array.length}`);
  }
  return { data: array, shape: [...shape] };
}

/** Writes a shape as `[a, b, c]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The multi-index of a flat row-major position, for messages that point at an element. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis]!;
    index[axis] = rest % d;
    rest = Math.floor(rest / d);
  }
  return index;
}
