/**
 * The numbers of core's noise (docs/methods.md, "Noise") in one place: the
 * Philox4x32-10 rounds read them in JavaScript (philox.ts), WebAssembly
 * (philox-blocks.ts), WGSL (wgsl-noise.ts) and GLSL ES 3.0 (backend-tfjs's
 * device-noise/glsl.ts), and both shader programs read the constants of
 * their float32 Box–Muller here, so that no copy can drift from another.
 */

/** Philox4x32-10's constants (Salmon et al., SC 2011). */
export const PHILOX_CONSTANTS = {
  /** The round multipliers, of counter words 0 and 2. */
  M0: 0xd2511f53,
  M1: 0xcd9e8d57,
  /** The Weyl increments of the two key words, added after each round. */
  W0: 0x9e3779b9,
  W1: 0xbb67ae85,
} as const;

const LN2_HI = 0.693145751953125;

/** The constants of the float32 Box–Muller of the shader programs (core's WGSL_NORMAL, backend-tfjs's GLSL_NORMAL). */
export const BOX_MULLER_CONSTANTS = {
  /** 2⁻³²: a word w is the uniform (w + 0.5)·2⁻³². */
  TWO_POW_M32: 2 ** -32,
  /** (π/2)·2⁻³⁰: a word d past the start of its quarter turn is the angle d·(π/2)·2⁻³⁰ (2πu = quadrant·π/2 + x). */
  HALF_PI_TWO_POW_M30: Math.PI / 2 / 2 ** 30,
  /** ln 2 in two parts: the high one has 15 significant bits, so its product with a float32 exponent is exact. */
  LN2_HI,
  LN2_LO: Math.LN2 - LN2_HI,
  /** The upper end of the mantissa range [√½, √2) in which the logarithm's series is taken. */
  SQRT2: Math.SQRT2,
} as const;

/** A uint32 as a literal of both WGSL and GLSL ES 3.0: `0xD2511F53u`. */
export function shaderUint(value: number): string {
  return `0x${(value >>> 0).toString(16).toUpperCase()}u`;
}

/**
 * A float64 as a float literal of both WGSL and GLSL ES 3.0, in its shortest
 * round-trip digits (the shader rounds it to float32): `0.693145751953125`,
 * `2.3283064365386963e-10`.
 */
export function shaderFloat(value: number): string {
  const text = Math.abs(value) >= 1e-3 || value === 0 ? String(value) : value.toExponential();
  return /[.e]/.test(text) ? text : `${text}.0`;
}
