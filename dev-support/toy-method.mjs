// A method that is not one of the library's, registered by tests through
// `registerMethod` to show that one file is all a new method needs.

/**
 * `noisy_rms`: the root mean square of the noisy gradients,
 *
 *   noisy_rms(x) = √( (1/N) Σ_{i=1..N} g(x + ε_i)² ),
 *
 * from the rows' moments as √(M2/N + mean²). Never negative.
 *
 * @type {import('@saliency/core').MethodRule}
 */
export const noisyRms = {
  name: 'noisy_rms',
  rows: 'noisy-samples',
  takesModifiers: true,
  signed: false,
  reduce: ({ count, mean, m2 }) => Math.sqrt(m2 / count + mean * mean),
};
