/*
 * Plain-JS float64 versions of the test models, independent of TF.js: the
 * forward pass and its exact gradient (ReLU' (0) = 0, max pooling to the first
 * maximum of each window in row-major order). Layouts follow TF.js: NHWC,
 * conv kernels [kh, kw, inC, outC], dense kernels [in, out], flatten in
 * (h, w, c) order.
 */

export type Activation = 'linear' | 'relu' | 'softmax' | 'sigmoid';
export type Padding = 'same' | 'valid';

export type LayerSpec =
  | { kind: 'dense'; units: number; activation: Activation; kernel: Float64Array; bias: Float64Array }
  | {
      kind: 'conv2d';
      filters: number;
      kernelSize: number;
      strides: number;
      padding: Padding;
      activation: Activation;
      kernel: Float64Array;
      bias: Float64Array;
    }
  | { kind: 'maxPool'; poolSize: number; strides: number; padding: Padding }
  | { kind: 'flatten' };

export interface ModelSpec {
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
}

/** Output size and leading padding of a TF 'same'/'valid' window along one axis. */
export function windowGeometry(size: number, window: number, stride: number, padding: Padding) {
  if (padding === 'valid') return { out: Math.ceil((size - window + 1) / stride), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, before: Math.floor(total / 2) };
}

interface Step {
  readonly shape: readonly number[];
  readonly input: Float64Array;
  readonly output: Float64Array;
  readonly preActivation?: Float64Array;
  /** For max pooling: the input index of the first maximum of each output. */
  readonly argmax?: Int32Array;
}

function activate(z: Float64Array, activation: Activation): Float64Array {
  if (activation === 'linear') return z;
  if (activation === 'relu') return z.map((v) => Math.max(v, 0));
  if (activation === 'sigmoid') return z.map((v) => 1 / (1 + Math.exp(-v)));
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** dz from dy through the activation, at pre-activation z with output y. */
function activateBackward(dy: Float64Array, z: Float64Array, y: Float64Array, activation: Activation): Float64Array {
  if (activation === 'linear') return dy;
  if (activation === 'relu') return dy.map((d, i) => (z[i]! > 0 ? d : 0));
  if (activation === 'sigmoid') return dy.map((d, i) => d * y[i]! * (1 - y[i]!));
  let dot = 0;
  for (let i = 0; i < y.length; i++) dot += dy[i]! * y[i]!;
  return y.map((v, i) => v * (dy[i]! - dot));
}

function runLayer(layer: LayerSpec, x: Float64Array, shape: readonly number[]): { step: Step; shape: number[] } {
  switch (layer.kind) {
    case 'dense': {
      const inDim = x.length;
      const z = new Float64Array(layer.units);
      for (let o = 0; o < layer.units; o++) {
        let s = layer.bias[o]!;
        for (let i = 0; i < inDim; i++) s += x[i]! * layer.kernel[i * layer.units + o]!;
        z[o] = s;
      }
      const y = activate(z, layer.activation);
      return { step: { shape, input: x, output: y, preActivation: z }, shape: [layer.units] };
    }
    case 'conv2d': {
      const [h, w, c] = shape as [number, number, number];
      const k = layer.kernelSize;
      const gh = windowGeometry(h, k, layer.strides, layer.padding);
      const gw = windowGeometry(w, k, layer.strides, layer.padding);
      const f = layer.filters;
      const z = new Float64Array(gh.out * gw.out * f);
      for (let oy = 0; oy < gh.out; oy++)
        for (let ox = 0; ox < gw.out; ox++)
          for (let o = 0; o < f; o++) {
            let s = layer.bias[o]!;
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = oy * layer.strides + ky - gh.before;
                const ix = ox * layer.strides + kx - gw.before;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                for (let ci = 0; ci < c; ci++) {
                  s += x[(iy * w + ix) * c + ci]! * layer.kernel[((ky * k + kx) * c + ci) * f + o]!;
                }
              }
            z[(oy * gw.out + ox) * f + o] = s;
          }
      const y = activate(z, layer.activation === 'softmax' ? 'linear' : layer.activation);
      return { step: { shape, input: x, output: y, preActivation: z }, shape: [gh.out, gw.out, f] };
    }
    case 'maxPool': {
      const [h, w, c] = shape as [number, number, number];
      const k = layer.poolSize;
      const gh = windowGeometry(h, k, layer.strides, layer.padding);
      const gw = windowGeometry(w, k, layer.strides, layer.padding);
      const y = new Float64Array(gh.out * gw.out * c);
      const argmax = new Int32Array(y.length);
      for (let oy = 0; oy < gh.out; oy++)
        for (let ox = 0; ox < gw.out; ox++)
          for (let ci = 0; ci < c; ci++) {
            let best = -Infinity;
            let at = -1;
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = oy * layer.strides + ky - gh.before;
                const ix = ox * layer.strides + kx - gw.before;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const index = (iy * w + ix) * c + ci;
                // Strictly greater: a later equal value never displaces the first.
                if (x[index]! > best) {
                  best = x[index]!;
                  at = index;
                }
              }
            const o = (oy * gw.out + ox) * c + ci;
            y[o] = best;
            argmax[o] = at;
          }
      return { step: { shape, input: x, output: y, argmax }, shape: [gh.out, gw.out, c] };
    }
    case 'flatten':
      return { step: { shape, input: x, output: x }, shape: [x.length] };
  }
}

