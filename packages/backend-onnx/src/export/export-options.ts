import {
  AttributionError,
  checkOutputPosition,
  describeValue,
  formatShape,
  methodRule,
  parseMethodName,
  resolveOptions,
  sizeOf,
  softmaxOption,
  type AttributionOptions,
  type FeedTensor,
  type MethodName,
  type OutputPosition,
  type ResolvedOptions,
} from '@saliency/core';
import type { ModelBudgets } from '../model/budgets.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../execution-provider/execution-provider.js';
import { EXPORTABLE_LAYER_METHODS } from './cam-in-graph.js';
import { NOISE_INPUT } from './export-names.js';
import type { NoiseSource } from './rows-in-graph.js';

/** The attribution options an exported model bakes in; the others concern a run (target, noise tensor, batching, progress). */
const BAKED_OPTIONS = ['numSamples', 'noiseScale', 'noiseLevel', 'seed', 'unbiased', 'mu', 'steps', 'baseline', 'layer'] as const;

export interface ExportOptions extends Pick<AttributionOptions, (typeof BAKED_OPTIONS)[number]> {
  /**
   * The method in SignXAI's grammar, e.g. `vargrad`, `smoothgrad_x_input`,
   * `integrated_gradients_x_sign_mu_neg_0_5`, `grad_cam`, `lrp_epsilon_0_1`,
   * `lrpsign_z`. Layer methods (Grad-CAM) read `layer`: the tensor whose
   * activation is explained, as the backend names it (default: the last
   * feature map before global pooling or flattening).
   */
  readonly method: string;
  /**
   * The input shape the model is exported for, batch axis first; every
   * dimension is fixed in the exported graph. Default: the model's declared
   * shape with a free batch axis set to 1.
   */
  readonly inputShape?: readonly number[];
  /**
   * Noisy methods: `'input'` (default), a float32 input `saliency/noise` of
   * shape `[B, N, ...S]` added as it is (ε, already scaled, like the `noise`
   * option); or `'in-graph'`, σ · RandomNormal(seed) made inside the graph,
   * with σ from `noiseScale` or `noiseLevel`.
   */
  readonly noiseSource?: NoiseSource;
  /**
   * `'argmax'` (default): each example's target is the first index of its
   * largest clean logit; `'input'`: an int64 input `saliency/target` of shape `[B]`.
   */
  readonly targetSource?: 'argmax' | 'input';
  readonly inputName?: string;
  readonly outputName?: string;
  readonly softmax?: 'strip' | 'keep';
  /** One position of a sequence or dense output, as the backend's option (docs/methods.md, "Output position"). */
  readonly outputPosition?: OutputPosition;
  /** The execution provider whose op forms the graph uses (default `'cpu'`, which runs anywhere). */
  readonly executionProvider?: ExecutionProvider;
  readonly externalData?: ReadonlyMap<string, Uint8Array>;
  /** What reading and building may allocate (`model/budgets.ts`), as the backend's option. */
  readonly budgets?: Partial<ModelBudgets>;
  /**
   * The shape, batch axis first (the batch of `inputShape`), of each other
   * graph input the output needs (an attention mask, a second image): each
   * stays an input of the exported model, one row per example, which the
   * noisy samples and path points of that example read. Default: its
   * declared shape, where every dimension past the batch axis is declared.
   */
  readonly feedShapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Values of other graph inputs, as the backend's option `feeds` takes
   * them (a scalar of shape [], a state [2, 1 or B, H] on its batch axis),
   * held fixed in the exported graph: a scalar folded into it, so that the
   * `If` nodes on it are decided (a sample rate); any other a constant with
   * its example's row for each example. An input in neither `feeds` nor
   * `feedShapes` stays an input of the exported model.
   */
  readonly feeds?: Readonly<Record<string, FeedTensor>>;
}

const EXPORT_KEYS: readonly string[] = [
  'method',
  'feedShapes',
  'feeds',
  'inputShape',
  'noiseSource',
  'targetSource',
  'inputName',
  'outputName',
  'softmax',
  'outputPosition',
  'executionProvider',
  'externalData',
  'budgets',
  ...BAKED_OPTIONS,
];

export interface ResolvedExport {
  readonly method: MethodName;
  readonly attribution: ResolvedOptions;
  readonly noiseSource: NoiseSource;
  readonly targetSource: 'argmax' | 'input';
  readonly keepSoftmax: boolean;
  readonly outputPosition?: OutputPosition;
  readonly executionProvider: ExecutionProvider;
}

