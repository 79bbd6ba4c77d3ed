import type { RuntimeId } from '@saliency/core';

/**
 * Errors that are known limits of a runtime, or a capability a backend states
 * it lacks (core's `UNSUPPORTED_METHOD`, naming what is missing), not bugs of
 * this project's code. A cell that throws one is a named gap; any other error
 * fails the run, so a bug never hides as a gap. Each entry says what the
 * limit means for a user.
 */
export interface KnownLimit {
  /** Short name shown in the matrix. */
  readonly name: string;
  readonly matches: (message: string, runtime: RuntimeId) => boolean;
  /** Why, in terms of the runtime. */
  readonly reason: (message: string) => string;
}

const kernelOf = (message: string) => /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(message);
const missingLayerGradients = (message: string) =>
  /needs layer activations and gradients \(layerGradients\), which backend (\S+) does not offer/.exec(message);
const missingRuleSet = (message: string) => /needs the modified backward pass "([^"]+)", which backend (\S+) does not run/.exec(message);
const opOf = (message: string) => /(?:op|operator)[^A-Za-z]*'?([A-Z][A-Za-z0-9]*)'?/.exec(message);

export const KNOWN_LIMITS: readonly KnownLimit[] = [
  {
    name: 'tfjs kernel missing',
    matches: (message) => kernelOf(message) !== null,
    reason: (message) => {
      const [, kernel, backend] = kernelOf(message)!;
      return `TF.js ${backend} has no ${kernel} kernel (TF.js 4.22; no fallback between TF.js backends)`;
    },
  },
  {
    name: 'no layer attribution',
    matches: (message) => missingLayerGradients(message) !== null,
    reason: (message) =>
      `backend ${missingLayerGradients(message)![1]} offers no layerGradients (a layer's activation and gradient), ` +
      'so it cannot run Grad-CAM yet; its map needs no runtime feature the backend lacks, only that capability of ours',
  },
  {
    name: 'no backward rule set',
    matches: (message) => missingRuleSet(message) !== null,
    reason: (message) => {
      const [, set, backend] = missingRuleSet(message)!;
      return `backend ${backend} does not run the modified backward pass "${set}" yet`;
    },
  },
  {
    name: 'onnx-webgl no 1-D Conv',
    matches: (message, runtime) => runtime === 'onnx-webgl' && /only support 2-dimensional conv/.test(message),
    reason: () =>
      "onnxruntime-web's WebGL EP implements Conv for 2-D images only ('currently only support 2-dimensional conv'): a 1-D convolution model cannot run there at all, not even its forward pass",
  },
  {
    name: 'onnx-webgl op missing',
    matches: (message, runtime) => runtime === 'onnx-webgl' && /cannot resolve operator|unsupported|not supported/i.test(message),
    reason: (message) =>
      `onnxruntime-web's WebGL EP (maintenance mode, no CPU fallback) lacks an op of the gradient graph: ${opOf(message)?.[1] ?? message}`,
  },
];

/** The gap a message stands for, or undefined when it is not a known runtime limit. */
export function knownGap(message: string, runtime: RuntimeId): { name: string; reason: string } | undefined {
  const limit = KNOWN_LIMITS.find((l) => l.matches(message, runtime));
  return limit && { name: limit.name, reason: limit.reason(message) };
}
