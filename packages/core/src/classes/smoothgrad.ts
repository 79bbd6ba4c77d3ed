import type { GradientBackend } from '../backend.js';
import { Attribution } from './attribution.js';
import type { AttributionOptions } from '../engine/options.js';

/** SmoothGrad: (1/N) Σ_i g(x + ε_i), ε_i ~ N(0, σ²) from the seeded generator. */
export class SmoothGrad extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'smoothgrad', defaults);
  }
}

/** SmoothGrad × Input: x ⊙ (1/N) Σ_i g(x + ε_i). */
export class SmoothGradXInput extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'smoothgrad_x_input', defaults);
  }
}

/** SmoothGrad × Sign: (1/N) Σ_i g(x + ε_i) ⊙ s_μ(x). */
export class SmoothGradXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'smoothgrad_x_sign', defaults);
  }
}

/** SmoothGrad × Input × Sign: x ⊙ (1/N) Σ_i g(x + ε_i) ⊙ s_μ(x). */
export class SmoothGradXInputXSign extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'smoothgrad_x_input_x_sign', defaults);
  }
}

/** SmoothGrad²: (1/N) Σ_i g(x + ε_i)². */
export class SmoothGradSquared extends Attribution {
  constructor(backend: GradientBackend, defaults?: AttributionOptions) {
    super(backend, 'smoothgrad_squared', defaults);
  }
}
