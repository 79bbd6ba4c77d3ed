import { AttributionError, formatShape } from '@saliency/core';

/**
 * How much a model may make this package allocate. A model file is untrusted
 * input: a 400-byte file can ask for a `ConstantOfShape` of 2·10⁹ elements,
 * or a graph whose activations do not fit any memory. Each budget is checked
 * before the allocation it bounds and refused with `MODEL_TOO_LARGE`, naming
 * the node, the shape and the option that raises it.
 */
export interface ModelBudgets {
  /** Largest tensor that shape folding or the float64 evaluator may materialise, in elements. */
  readonly maxFoldedElements: number;
  /** Total bytes of the constants folded for one graph (held as float64, 8 bytes an element). */
  readonly maxFoldedBytes: number;
  /**
   * Largest intermediate value static shape inference may plan for one run,
   * in elements (rows × elements per row). A call of more rows runs as
   * several runs that fit; a single row over it is refused.
   */
  readonly maxActivationElements: number;
  /** Most nodes in the model's graphs, subgraphs included. */
  readonly maxNodes: number;
  /** Deepest nesting of subgraphs (`If`, `Loop`, `Scan` bodies); the main graph is depth 0. */
  readonly maxSubgraphDepth: number;
}

/**
 * Defaults sized for a browser tab, whose WebAssembly heap ends at 4 GiB
 * (the README's "Budgets" says why each is what it is).
 */
export const DEFAULT_BUDGETS: ModelBudgets = Object.freeze({
  // 32 MiB as float64: a [16, 3, 224, 224] mask folds; a 10⁹-element one does not.
  maxFoldedElements: 1 << 22,
  // 128 MiB: four folded tensors of the largest size.
  maxFoldedBytes: 1 << 27,
  // 256 MiB as float32: ResNet-18's largest activation at 224² is 802,816 elements a row, so 64 rows fit in one run.
  maxActivationElements: 1 << 26,
  // Far above real exports (ResNet-50 has about 120 nodes, BERT-large a few thousand).
  maxNodes: 100_000,
  // Real exports nest control flow a few levels deep.
  maxSubgraphDepth: 16,
});

const NAMES = Object.keys(DEFAULT_BUDGETS) as ReadonlyArray<keyof ModelBudgets>;

/** The defaults with the caller's overrides, each a positive integer (or Infinity, no bound). */
export function resolveBudgets(overrides: Partial<ModelBudgets> | undefined, where: string): ModelBudgets {
  if (overrides === undefined) return DEFAULT_BUDGETS;
  if (overrides === null || typeof overrides !== 'object') {
    throw new AttributionError('INVALID_OPTION', `${where}: option budgets must be an object with any of ${NAMES.join(', ')}`);
  }
  for (const key of Object.keys(overrides)) {
    if (!(NAMES as readonly string[]).includes(key)) {
      throw new AttributionError('INVALID_OPTION', `${where}: budgets.${key} is not a budget; the budgets are ${NAMES.join(', ')}`);
    }
    const value = (overrides as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value === Infinity || (Number.isSafeInteger(value) && value >= 1))) {
      throw new AttributionError('INVALID_OPTION', `${where}: budgets.${key} must be an integer ≥ 1 or Infinity, got ${String(value)}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return Object.freeze({ ...DEFAULT_BUDGETS, ...defined });
}

/** The product of `dims`, or Infinity where it is not a safe integer. */
export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return Number.isSafeInteger(count) ? count : Infinity;
}

export function tooLarge(where: string, what: string, budget: keyof ModelBudgets, budgets: ModelBudgets): AttributionError {
  return new AttributionError(
    'MODEL_TOO_LARGE',
    `${where}: ${what}, over the budget ${budget} = ${budgets[budget].toLocaleString('en-US')}; ` +
      `raise it with the budgets option of createOnnxBackend if the model is trusted and the memory is there`,
  );
}

/**
 * The folding budgets of one graph's inference: each constant it would
 * materialise is checked against `maxFoldedElements`, and against
 * `maxFoldedBytes` with the constants already folded, before it is allocated.
 */
export class FoldingBudget {
  #bytes = 0;

  constructor(readonly budgets: ModelBudgets = DEFAULT_BUDGETS) {}

  /** Throws `MODEL_TOO_LARGE` if a constant of shape `dims` may not be folded now. */
  check(dims: readonly number[], where: string): void {
    const count = elementCount(dims);
    if (count > this.budgets.maxFoldedElements) {
      throw tooLarge(
        where,
        `folding a constant of shape ${formatShape(dims)} would hold ${describeCount(count)} elements`,
        'maxFoldedElements',
        this.budgets,
      );
    }
    if (this.#bytes + count * 8 > this.budgets.maxFoldedBytes) {
      throw tooLarge(
        where,
        `folding a constant of shape ${formatShape(dims)} (${(count * 8).toLocaleString('en-US')} bytes) after ${this.#bytes.toLocaleString('en-US')} bytes of folded constants`,
        'maxFoldedBytes',
        this.budgets,
      );
    }
  }

  /** Whether constants of these shapes fit under both budgets (ordinary ops are then folded; otherwise left to the runtime). */
  fits(shapes: ReadonlyArray<readonly number[]>): boolean {
    const counts = shapes.map(elementCount);
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.every((n) => n <= this.budgets.maxFoldedElements) && this.#bytes + total * 8 <= this.budgets.maxFoldedBytes;
  }

  /** Counts a constant that was folded. */
  add(elements: number): void {
    this.#bytes += elements * 8;
  }
}

/** Refuses a value of shape `shape` that one run would hold beyond `maxActivationElements`. */
export function checkActivation(shape: readonly number[], budgets: ModelBudgets, where: string): void {
  const count = elementCount(shape);
  if (count > budgets.maxActivationElements) {
    throw tooLarge(
      where,
      `a value of shape ${formatShape(shape)} (${describeCount(count)} elements) for this call`,
      'maxActivationElements',
      budgets,
    );
  }
}

/** No bound: for re-inferring a graph this package built itself, from a model already checked. */
export const UNBOUNDED_BUDGETS: ModelBudgets = Object.freeze({
  maxFoldedElements: Infinity,
  maxFoldedBytes: Infinity,
  maxActivationElements: Infinity,
  maxNodes: Infinity,
  maxSubgraphDepth: Infinity,
});

export function describeCount(count: number): string {
  return Number.isFinite(count) ? count.toLocaleString('en-US') : 'more than 2^53';
}
