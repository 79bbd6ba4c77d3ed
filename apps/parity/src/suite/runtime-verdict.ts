import type { CellResult } from './results.js';

/**
 * The plain-session check of a fixture on one column: the unmodified model
 * (its static-batch copy, see `LoadedFixture.onnxStaticBatch`) run by the
 * runtime alone on the same execution provider, none of this project's code
 * in between, its logits scored against PyTorch's; or why it could not run.
 */
export type PlainSessionCheck =
  | { readonly ran: true; readonly relativeMaxError: number; readonly cosine: number }
  | { readonly ran: false; readonly error: string };

/** Where the check ran, for the reason's wording. */
export interface VerdictContext {
  /** e.g. `ONNX Runtime`. */
  readonly library: string;
  /** The execution provider / device, e.g. `webgl`. */
  readonly device: string;
}

/** The gap a cell gets when the runtime, alone, computes the model wrong. */
export const RUNTIME_WRONG_GAP = 'runtime computes model wrong';

const e = (value: number) => value.toExponential(2);

/**
 * Tells "the runtime computes the model itself wrong" from "our code is
 * wrong" for a cell past tolerance. It becomes a gap only with evidence: the
 * plain session on the same EP is past the same tolerance against PyTorch
 * too. Every gradient row runs the model's forward pass on that EP (the
 * backend differentiates the model's own graph), so a wrong forward pass
 * explains them as well; the reason says so. Without a plain check, when it
 * could not run, or when its logits are right, the cell stays a failure and
 * its reason carries what was measured. Cells not past tolerance are returned
 * as they are.
 */
export function runtimeVerdict(cell: CellResult, plain: PlainSessionCheck | undefined, where: VerdictContext): CellResult {
  if (cell.status !== 'fail' || plain === undefined) return cell;
  const ours = cell.relativeMaxError!;
  if (!plain.ran) {
    return {
      ...cell,
      reason: `the plain session could not run the unmodified model on ${where.library} ${where.device} to compare: ${plain.error}`,
    };
  }
  if (plain.relativeMaxError <= cell.tolerance) {
    return {
      ...cell,
      reason:
        `the plain session on ${where.library} ${where.device} computes the model's logits within tolerance ` +
        `(relative error ${e(plain.relativeMaxError)}), so the error (${e(ours)}) is not the runtime's forward pass`,
    };
  }
  const measured = `plain session relative error ${e(plain.relativeMaxError)}, cosine ${plain.cosine.toFixed(4)} (ours ${e(ours)})`;
  const forGradients =
    cell.row === 'logits'
      ? ''
      : `; this row's forward pass is that same wrong computation on the same EP, so its error is the runtime's too`;
  return {
    ...cell,
    status: 'gap',
    gapName: RUNTIME_WRONG_GAP,
    reason: `runtime computes the model itself wrong on ${where.library} ${where.device}: ${measured}${forGradients}`,
  };
}
