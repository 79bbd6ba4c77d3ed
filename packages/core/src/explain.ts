import type { GradientBackend } from './backend.js';
import { attribute } from './engine/attribute.js';
import { parseMethodName } from './methods/method-name.js';
import { resolveOptions, type AttributionOptions } from './engine/options.js';
import type { HostTensor } from './tensor.js';

/**
 * Computes the method named in SignXAI's grammar, e.g. `vargrad`,
 * `smoothgrad_x_input` or `vargrad_x_sign_mu_neg_0_5`, for the batch `x`.
 * The result has the shape of `x`.
 */
export async function explain(
  backend: GradientBackend,
  method: string,
  x: HostTensor,
  options: AttributionOptions = {},
): Promise<HostTensor> {
  const parsed = parseMethodName(method);
  return attribute(backend, parsed, x, resolveOptions(parsed, {}, options));
}
