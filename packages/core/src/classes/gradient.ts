import type { GradientBackend } from '../backend.js';
import { Attribution } from './attribution.js';
import type { AttributionOptions } from '../engine/options.js';

/** Gradient (saliency): g(x). */
export class Gradient extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'gradient', defaults);
  }
}

/** Gradient × Input: x ⊙ g(x). */
export class GradientXInput extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'gradient_x_input', defaults);
  }
}

/** Gradient × Sign: g(x) ⊙ s_μ(x), s_μ(x) = −1 where x < μ, +1 elsewhere. */
export class GradientXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'gradient_x_sign', defaults);
  }
}

/** Gradient × Input × Sign: x ⊙ g(x) ⊙ s_μ(x). */
export class GradientXInputXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'gradient_x_input_x_sign', defaults);
  }
}
