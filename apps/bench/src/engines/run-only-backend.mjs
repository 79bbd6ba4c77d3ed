/**
 * A GradientBackend that forwards the run methods of `backend` and nothing
 * else: no `checkInputShape` (see createOnnxEngine), and a `dispose` that
 * also frees what the engine built around it.
 */
export function runOnlyBackend(backend, dispose = () => backend.dispose?.()) {
  return {
    name: backend.name,
    logits: (x) => backend.logits(x),
    gradients: (x, targets) => backend.gradients(x, targets),
    ...(backend.gradientMoments ? { gradientMoments: (x, targets, n) => backend.gradientMoments(x, targets, n) } : {}),
    dispose,
  };
}