function backLayer(layer: LayerSpec, step: Step, dy: Float64Array): Float64Array {
  switch (layer.kind) {
    case 'dense': {
      const dz = activateBackward(dy, step.preActivation!, step.output, layer.activation);
      const dx = new Float64Array(step.input.length);
      for (let i = 0; i < dx.length; i++) {
        let s = 0;
        for (let o = 0; o < layer.units; o++) s += dz[o]! * layer.kernel[i * layer.units + o]!;
        dx[i] = s;
      }
      return dx;
    }
    case 'conv2d': {
      const dz = activateBackward(dy, step.preActivation!, step.output, layer.activation === 'softmax' ? 'linear' : layer.activation);
      const [h, w, c] = step.shape as [number, number, number];
      const k = layer.kernelSize;
      const gh = windowGeometry(h, k, layer.strides, layer.padding);
      const gw = windowGeometry(w, k, layer.strides, layer.padding);
      const f = layer.filters;
      const dx = new Float64Array(step.input.length);
      for (let oy = 0; oy < gh.out; oy++)
        for (let ox = 0; ox < gw.out; ox++)
          for (let o = 0; o < f; o++) {
            const d = dz[(oy * gw.out + ox) * f + o]!;
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = oy * layer.strides + ky - gh.before;
                const ix = ox * layer.strides + kx - gw.before;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                for (let ci = 0; ci < c; ci++) {
                  dx[(iy * w + ix) * c + ci]! += d * layer.kernel[((ky * k + kx) * c + ci) * f + o]!;
                }
              }
          }
      return dx;
    }
    case 'maxPool': {
      const dx = new Float64Array(step.input.length);
      step.argmax!.forEach((at, o) => {
        dx[at]! += dy[o]!;
      });
      return dx;
    }
    case 'flatten':
      return dy;
  }
}

/** The float64 model of a spec: one example at a time, flat, as core's reference takes it. */
export function float64Model(spec: ModelSpec) {
  const forward = (example: Float64Array) => {
    const steps: Step[] = [];
    let x = example;
    let shape: readonly number[] = spec.inputShape;
    for (const layer of spec.layers) {
      const result = runLayer(layer, x, shape);
      steps.push(result.step);
      x = result.step.output;
      shape = result.shape;
    }
    return { logits: x, steps };
  };
  return {
    logits: (example: Float64Array): Float64Array => forward(example).logits,
    gradient: (example: Float64Array, target: number): Float64Array => {
      const { logits, steps } = forward(example);
      let d: Float64Array = new Float64Array(logits.length);
      d[target] = 1;
      for (let i = spec.layers.length - 1; i >= 0; i--) d = backLayer(spec.layers[i]!, steps[i]!, d);
      return d;
    },
  };
}
