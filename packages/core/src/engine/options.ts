import { AttributionError, describeValue } from '../errors.js';
import type { MethodName } from '../methods/method-name.js';
import { methodRule } from '../methods/registry.js';
import type { NoiseInput } from '../noise/noise-source.js';
import type { HostTensor } from '../tensor.js';

/** Reported after every backend call of a run. */
export interface Progress {
  /** Model rows (examples × samples or steps) whose gradients are done. */
  readonly done: number;
  readonly total: number;
}

/**
 * Options of every method; each method reads the ones that concern it.
 * A class's constructor takes them as defaults and `attribute` per call;
 * a per-call value wins.
 */
export interface AttributionOptions {
  /**
   * The class whose logit is explained: one for all examples, one per
   * example, or by default the argmax of the clean input's logits.
   */
  target?: number | readonly number[];
  /** Seed of the noise generator (SmoothGrad, VarGrad). Default 0. */
  seed?: number;
  /** Most model rows (examples × samples) in one backend call. Default 64. */
  batchSize?: number;
  /** Noisy samples per example (SmoothGrad, VarGrad). Default 16. */
  numSamples?: number;
  /** Absolute σ of the Gaussian noise. Default 1.0. */
  noiseScale?: number;
  /** σ relative to each example's range: σ_b = noiseLevel · (max x_b − min x_b). */
  noiseLevel?: number;
  /** Caller-supplied noise ε, used as it is instead of the seeded generator. */
  noise?: NoiseInput;
  /** VarGrad divides by N − 1 instead of N. Default false. */
  unbiased?: boolean;
  /** Threshold of the sign modifier: s_μ(x) = −1 where x < μ, +1 elsewhere. Default 0. */
  mu?: number;
  /** Riemann steps of Integrated Gradients. Default 50. */
  steps?: number;
  /** Baseline x' of Integrated Gradients: a number or a tensor shaped like the input or one example. Default 0. */
  baseline?: number | HostTensor;
  /**
   * Layer methods (Grad-CAM): the layer whose activation is explained, in
   * the backend's naming (an ONNX tensor name). Default: the backend's
   * choice, the last spatial feature map before global pooling or flattening.
   */
  layer?: string;
  /** Called after each backend call. */
  onProgress?: (progress: Progress) => void;
  /**
   * Stops the run: checked before any work and between backend calls (a call
   * already running finishes first), then the run rejects with an
   * `AttributionError` of code `ABORTED` whose `cause` is `signal.reason`.
   * Nothing the run allocated is kept: backends hold nothing between calls.
   */
  signal?: AbortSignal;
}

/** Every key of `AttributionOptions`: any other key is refused, since JavaScript callers misspell keys. */
export const OPTION_KEYS: readonly (keyof AttributionOptions)[] = [
  'target',
  'seed',
  'batchSize',
  'numSamples',
  'noiseScale',
  'noiseLevel',
  'noise',
  'unbiased',
  'mu',
  'steps',
  'baseline',
  'layer',
  'onProgress',
  'signal',
];

export const DEFAULTS = {
  seed: 0,
  batchSize: 64,
  numSamples: 16,
  noiseScale: 1.0,
  unbiased: false,
  mu: 0,
  steps: 50,
} as const;

/**
 * The most noisy samples (and Integrated Gradients steps) per example. The
 * Monte-Carlo error of SmoothGrad and VarGrad falls as 1/√N, so 10⁶ samples
 * already put it at 0.1 % of the spread, below what a float32 map resolves
 * when accumulated; more only costs time (10⁶ model rows per example are
 * hours on a small CNN) and soon overflows what a caller meant. A larger
 * value is almost always a typo or a unit mistake, so it is refused.
 */
export const MAX_NUM_SAMPLES = 1_000_000;

/** How σ is set for an example: absolute, or relative to the example's range. */
export type NoiseSigma = { readonly kind: 'scale'; readonly value: number } | { readonly kind: 'level'; readonly value: number };

/** Options after defaults, overrides and checks. */
export interface ResolvedOptions {
  readonly target: number | readonly number[] | undefined;
  readonly seed: number;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly sigma: NoiseSigma;
  readonly noise: NoiseInput | undefined;
  readonly unbiased: boolean;
  readonly mu: number;
  readonly steps: number;
  readonly baseline: number | HostTensor;
  readonly layer: string | undefined;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

function invalid(message: string): AttributionError {
  return new AttributionError('INVALID_OPTION', message);
}

function requireInteger(name: string, value: unknown, min: number, why = ''): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer ≥ ${min}${why}; got ${describeValue(value)}`);
  }
}

function requireAtMost(name: string, value: number, max: number): void {
  if (value > max) {
    throw invalid(`${name} must be at most ${max.toLocaleString('en-US')} (MAX_NUM_SAMPLES); got ${String(value)}`);
  }
}

function requireFiniteNonNegative(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${name} must be a finite number ≥ 0; got ${describeValue(value)}`);
  }
}

/**
 * Refuses keys that are not options (a misspelt `numSample` would otherwise
 * be ignored in silence) and values of the wrong JavaScript type, naming the
 * value as given: `numSamples: '8'` is the string "8", not 8.
 */
