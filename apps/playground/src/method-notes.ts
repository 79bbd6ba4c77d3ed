import { DEFAULTS, METHOD_NAMES, methodRule, parseLrpRuleSet, parseMethodName, type BaseMethod } from '@saliency/core';

/** One sentence per base method: what its map shows. */
const BASE_NOTES: Record<BaseMethod, string> = {
  gradient: "The gradient: how much a small change of each pixel changes the class's logit, with its sign; noisy on real models.",
  smoothgrad:
    'SmoothGrad: the gradient averaged over noisy copies of the image, a less noisy signed map of what raises or lowers the logit.',
  smoothgrad_squared: 'SmoothGrad²: the mean squared gradient over noisy copies, how strongly each pixel matters whatever the direction.',
  vargrad:
    "VarGrad: how much the gradient varies over noisy copies of the image, where the model's reading is most sensitive; on a digit it also lights the background where added ink would change the class.",
  integrated_gradients:
    "Integrated Gradients: each pixel's share of the change of the logit from a baseline input of zeros to this image; the shares add up to that change.",
  guided_backprop:
    'Guided Backprop: the gradient with every ReLU passing back only positive signals where it was active, a sharp, signed picture of the strokes that excite the class.',
  deconvnet:
    "DeconvNet: the gradient with every ReLU passing back only positive signals, wherever it was active or not; it shows the patterns the class's units respond to more than this image's exact pixels.",
  grad_cam:
    "Grad-CAM: where in the image the model's last feature map holds what raises the class, at that map's coarse resolution scaled up to the image; never negative.",
  grad_cam_plus_plus:
    'Grad-CAM++: Grad-CAM with each feature channel weighed by where its gradient is positive, so several separate parts of the class light up rather than the strongest one alone.',
  grad_cam_timeseries:
    "Grad-CAM of a time series: when along the series the model's last feature map holds what raises the class, scaled up to the series' length; one value per time step.",
};

/**
 * The LRP methods the list offers, one per kind of rule set (core parses many
 * more: docs/methods.md, "LRP"), each with its sentence. Their maps are
 * signed, so they are drawn on the diverging colours.
 */
const LRP_NOTES: Readonly<Record<string, string>> = {
  lrp_epsilon_0_1:
    "LRP-ε (ε = 0.1): the class's logit passed back layer by layer, each unit's relevance shared among its inputs by their contributions, ε soaking up weak, contradictory ones; signed, and it adds up to about the logit.",
  lrp_alpha_1_beta_0:
    'LRP-αβ (α = 1, β = 0): only the positive contributions carry relevance back at every layer, a crisp picture of the evidence for the class.',
  lrpsign_epsilon_0_1:
    "LRP-ε with the SIGN input rule: at the first layer relevance follows each pixel's sign (−1 below 0, +1 elsewhere) rather than its value, so dark pixels that matter keep their weight.",
  lrp_epsilon_plus_flat:
    'The EpsilonPlusFlat composite: the flat rule at the first layer (relevance spread evenly over what each unit sees), z⁺ at convolutions and ε at dense layers; smooth maps of the regions that count.',
};
export const LRP_METHODS = Object.keys(LRP_NOTES);

/** The method's sentence, with what its modifiers add. */
export function methodNote(method: string): string {
  const lrp = LRP_NOTES[method];
  if (lrp !== undefined) return lrp;
  const { base, modifiers } = parseMethodName(method);
  const parts = [BASE_NOTES[base] ?? `${base}: a method registered with core, without a note here.`];
  if (modifiers.input) parts.push('Multiplied by the input, so pixels without signal count less.');
  if (modifiers.sign)
    parts.push(`Multiplied by the input's sign (−1 below μ = ${modifiers.mu}, +1 elsewhere), which keeps dark pixels' weight.`);
  return parts.join(' ');
}

/** Which count a method takes, by the rows its rule runs: noisy samples, path steps, or neither; with the CLI's defaults (core's `DEFAULTS`). */
export function methodCounts(method: string): { samples: boolean; steps: boolean } {
  const { rows } = methodRule(parseMethodName(method).base);
  return { samples: rows === 'noisy-samples', steps: rows === 'path-points' };
}

export const DEFAULT_COUNTS = { numSamples: DEFAULTS.numSamples, steps: DEFAULTS.steps, noiseScale: DEFAULTS.noiseScale } as const;

/** The method list's groups, in the list's order. */
export const METHOD_GROUPS = [
  'Gradient family',
  'Modified backward pass',
  'Layer-wise relevance propagation (LRP)',
  'Class activation maps (CAM)',
] as const;
export type MethodGroup = (typeof METHOD_GROUPS)[number];

/**
 * A method's group, from its rule: a layer method (Grad-CAM) is a CAM, one
 * whose backward pass is an LRP rule set is LRP, one that runs another
 * modified backward pass (Guided Backprop, DeconvNet) is of that group, every
 * other one reduces ordinary input gradients.
 */
export function methodGroup(method: string): MethodGroup {
  const rule = methodRule(parseMethodName(method).base);
  if (rule.layer !== undefined) return 'Class activation maps (CAM)';
  if (rule.backward !== undefined && parseLrpRuleSet(rule.backward) !== undefined) return 'Layer-wise relevance propagation (LRP)';
  if (rule.backward !== undefined) return 'Modified backward pass';
  return 'Gradient family';
}

/** Every method name core lists, and the LRP methods offered, by group, each group in core's order. */
export function groupedMethods(): { group: MethodGroup; methods: string[] }[] {
  const offered = [...METHOD_NAMES, ...LRP_METHODS];
  return METHOD_GROUPS.map((group) => ({ group, methods: offered.filter((name) => methodGroup(name) === group) }));
}
