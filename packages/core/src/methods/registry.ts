import { AttributionError } from '../errors.js';
import { deconvnet } from './deconvnet.js';
import { gradCam, gradCamPlusPlus, gradCamTimeseries } from './grad-cam.js';
import { gradient } from './gradient.js';
import { guidedBackprop } from './guided-backprop.js';
import { integratedGradients } from './integrated-gradients.js';
import { lrpMethod } from './lrp.js';
import type { MethodRule, RowKind } from './rule.js';
import { smoothgrad } from './smoothgrad.js';
import { smoothgradSquared } from './smoothgrad-squared.js';
import { vargrad } from './vargrad.js';

/** The modifiers a base name may carry, `''` for none (docs/methods.md, "Method names"). */
export const MODIFIER_SUFFIXES = ['', '_x_input', '_x_sign', '_x_input_x_sign'] as const;

const ROW_KINDS: readonly RowKind[] = ['input', 'noisy-samples', 'path-points'];
const BASE_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

const rules = new Map<string, MethodRule>();
const baseNames: string[] = [];
const methodNames: string[] = [];

/** The registered base methods, built-in ones first, in registration order. */
export const BASE_METHODS: readonly string[] = baseNames;

/** Every method name without a `_mu_<v>` suffix, e.g. `vargrad_x_sign`; grows with `registerMethod`. */
export const METHOD_NAMES: readonly string[] = methodNames;

function invalidRule(name: unknown, why: string): AttributionError {
  return new AttributionError('INVALID_METHOD', `registerMethod: method ${JSON.stringify(name)} ${why}`);
}

/**
 * Adds a method: after this, `explain(backend, rule.name, x)`, its modifier
 * names, `referenceAttribution` and the CLI's `--method` know it. A name
 * already taken, one that would read as a modifier or μ suffix of another
 * name, or a rule missing a part is refused with `INVALID_METHOD`.
 */
export function registerMethod(rule: MethodRule): void {
  const name: unknown = rule?.name;
  if (typeof name !== 'string' || !BASE_NAME.test(name)) {
    throw invalidRule(name, 'needs a name of lower-case letters, digits and single underscores, e.g. "my_method"');
  }
  if (name.includes('_mu_') || MODIFIER_SUFFIXES.some((suffix) => suffix !== '' && name.includes(suffix))) {
    throw invalidRule(name, 'must not contain _mu_, _x_input or _x_sign, which the method-name grammar reads as modifiers');
  }
  if (lrpMethod(name) !== undefined) throw invalidRule(name, 'is an LRP method name (docs/methods.md, "LRP")');
  const names = rule.takesModifiers ? MODIFIER_SUFFIXES.map((suffix) => name + suffix) : [name];
  const taken = names.find((n) => methodNames.includes(n));
  if (taken !== undefined) throw invalidRule(name, `is already registered (as "${taken}")`);
  if (!ROW_KINDS.includes(rule.rows)) {
    throw invalidRule(name, `has rows ${JSON.stringify(rule.rows)}; expected one of ${ROW_KINDS.map((k) => `'${k}'`).join(', ')}`);
  }
  if (typeof rule.reduce !== 'function') throw invalidRule(name, 'needs a reduce(moments, options) function');
  for (const part of ['finish', 'minimumRows'] as const) {
    if (rule[part] !== undefined && typeof rule[part] !== 'function') throw invalidRule(name, `has a ${part} that is not a function`);
  }
  if (typeof rule.signed !== 'boolean' || typeof rule.takesModifiers !== 'boolean') {
    throw invalidRule(name, 'needs boolean signed and takesModifiers');
  }
  if ((rule.backward !== undefined || rule.layer !== undefined) && rule.rows !== 'input') {
    throw invalidRule(name, "has a backward rule set or a layer rule, which take rows: 'input' only");
  }
  if (rule.backward !== undefined && (typeof rule.backward !== 'string' || rule.backward === '')) {
    throw invalidRule(name, 'has a backward that is not the name of a backward rule set');
  }
  if (rule.layer !== undefined && typeof rule.layer?.map !== 'function') throw invalidRule(name, 'has a layer rule without a map function');
  rules.set(name, rule);
  baseNames.push(name);
  methodNames.push(...names);
}

/** The rule of a registered base method, or of an LRP name (`methods/lrp.ts`). */
export function methodRule(base: string): MethodRule {
  const rule = rules.get(base) ?? lrpMethod(base)?.rule;
  if (rule === undefined) {
    throw new AttributionError('UNKNOWN_METHOD', `unknown base method "${base}"; registered: ${baseNames.join(', ')}`);
  }
  return rule;
}

// The built-in methods: one line each.
registerMethod(gradient);
registerMethod(smoothgrad);
registerMethod(smoothgradSquared);
registerMethod(vargrad);
registerMethod(integratedGradients);
registerMethod(guidedBackprop);
registerMethod(deconvnet);
registerMethod(gradCam);
registerMethod(gradCamTimeseries);
registerMethod(gradCamPlusPlus);