function checkKeysAndTypes(options: AttributionOptions, where: string): void {
  if (options === null || typeof options !== 'object') {
    throw invalid(`${where} must be an object of options; got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw invalid(`unknown option "${key}" in ${where}; known options: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const wrongType = (key: string, expected: string) =>
    invalid(`${key} must be ${expected}; got ${describeValue((options as Record<string, unknown>)[key])}`);
  for (const key of ['seed', 'batchSize', 'numSamples', 'noiseScale', 'noiseLevel', 'mu', 'steps'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'number') throw wrongType(key, 'a number');
  }
  if (options.unbiased !== undefined && typeof options.unbiased !== 'boolean') throw wrongType('unbiased', 'true or false');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw wrongType('onProgress', 'a function');
  if (options.layer !== undefined && (typeof options.layer !== 'string' || options.layer === ''))
    throw wrongType('layer', 'a tensor or layer name');
  const { baseline } = options;
  if (baseline !== undefined && typeof baseline !== 'number' && (typeof baseline !== 'object' || baseline === null)) {
    throw wrongType('baseline', 'a number or a HostTensor');
  }
  const { noise } = options;
  if (noise !== undefined && typeof noise !== 'function' && (typeof noise !== 'object' || noise === null)) {
    throw wrongType('noise', 'a HostTensor or a function (example, sample, out) => void');
  }
}

/**
 * Merges per-call options over defaults and checks every value the method
 * reads, before any work. Setting one of `noiseScale` and `noiseLevel` in a
 * call replaces the other from the defaults; setting both in one place is an
 * error, since they disagree about what σ is.
 */
export function resolveOptions(method: MethodName, defaults: AttributionOptions, call: AttributionOptions): ResolvedOptions {
  checkKeysAndTypes(defaults, 'the default options');
  checkKeysAndTypes(call, 'the options');
  const sigmaIn = (o: AttributionOptions) => o.noiseScale !== undefined || o.noiseLevel !== undefined;
  const sigmaSource = sigmaIn(call) ? call : defaults;
  if (sigmaSource.noiseScale !== undefined && sigmaSource.noiseLevel !== undefined) {
    throw invalid(
      `noiseScale (${sigmaSource.noiseScale}) and noiseLevel (${sigmaSource.noiseLevel}) were both given; ` +
        'choose an absolute σ (noiseScale) or one relative to the input range (noiseLevel)',
    );
  }
  const merged: AttributionOptions = { ...defaults, ...call };
  const rule = methodRule(method.base);

  const seed = merged.seed ?? DEFAULTS.seed;
  requireInteger('seed', seed, 0);
  const batchSize = merged.batchSize ?? DEFAULTS.batchSize;
  requireInteger('batchSize', batchSize, 1);
  const unbiased = merged.unbiased ?? DEFAULTS.unbiased;
  const numSamples = merged.numSamples ?? DEFAULTS.numSamples;
  const steps = merged.steps ?? DEFAULTS.steps;
  // The rows the rule runs are checked; the other count is passed on unread.
  const minimum = rule.minimumRows?.({ unbiased }) ?? { rows: 1, why: '' };
  if (rule.rows === 'noisy-samples') {
    requireInteger('numSamples', numSamples, minimum.rows, minimum.why);
    requireAtMost('numSamples', numSamples, MAX_NUM_SAMPLES);
  } else if (rule.rows === 'path-points') {
    requireInteger('steps', steps, minimum.rows, minimum.why);
    requireAtMost('steps', steps, MAX_NUM_SAMPLES);
  }
  let sigma: NoiseSigma = { kind: 'scale', value: DEFAULTS.noiseScale };
  if (sigmaSource.noiseLevel !== undefined) {
    requireFiniteNonNegative('noiseLevel', sigmaSource.noiseLevel);
    sigma = { kind: 'level', value: sigmaSource.noiseLevel };
  } else if (sigmaSource.noiseScale !== undefined) {
    requireFiniteNonNegative('noiseScale', sigmaSource.noiseScale);
    sigma = { kind: 'scale', value: sigmaSource.noiseScale };
  }
  const signal = merged.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw invalid(`signal must be an AbortSignal (from an AbortController); got ${String(signal)}`);
  }

  let mu = method.modifiers.mu;
  if (merged.mu !== undefined) {
    if (typeof merged.mu !== 'number' || !Number.isFinite(merged.mu)) {
      throw invalid(`mu must be a finite number; got ${describeValue(merged.mu)}`);
    }
    if (mu !== 0 && merged.mu !== mu) {
      throw invalid(`mu: the method name sets μ = ${mu} but the options set mu = ${merged.mu}; give it once`);
    }
    mu = merged.mu;
  }
  const baseline = merged.baseline ?? 0;
  if (typeof baseline === 'number' && !Number.isFinite(baseline)) {
    throw invalid(`baseline must be finite; got ${baseline}`);
  }
  return {
    target: merged.target,
    seed,
    batchSize,
    numSamples,
    sigma,
    noise: merged.noise,
    unbiased,
    mu,
    steps,
    baseline,
    layer: merged.layer,
    onProgress: merged.onProgress,
    signal,
  };
}

/** An AbortSignal by its shape, so that a polyfilled or another realm's signal is taken too. */
function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && 'reason' in value;
}