function invalid(message: string): AttributionError {
  return new AttributionError('INVALID_OPTION', `exportAttributionModel: ${message}`);
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalid(`option ${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${describeValue(value)}`);
  }
  return value as T;
}

/** Checks every export option before any graph is built; the attribution options by core's own checks. */
export function resolveExportOptions(options: ExportOptions): ResolvedExport {
  if (options === null || typeof options !== 'object')
    throw invalid(`the options must be an object with at least a method; got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!EXPORT_KEYS.includes(key)) throw invalid(`unknown option "${key}"; known options: ${EXPORT_KEYS.join(', ')}`);
  }
  const method = parseMethodName(options.method);
  const noiseSource = oneOf('noiseSource', options.noiseSource, ['input', 'in-graph'], 'input');
  const generatorKeys = (['noiseScale', 'noiseLevel', 'seed'] as const).filter((key) => options[key] !== undefined);
  if (noiseSource === 'input' && generatorKeys.length > 0) {
    throw invalid(
      `${generatorKeys.join(', ')} set${generatorKeys.length === 1 ? 's' : ''} the noise made in the graph (noiseSource: 'in-graph'); ` +
        `the noise input ${NOISE_INPUT} is added as it is, so feed it ε already scaled`,
    );
  }
  if (options.layer !== undefined && methodRule(method.base).layer === undefined) {
    throw invalid(
      `option layer names the layer a layer method explains (${EXPORTABLE_LAYER_METHODS.join(', ')}); ${options.method} reads none ` +
        '(an exported model is attributed at the model input)',
    );
  }
  const baked: Record<string, unknown> = {};
  for (const key of BAKED_OPTIONS) if (options[key] !== undefined) baked[key] = options[key];
  return {
    method,
    attribution: resolveOptions(method, {}, baked as AttributionOptions),
    noiseSource,
    targetSource: oneOf('targetSource', options.targetSource, ['argmax', 'input'], 'argmax'),
    keepSoftmax: softmaxOption('exportAttributionModel', options.softmax) === 'keep',
    ...(options.outputPosition === undefined
      ? {}
      : { outputPosition: checkOutputPosition(options.outputPosition, 'exportAttributionModel') }),
    executionProvider: oneOf('executionProvider', options.executionProvider, EXECUTION_PROVIDERS, 'cpu'),
  };
}

/** The static input shape: `inputShape`, which must fit the declared one, or the declared one with a free batch axis of 1. */
export function exportInputShape(
  inputName: string,
  declared: ReadonlyArray<number | null>,
  wanted: readonly number[] | undefined,
): number[] {
  const shown = `[${declared.map((d) => d ?? '?').join(', ')}]`;
  if (wanted === undefined) {
    const shape = declared.map((d, axis) => d ?? (axis === 0 ? 1 : null));
    if (declared.length < 2 || shape.includes(null)) {
      throw invalid(`input "${inputName}" has shape ${shown}; give inputShape with every dimension, batch axis first`);
    }
    return shape as number[];
  }
  const fits =
    Array.isArray(wanted) &&
    wanted.length === declared.length &&
    wanted.every((d, axis) => Number.isInteger(d) && d >= 1 && (declared[axis] === null || declared[axis] === d));
  if (!fits || wanted.length < 2) {
    throw new AttributionError(
      'INVALID_SHAPE',
      `exportAttributionModel: inputShape ${Array.isArray(wanted) ? formatShape(wanted) : describeValue(wanted)} does not fit input "${inputName}" of shape ${shown}; ` +
        'give a positive integer for every dimension, batch axis first, equal to the declared ones',
    );
  }
  return [...wanted];
}

/** A baseline tensor must hold one example or the whole batch (docs/methods.md, "Integrated Gradients"). */
export function checkBaseline(baseline: ResolvedOptions['baseline'], shape: readonly number[]): void {
  if (typeof baseline === 'number') return;
  const size = baseline?.data?.length;
  if (!(baseline?.data instanceof Float32Array) || (size !== sizeOf(shape) && size !== sizeOf(shape.slice(1)))) {
    throw invalid(
      `baseline must be a float32 HostTensor of shape ${formatShape(shape.slice(1))} or ${formatShape(shape)}; got ${describeValue(baseline)}`,
    );
  }
  if (!baseline.data.every(Number.isFinite))
    throw new AttributionError('NON_FINITE_INPUT', 'exportAttributionModel: baseline holds a NaN or ±Infinity');
}
