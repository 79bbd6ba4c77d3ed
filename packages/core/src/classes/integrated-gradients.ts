import type { GradientBackend } from '../backend.js';
import { Attribution } from './attribution.js';
import type { AttributionOptions } from '../engine/options.js';

/**
 * Integrated Gradients by the right Riemann sum over m = `steps` points:
 * (x − x') ⊙ (1/m) Σ_{k=1..m} g(x' + (k/m)(x − x')), baseline x' = 0 by default.
 */
export class IntegratedGradients extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'integrated_gradients', defaults);
  }
}

/** Integrated Gradients × Input: x ⊙ IG(x). */
export class IntegratedGradientsXInput extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'integrated_gradients_x_input', defaults);
  }
}

/** Integrated Gradients × Sign: IG(x) ⊙ s_μ(x). */
export class IntegratedGradientsXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'integrated_gradients_x_sign', defaults);
  }
}

/** Integrated Gradients × Input × Sign: x ⊙ IG(x) ⊙ s_μ(x). */
export class IntegratedGradientsXInputXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'integrated_gradients_x_input_x_sign', defaults);
  }
}
