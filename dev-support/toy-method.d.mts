import type { MethodRule } from '@saliency/core';

/** `noisy_rms(x) = √((1/N) Σ_i g(x + ε_i)²)`: a method outside the library, for registration tests. */
export declare const noisyRms: MethodRule;
