import * as tf from '@tensorflow/tfjs-core';
import { AttributionError, LRP_RULE_SET_FAMILY } from '@saliency/core';

/**
 * Modified backward passes (docs/methods.md, "Modified backward rules"):
 * per pass, the TF.js gradients that replace the kernels' own while our
 * gradient call runs (`withGradientRules`), every other kernel keeping its
 * gradient. With ȳ the cotangent of a ReLU's output and x its input:
 * Guided Backprop passes [x > 0]·max(ȳ, 0), DeconvNet max(ȳ, 0).
 */
const BACKWARD_RULES: ReadonlyMap<string, readonly tf.GradConfig[]> = new Map([
  [
    'guided_backprop',
    [
      {
        kernelName: tf.Relu,
        inputsToSave: ['x'],
        gradFunc: (dy, saved) => {
          const [x] = saved as [tf.Tensor];
          return { x: () => tf.mul(tf.relu(dy as tf.Tensor), tf.step(tf.cast(x, 'float32'))) };
        },
      },
    ],
  ],
  ['deconvnet', [{ kernelName: tf.Relu, gradFunc: (dy) => ({ x: () => tf.relu(dy as tf.Tensor) }) }]],
]);

/** The names of the passes, for the backend's `backwardRuleSets`. */
export const BACKWARD_RULE_SET_NAMES: readonly string[] = [...BACKWARD_RULES.keys()];

/**
 * The gradients of a pass (none for the ordinary gradient); an unknown name is
 * `INVALID_OPTION`, listing what the backend runs (`offered`, its
 * `backwardRuleSets`, which may add LRP's family).
 */
export function backwardRules(name: string | undefined, offered: readonly string[] = BACKWARD_RULE_SET_NAMES): readonly tf.GradConfig[] {
  if (name === undefined) return [];
  const rules = BACKWARD_RULES.get(name);
  if (rules === undefined) {
    const family = offered.includes(LRP_RULE_SET_FAMILY)
      ? ` (${LRP_RULE_SET_FAMILY}: every LRP rule set of core's names, e.g. lrp_epsilon_0_1)`
      : '';
    throw new AttributionError(
      'INVALID_OPTION',
      `backward rule set ${JSON.stringify(name)} is unknown to the TF.js backend; it runs ${offered.join(', ')}${family}`,
    );
  }
  return rules;
}
