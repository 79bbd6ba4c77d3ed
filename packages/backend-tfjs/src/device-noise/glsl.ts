import { BOX_MULLER_CONSTANTS, PHILOX_CONSTANTS, shaderFloat, shaderUint } from '@saliency/core';

const { M0, M1, W0, W1 } = PHILOX_CONSTANTS;
const { TWO_POW_M32, HALF_PI_TWO_POW_M30, LN2_HI, LN2_LO, SQRT2 } = BOX_MULLER_CONSTANTS;

/**
 * Core's noise in GLSL ES 3.0 (docs/methods.md, "Noise"): the Philox4x32-10
 * rounds of packages/core/src/noise/philox.ts in 32-bit `uint` arithmetic,
 * whose products wrap modulo 2³² as the low words need; GLSL ES 3.0 has no
 * `umulExtended`, so the high words come from 16-bit limbs. Its WGSL twin is
 * core's packages/core/src/noise/wgsl-noise.ts.
 */
export const GLSL_PHILOX = `
uint saliencyMulHi(uint a, uint m) {
  uint aLo = a & 0xFFFFu;
  uint aHi = a >> 16u;
  uint mLo = m & 0xFFFFu;
  uint mHi = m >> 16u;
  uint lh = aLo * mHi;
  uint hl = aHi * mLo;
  uint mid = ((aLo * mLo) >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  return aHi * mHi + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

uvec4 saliencyPhilox(uvec4 c, uvec2 k) {
  for (int r = 0; r < 10; r++) {
    uint hi0 = saliencyMulHi(c.x, ${shaderUint(M0)});
    uint lo0 = c.x * ${shaderUint(M0)};
    uint hi1 = saliencyMulHi(c.z, ${shaderUint(M1)});
    uint lo1 = c.z * ${shaderUint(M1)};
    c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k += uvec2(${shaderUint(W0)}, ${shaderUint(W1)});
  }
  return c;
}
`;

/**
 * Box–Muller of the words (a, b) in float32, as core's float64 one:
 * r = √(−2 ln u_a), angle 2π u_b, u = (w + 0.5)·2⁻³². Built from +, −, ×, ÷,
 * √ and integer operations only, which GPUs round (nearly) alike, not from
 * the GPU's log, sin and cos, whose precision GLSL and WGSL leave to the
 * implementation (with them, SwiftShader's normals were 2e-4 relative off):
 *
 * - −ln u for u < ½ is (32 − E) ln 2 − ln m from the exponent E and the
 *   mantissa m ∈ [√½, √2) of the float32 w + 0.5, and for u ≥ ½ it is
 *   −ln(1 − t) with t = 1 − u taken exactly from ~w (a logarithm near 1
 *   loses everything in float32); both logarithms are 2 atanh(s), a series
 *   in |s| ≤ ⅓. ln 2 is split in two (its high part times E is exact).
 * - The angle is reduced with integers: b = Q·2³⁰ + d with |d| ≤ 2²⁹ gives
 *   2πu = Q·π/2 + x, |x| ≤ π/4, where sin and cos are Taylor polynomials.
 */
export const GLSL_NORMAL = `
const float SALIENCY_TWO_POW_M32 = ${shaderFloat(TWO_POW_M32)};
const float SALIENCY_HALF_PI_TWO_POW_M30 = ${shaderFloat(HALF_PI_TWO_POW_M30)};
const float SALIENCY_LN2_HI = ${shaderFloat(LN2_HI)};
const float SALIENCY_LN2_LO = ${shaderFloat(LN2_LO)};

float saliencyTwoAtanh(float s) {
  float s2 = s * s;
  float series = 1.0 / 15.0 + s2 * (1.0 / 17.0);
  series = 1.0 / 13.0 + s2 * series;
  series = 1.0 / 11.0 + s2 * series;
  series = 1.0 / 9.0 + s2 * series;
  series = 1.0 / 7.0 + s2 * series;
  series = 1.0 / 5.0 + s2 * series;
  series = 1.0 / 3.0 + s2 * series;
  return 2.0 * s * (1.0 + s2 * series);
}

float saliencyNegLogUniform(uint w) {
  if (w >= 0x80000000u) {
    float t = (float(~w) + 0.5) * SALIENCY_TWO_POW_M32;
    return saliencyTwoAtanh(t / (2.0 - t));
  }
  uint bits = floatBitsToUint(float(w) + 0.5);
  int exponent = int(bits >> 23u) - 127;
  float m = uintBitsToFloat((bits & 0x7FFFFFu) | 0x3F800000u);
  if (m > ${shaderFloat(SQRT2)}) {
    m *= 0.5;
    exponent += 1;
  }
  float n = float(32 - exponent);
  return n * SALIENCY_LN2_HI - (saliencyTwoAtanh((m - 1.0) / (m + 1.0)) - n * SALIENCY_LN2_LO);
}

vec2 saliencyCosSin(uint b) {
  uint quadrant = (b + 0x20000000u) >> 30u;
  float x = (float(int(b - (quadrant << 30u))) + 0.5) * SALIENCY_HALF_PI_TWO_POW_M30;
  float x2 = x * x;
  float s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0 + x2 * (-1.0 / 39916800.0))))));
  float c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 + x2 * (-1.0 / 3628800.0 + x2 * (1.0 / 479001600.0))))));
  if (quadrant == 0u) return vec2(c, s);
  if (quadrant == 1u) return vec2(-s, c);
  if (quadrant == 2u) return vec2(-c, -s);
  return vec2(s, -c);
}

float saliencyNormal(uint a, uint b, bool sine) {
  vec2 cosSin = saliencyCosSin(b);
  return sqrt(2.0 * saliencyNegLogUniform(a)) * (sine ? cosSin.y : cosSin.x);
}

float saliencyStandardNormal(uint seed0, uint seed1, uint example, uint sampleIndex, uint e) {
  uvec4 w = saliencyPhilox(uvec4(e >> 2u, sampleIndex, example, 0u), uvec2(seed0, seed1));
  uint j = e & 3u;
  return j < 2u ? saliencyNormal(w.x, w.y, j == 1u) : saliencyNormal(w.z, w.w, j == 3u);
}
`;
