/**
 * Layouts of a model input: ONNX (PyTorch) puts channels first, TF.js last.
 * `NF` is a flat feature vector, the same in both.
 */
export type OnnxLayout = 'NCHW' | 'NCW' | 'NF';
export type TfjsLayout = 'NHWC' | 'NWC' | 'NF';

export interface Layouts {
  readonly onnx: OnnxLayout;
  readonly tfjs: TfjsLayout;
}

const CHANNELS_LAST: Record<OnnxLayout, TfjsLayout> = { NCHW: 'NHWC', NCW: 'NWC', NF: 'NF' };

export function checkLayouts(layouts: Layouts): void {
  if (CHANNELS_LAST[layouts.onnx] !== layouts.tfjs) {
    throw new Error(
      `layouts ${layouts.onnx} (ONNX) and ${layouts.tfjs} (TF.js) do not correspond; expected ${CHANNELS_LAST[layouts.onnx] ?? '?'} for ${layouts.onnx}`,
    );
  }
}

/** Row-major strides of `shape`. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) out[d] = out[d + 1]! * shape[d + 1]!;
  return out;
}

/** `out[i_perm[0], i_perm[1], ...] = data[i_0, i_1, ...]`, i.e. numpy's `transpose(data, perm)`. */
export function transpose(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  if (perm.length !== shape.length || [...perm].sort((p, q) => p - q).some((p, d) => p !== d)) {
    throw new Error(`perm [${perm.join(', ')}] is not a permutation of the ${shape.length} axes of shape [${shape.join(', ')}]`);
  }
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = strides(shape);
  const stepOf = perm.map((p) => inStrides[p]!); // input stride of each output axis
  const out = new Float32Array(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  let source = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[source]!;
    for (let d = outShape.length - 1; d >= 0; d--) {
      index[d]!++;
      source += stepOf[d]!;
      if (index[d]! < outShape[d]!) break;
      source -= stepOf[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/**
 * Moves the channel axis of a channels-first tensor to the end (or back), for
 * a tensor with `lead` axes before the channel axis: `lead = 1` for an input
 * `[B, C, ...]`, `lead = 2` for noise `[B, N, C, ...]`. `NF` is unchanged.
 */
export function channelsLast(
  data: Float32Array,
  shape: readonly number[],
  layout: OnnxLayout,
  lead = 1,
): { data: Float32Array; shape: number[] } {
  if (layout === 'NF') return { data, shape: [...shape] };
  const axes = shape.map((_, d) => d);
  const perm = [...axes.slice(0, lead), ...axes.slice(lead + 1), lead];
  return transpose(data, shape, perm);
}

/** The inverse of `channelsLast`: the last axis goes back to position `lead`. */
export function channelsFirst(
  data: Float32Array,
  shape: readonly number[],
  layout: OnnxLayout,
  lead = 1,
): { data: Float32Array; shape: number[] } {
  if (layout === 'NF') return { data, shape: [...shape] };
  const axes = shape.map((_, d) => d);
  const last = shape.length - 1;
  const perm = [...axes.slice(0, lead), last, ...axes.slice(lead, last)];
  return transpose(data, shape, perm);
}
