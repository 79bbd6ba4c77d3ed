import { BOX_MULLER_CONSTANTS, PHILOX_CONSTANTS, shaderFloat, shaderUint } from './noise-constants.js';

const { M0, M1, W0, W1 } = PHILOX_CONSTANTS;
const { TWO_POW_M32, HALF_PI_TWO_POW_M30, LN2_HI, LN2_LO, SQRT2 } = BOX_MULLER_CONSTANTS;

/**
 * Core's noise in WGSL (docs/methods.md, "Noise"), the one source of the
 * device generators for WebGPU (backend-tfjs's webgpu program, backend-onnx's
 * compute pass on ONNX Runtime's device): the Philox4x32-10 rounds of
 * philox.ts in `u32`, whose products wrap modulo 2³² as the low words need;
 * WGSL has no multiply-high, so the high words come from 16-bit limbs. The
 * normals use only + − × ÷ √ and integer operations, which WGSL rounds as
 * IEEE float32, instead of the implementation-defined log/cos/sin.
 * `saliencyStandardNormal(seed0, seed1, example, sample, e)` is core's
 * `z(seed, example, sample, e)` (gaussian-noise.ts).
 */
export const WGSL_PHILOX = `
fn saliencyMulHi(a : u32, m : u32) -> u32 {
  let aLo = a & 0xFFFFu;
  let aHi = a >> 16u;
  let mLo = m & 0xFFFFu;
  let mHi = m >> 16u;
  let lh = aLo * mHi;
  let hl = aHi * mLo;
  let mid = ((aLo * mLo) >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  return aHi * mHi + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn saliencyPhilox(counter : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0; r < 10; r++) {
    let hi0 = saliencyMulHi(c.x, ${shaderUint(M0)});
    let lo0 = c.x * ${shaderUint(M0)};
    let hi1 = saliencyMulHi(c.z, ${shaderUint(M1)});
    let lo1 = c.z * ${shaderUint(M1)};
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(${shaderUint(W0)}, ${shaderUint(W1)});
  }
  return c;
}
`;

export const WGSL_NORMAL = `
const SALIENCY_TWO_POW_M32 : f32 = ${shaderFloat(TWO_POW_M32)};
const SALIENCY_HALF_PI_TWO_POW_M30 : f32 = ${shaderFloat(HALF_PI_TWO_POW_M30)};
const SALIENCY_LN2_HI : f32 = ${shaderFloat(LN2_HI)};
const SALIENCY_LN2_LO : f32 = ${shaderFloat(LN2_LO)};

fn saliencyTwoAtanh(s : f32) -> f32 {
  let s2 = s * s;
  var series = 1.0 / 15.0 + s2 * (1.0 / 17.0);
  series = 1.0 / 13.0 + s2 * series;
  series = 1.0 / 11.0 + s2 * series;
  series = 1.0 / 9.0 + s2 * series;
  series = 1.0 / 7.0 + s2 * series;
  series = 1.0 / 5.0 + s2 * series;
  series = 1.0 / 3.0 + s2 * series;
  return 2.0 * s * (1.0 + s2 * series);
}

fn saliencyNegLogUniform(w : u32) -> f32 {
  if (w >= 0x80000000u) {
    let t = (f32(~w) + 0.5) * SALIENCY_TWO_POW_M32;
    return saliencyTwoAtanh(t / (2.0 - t));
  }
  let bits = bitcast<u32>(f32(w) + 0.5);
  var exponent = i32(bits >> 23u) - 127;
  var m = bitcast<f32>((bits & 0x7FFFFFu) | 0x3F800000u);
  if (m > ${shaderFloat(SQRT2)}) {
    m = m * 0.5;
    exponent = exponent + 1;
  }
  let n = f32(32 - exponent);
  return n * SALIENCY_LN2_HI - (saliencyTwoAtanh((m - 1.0) / (m + 1.0)) - n * SALIENCY_LN2_LO);
}

fn saliencyCosSin(b : u32) -> vec2<f32> {
  let quadrant = (b + 0x20000000u) >> 30u;
  let x = (f32(bitcast<i32>(b - (quadrant << 30u))) + 0.5) * SALIENCY_HALF_PI_TWO_POW_M30;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0 + x2 * (-1.0 / 39916800.0))))));
  let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 + x2 * (-1.0 / 3628800.0 + x2 * (1.0 / 479001600.0))))));
  if (quadrant == 0u) {
    return vec2<f32>(c, s);
  }
  if (quadrant == 1u) {
    return vec2<f32>(-s, c);
  }
  if (quadrant == 2u) {
    return vec2<f32>(-c, -s);
  }
  return vec2<f32>(s, -c);
}

fn saliencyNormal(a : u32, b : u32, sine : bool) -> f32 {
  let cosSin = saliencyCosSin(b);
  return sqrt(2.0 * saliencyNegLogUniform(a)) * select(cosSin.x, cosSin.y, sine);
}

fn saliencyStandardNormal(seed0 : u32, seed1 : u32, example : u32, sampleIndex : u32, e : u32) -> f32 {
  let w = saliencyPhilox(vec4<u32>(e >> 2u, sampleIndex, example, 0u), vec2<u32>(seed0, seed1));
  let j = e & 3u;
  if (j < 2u) {
    return saliencyNormal(w.x, w.y, j == 1u);
  }
  return saliencyNormal(w.z, w.w, j == 3u);
}
`;
