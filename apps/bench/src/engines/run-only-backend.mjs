/**
 * A GradientBackend that forwards the run methods of `backend` and nothing
 * else: no `checkInputShape` (see createOnnxEngine), and a `dispose` that
 * also frees what the engine built around it. `deviceNoise` is read from
 * `backend` on every access (it may depend on the device in use), so core
 * hands a backend that makes its noise on its device the clean example and
 * the noise's description (`noisyGradientMoments`) instead of N noisy rows.
 */
export function runOnlyBackend(backend, dispose = () => backend.dispose?.()) {
  return {
    name: backend.name,
    logits: (x) => backend.logits(x),
    gradients: (x, targets) => backend.gradients(x, targets),
    ...(backend.gradientMoments ? { gradientMoments: (x, targets, n) => backend.gradientMoments(x, targets, n) } : {}),
    get deviceNoise() {
      return backend.deviceNoise === true && backend.noisyGradientMoments !== undefined;
    },
    ...(backend.noisyGradientMoments
      ? { noisyGradientMoments: (x, noise, targets) => backend.noisyGradientMoments(x, noise, targets) }
      : {}),
    dispose,
  };
}
