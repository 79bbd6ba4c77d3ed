import type { GradientBackend } from '../backend.js';
import type { HostTensor } from '../tensor.js';
import { attribute } from '../engine/attribute.js';
import { parseMethodName, type MethodName } from '../methods/method-name.js';
import { resolveOptions, type AttributionOptions } from '../engine/options.js';

/**
 * One attribution method bound to a backend, with default options that a
 * call to `attribute` may override (as SignXAI's `VarGrad(model,
 * noise_scale, num_samples).attribute(x, target, noise_scale, num_samples)`).
 * The subclasses fix the method; their docstrings give its formula, with
 * g(x) = ∂f_t(x)/∂x the input gradient of the target logit.
 */
export class Attribution {
  readonly method: MethodName;

  constructor(
    readonly backend: GradientBackend,
    methodName: string,
    readonly defaults: AttributionOptions = {},
  ) {
    this.method = parseMethodName(methodName);
    resolveOptions(this.method, defaults, {});
  }

  /** The map for the batch `x`, shaped like `x`. */
  async attribute(x: HostTensor, options: AttributionOptions = {}): Promise<HostTensor> {
    return attribute(this.backend, this.method, x, resolveOptions(this.method, this.defaults, options));
  }
}
