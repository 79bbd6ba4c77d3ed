import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import type { DataType } from '../model/data-type.js';

/** Shared arithmetic on shapes and host tensors, for the op definitions. */

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) strides[axis] = strides[axis + 1]! * shape[axis + 1]!;
  return strides;
}

/** Calls `visit(index, flat)` with every multi-index of `shape`, in row-major order, without divisions. */
export function forEachIndex(shape: readonly number[], visit: (index: readonly number[], flat: number) => void): void {
  const count = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    visit(index, flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a]! < shape[a]!) break;
      index[a] = 0;
    }
  }
}

/** A possibly negative axis in [−rank, rank) as a non-negative one; throws out of range. */
export function normalizeAxis(axis: number, rank: number, fail: (message: string) => never): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) fail(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** NumPy broadcasting of several shapes; undefined if they do not broadcast. */
export function broadcastShapes(...shapes: ReadonlyArray<readonly number[]>): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const result = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    for (let i = 0; i < shape.length; i++) {
      const axis = rank - shape.length + i;
      const d = shape[i]!;
      if (result[axis] === 1) result[axis] = d;
      else if (d !== 1 && d !== result[axis]) return undefined;
    }
  }
  return result;
}

/** Flat index into a tensor of `shape` broadcast to `outShape`, for each flat index of `outShape`. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const count = sizeOf(outShape);
  const index = new Int32Array(count);
  const inStrides = stridesOf(shape);
  const offset = outShape.length - shape.length;
  const outStrides = stridesOf(outShape);
  for (let flat = 0; flat < count; flat++) {
    let source = 0;
    for (let axis = 0; axis < shape.length; axis++) {
      const coordinate = Math.floor(flat / outStrides[axis + offset]!) % outShape[axis + offset]!;
      if (shape[axis] !== 1) source += coordinate * inStrides[axis]!;
    }
    index[flat] = source;
  }
  return index;
}

/** Applies `fn` element-wise over broadcast inputs. */
export function broadcastMap(inputs: readonly ConstTensor[], dataType: DataType, fn: (...values: number[]) => number): ConstTensor {
  const outShape = broadcastShapes(...inputs.map((t) => t.dims));
  if (outShape === undefined) throw new Error(`shapes ${inputs.map((t) => `[${t.dims.join(', ')}]`).join(', ')} do not broadcast`);
  const indices = inputs.map((t) => broadcastIndex(t.dims, outShape));
  const values = new Float64Array(sizeOf(outShape));
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < values.length; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k]!.values[indices[k]![i]!]!;
    values[i] = fn(...args);
  }
  return constTensor(dataType, outShape, values);
}

/** The values of `x` gathered per group of the reduction over `axes`, each group in row-major order. */
export function groupsOf(x: ConstTensor, axes: readonly number[]): { keepShape: number[]; groups: number[][]; index: Int32Array } {
  // Each element's group: its flat index in the keepdims shape, which the element broadcasts from.
  const keepShape = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const index = broadcastIndex(keepShape, x.dims);
  const groups = Array.from({ length: sizeOf(keepShape) }, (): number[] => []);
  x.values.forEach((v, flat) => groups[index[flat]!]!.push(v));
  return { keepShape, groups, index };
}
