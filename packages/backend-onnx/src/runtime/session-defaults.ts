import type { InferenceSession } from 'onnxruntime-common';

const SPINNING_KEY = 'session.intra_op.allow_spinning';

/**
 * The session options the backend creates its sessions with: the caller's,
 * over two defaults that suit how the backend runs, each kept where the
 * caller sets it.
 *
 * - `enableMemPattern: false`. With a memory pattern, onnxruntime-node plans
 *   one block for all of a run's tensors after the first run, so the second
 *   run allocates (and page-faults) the whole activation memory a second
 *   time: at ResNet-18 224×224 with 64 rows, the first two runs each took
 *   about 2.5× a later run. Without it the arena reuses the first run's
 *   blocks from the second run on, equally fast afterwards.
 * - `session.intra_op.allow_spinning = '0'`. After a run, ONNX Runtime's
 *   idle intra-op threads spin-wait for the next one; between runs the
 *   JavaScript thread generates the next noise and accumulates moments, and
 *   the spinning threads take its cores: on 2 cores a VarGrad of the 1-D CNN
 *   with 64 samples took 10 ms with spinning, 5.7 ms without.
 */
export function sessionOptionsWithDefaults(options: InferenceSession.SessionOptions | undefined): InferenceSession.SessionOptions {
  const extra = options?.extra ?? {};
  return {
    enableMemPattern: false,
    ...options,
    extra: setsSpinning(extra) ? extra : mergeConfig(extra, { session: { intra_op: { allow_spinning: '0' } } }),
  };
}

/** Whether `extra` sets the spinning entry, nested (`session.intra_op.allow_spinning`) or by its dotted key. */
function setsSpinning(extra: Record<string, unknown>): boolean {
  if (SPINNING_KEY in extra) return true;
  const session = extra['session'];
  if (!isRecord(session)) return false;
  if ('intra_op.allow_spinning' in session) return true;
  const intraOp = session['intra_op'];
  return isRecord(intraOp) && 'allow_spinning' in intraOp;
}

function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = merged[key];
    merged[key] = isRecord(existing) && isRecord(value) ? mergeConfig(existing, value) : value;
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
