import { formatDuration } from './progress.js';
import { formatTopTokens, type TokenRelevance } from './tokens.js';

/** One class of the model's output with its score. */
export interface ClassScore {
  readonly index: number;
  /** The softmax probability (K > 1 classes), or the raw logit (K = 1). */
  readonly score: number;
}

/** What the model said about the clean input, for the summary. */
export interface ClassSummary {
  /** The explained class. */
  readonly target: number;
  /**
   * `probability`: scores are the softmax of the logits (the backends strip a
   * final softmax, so this is the model's own probability when it ends in one);
   * `logit`: a single output, shown as it is.
   */
  readonly kind: 'probability' | 'logit';
  /** The explained class's score. */
  readonly score: number;
  /** The `k` best classes, best first. */
  readonly top: readonly ClassScore[];
}

/**
 * Softmax in float64, shifted by the largest logit so that no exponential
 * overflows: `p_k = exp(z_k − max z) / Σ_j exp(z_j − max z)`.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]!);
  const out = Float64Array.from(logits, (z) => Math.exp(z - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((p) => p / sum);
}

/** The class summary of one example's logits `[K]`, the target explained and the top `k`. */
export function summarizeClasses(logits: ArrayLike<number>, target: number, k: number): ClassSummary {
  const kind = logits.length > 1 ? 'probability' : 'logit';
  const scores = kind === 'probability' ? softmax(logits) : Float64Array.from(logits);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return {
    target,
    kind,
    score: scores[target]!,
    top: order.slice(0, Math.max(1, k)).map((index) => ({ index, score: scores[index]! })),
  };
}

/** The argmax of one example's logits, the first on ties (core's default target). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k]! > logits[best]!) best = k;
  return best;
}

function score(kind: ClassSummary['kind'], value: number): string {
  if (kind === 'logit') return `logit ${value.toPrecision(4)}`;
  return value >= 0.001 || value === 0 ? value.toFixed(3) : value.toExponential(1);
}

/** Seconds with one decimal below a minute (`0.4s`), else as `formatDuration`. */
function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms / 1000);
}

export interface RunSummary {
  readonly method: string;
  readonly backend: string;
  readonly classes: ClassSummary | undefined;
  readonly loadMs: number;
  readonly explainMs: number;
  readonly mapShape: readonly number[];
  readonly written: readonly string[];
  /** Token ids as input: each token's relevance, of which the `topK` most relevant are listed. */
  readonly tokens?: readonly TokenRelevance[];
  /** Where the per-token map went (`--out`), when it was written. */
  readonly tokenTable?: string;
  readonly topK?: number;
}

/**
 * The lines printed after a run:
 *
 * ```
 * explained class 3 (probability 0.998) with vargrad on onnx-node
 * top 5: 3 0.998 · 5 0.001 · 8 3.1e-4 · 9 1.0e-4 · 2 2.0e-5
 * time: 0.4s loading (model read, first forward pass), 1.2s explaining
 * map [1, 1, 28, 28] written to heatmap.png, overlay.png
 * ```
 *
 * and for token ids the most relevant tokens (`formatTopTokens`) before the last line.
 */
export function formatRunSummary(s: RunSummary): string {
  const lines: string[] = [];
  const c = s.classes;
  if (c === undefined) lines.push(`explained with ${s.method} on ${s.backend}`);
  else {
    const what = c.kind === 'probability' ? `probability ${score(c.kind, c.score)}` : score(c.kind, c.score);
    lines.push(`explained class ${c.target} (${what}) with ${s.method} on ${s.backend}`);
    if (c.kind === 'probability')
      lines.push(`top ${c.top.length}: ${c.top.map((t) => `${t.index} ${score(c.kind, t.score)}`).join(' · ')}`);
  }
  lines.push(`time: ${seconds(s.loadMs)} loading (model read, first forward pass), ${seconds(s.explainMs)} explaining`);
  if (s.tokens !== undefined) lines.push(...formatTopTokens(s.tokens, s.topK ?? 5));
  if (s.tokenTable !== undefined) lines.push(`per-token map [${s.tokens?.length ?? 0}, 2] (columns: sum, L2) written to ${s.tokenTable}`);
  const at = s.tokens === undefined ? '' : ' at the embeddings';
  if (s.written.length > 0) lines.push(`map [${s.mapShape.join(', ')}]${at} written to ${s.written.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The summary of a finished run, from its options and result. */
export function runSummary(
  options: { readonly method: string; readonly out?: string; readonly overlay?: string; readonly raw?: string; readonly topK?: number },
  result: {
    readonly backend: string;
    readonly classes: ClassSummary | undefined;
    readonly loadMs: number;
    readonly explainMs: number;
    readonly map: { readonly shape: readonly number[] };
    readonly tokens?: readonly TokenRelevance[] | undefined;
  },
): RunSummary {
  return {
    method: options.method,
    backend: result.backend,
    classes: result.classes,
    loadMs: result.loadMs,
    explainMs: result.explainMs,
    mapShape: result.map.shape,
    written: [result.tokens === undefined ? options.out : undefined, options.overlay, options.raw].filter(
      (p): p is string => p !== undefined,
    ),
    ...(result.tokens === undefined ? {} : { tokens: result.tokens }),
    ...(result.tokens === undefined || options.out === undefined ? {} : { tokenTable: options.out }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
  };
}
