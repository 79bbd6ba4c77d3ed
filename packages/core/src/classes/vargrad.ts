import type { GradientBackend } from '../backend.js';
import { Attribution } from './attribution.js';
import type { AttributionOptions } from '../engine/options.js';

/**
 * VarGrad: (1/N) Σ_i (g(x + ε_i) − ḡ)², ḡ = (1/N) Σ_i g(x + ε_i), with
 * ε_i ~ N(0, σ²), σ = 1.0 and N = 16 by default; `unbiased` divides by N − 1;
 * values below 1e-10 are 0.
 */
export class VarGrad extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'vargrad', defaults);
  }
}

/** VarGrad × Input: x ⊙ VarGrad(x). */
export class VarGradXInput extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'vargrad_x_input', defaults);
  }
}

/** VarGrad × Sign: VarGrad(x) ⊙ s_μ(x), s_μ(x) = −1 where x < μ, +1 elsewhere; μ = `mu`, default 0. */
export class VarGradXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'vargrad_x_sign', defaults);
  }
}

/** VarGrad × Input × Sign: x ⊙ VarGrad(x) ⊙ s_μ(x). */
export class VarGradXInputXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'vargrad_x_input_x_sign', defaults);
  }
}
