import type { Modifiers } from './method-name.js';

/** s_μ(x) = −1 where x < μ, +1 elsewhere (so with μ = 0, s(0) = +1, as SignXAI's SIGN rule). */
export function signOf(x: number, mu: number): number {
  return x < mu ? -1 : 1;
}

/** The factor a modifier puts on element `x`: x for ×input, s_μ(x) for ×sign, both for ×input×sign. */
export function modifierFactor(x: number, modifiers: Modifiers): number {
  return (modifiers.input ? x : 1) * (modifiers.sign ? signOf(x, modifiers.mu) : 1);
}

/** Multiplies the map in place by the method's ×input and ×sign factors. */
export function applyModifiers(map: Float32Array | Float64Array, x: ArrayLike<number>, modifiers: Modifiers): void {
  if (!modifiers.input && !modifiers.sign) return;
  for (let i = 0; i < map.length; i++) map[i] = map[i]! * modifierFactor(x[i]!, modifiers);
}
