import { fillStandardNormal } from './gaussian-noise.js';
import { philox4x32 } from './philox.js';

/**
 * A device generator of core's noise, read back: what a GPU backend's
 * programs (wgsl-noise.ts, or backend-tfjs's GLSL) compute.
 */
export interface DeviceNoiseGenerator {
  /**
   * The Philox4x32-10 words of `blocks` consecutive counters
   * `[c0 + q (mod 2³²), c1, c2, c3]` under `key`, 4 per counter.
   */
  philoxWords(counter: readonly [number, number, number, number], key: readonly [number, number], blocks: number): Promise<Uint32Array>;
  /** Core's standard normals `z(seed, example, sample, e)` for `e < size`. */
  standardNormals(seed: number, example: number, sample: number, size: number): Promise<Float32Array>;
}

/**
 * Counters and keys of the word check: the noise's own
 * (`[⌊e/4⌋, sample, example, 0]`) and edge words, where `c0 + q` wraps past
 * 2³² and every key bit is set.
 */
const WORD_CASES: readonly { counter: [number, number, number, number]; key: [number, number] }[] = [
  { counter: [0, 0, 0, 0], key: [0, 0] },
  { counter: [0, 3, 1, 0], key: [42, 0] },
  { counter: [0xffffffc0, 0xffffffff, 0xffffffff, 0xffffffff], key: [0xffffffff, 0xffffffff] },
  { counter: [0xffffffa0, 7, 0x80000000, 0], key: [0x9e3779b9, 0xbb67ae85] },
  { counter: [1000, 65535, 65536, 0], key: [0x0000ffff, 0xffff0000] },
  { counter: [0x7fffffc0, 0x12345678, 0x9abcdef0, 0x0fedcba9], key: [123456789, 2097151] },
  { counter: [0xfffff000, 0, 2, 0], key: [0x80000000, 1] },
  { counter: [31, 1, 0, 0], key: [0xdeadbeef, 0xcafebabe] },
];
const BLOCKS_PER_CASE = 128;

/** (seed, example, sample) of the normals check, 4099 elements each (the last block partly used). */
const NORMAL_CASES: readonly [number, number, number][] = [
  [0, 0, 0],
  [2 ** 40 + 3, 5, 17],
  [7, 1, 4095],
];
const NORMALS_PER_CASE = 4099;

/** How a device's noise agrees with core's generator. */
export interface DeviceNoiseAgreement {
  /** Philox words compared, and how many differ from core's (must be 0). */
  readonly words: number;
  readonly wordMismatches: number;
  /** The first differing word, described, if any. */
  readonly firstMismatch?: string;
  /** Normals compared, and the largest difference from core's float32 normals. */
  readonly normals: number;
  /** In units of float32's spacing at core's value. */
  readonly worstUlps: number;
  readonly worstAbsolute: number;
}

/**
 * Reads back a sample of the device's Philox words (4096, over the counters
 * and keys above) and normals (3 × 4099) and compares them with core's: the
 * words bit for bit, the normals in ulps (docs/methods.md, "Noise").
 */
export async function deviceNoiseAgreement(device: DeviceNoiseGenerator): Promise<DeviceNoiseAgreement> {
  const expected = new Uint32Array(4);
  let words = 0;
  let wordMismatches = 0;
  let firstMismatch: string | undefined;
  for (const { counter, key } of WORD_CASES) {
    const read = await device.philoxWords(counter, key, BLOCKS_PER_CASE);
    for (let q = 0; q < BLOCKS_PER_CASE; q++) {
      const c0 = (counter[0] + q) >>> 0;
      philox4x32([c0, counter[1], counter[2], counter[3]], key, expected);
      for (let k = 0; k < 4; k++, words++) {
        if (read[4 * q + k] === expected[k]) continue;
        wordMismatches++;
        firstMismatch ??= `word ${k} of counter [${c0}, ${counter.slice(1).join(', ')}] under key [${key.join(', ')}]: device ${read[4 * q + k]}, core ${expected[k]}`;
      }
    }
  }
  let worstUlps = 0;
  let worstAbsolute = 0;
  const core = new Float32Array(NORMALS_PER_CASE);
  for (const [seed, example, sample] of NORMAL_CASES) {
    const normals = await device.standardNormals(seed, example, sample, NORMALS_PER_CASE);
    fillStandardNormal(core, seed, example, sample);
    for (let e = 0; e < NORMALS_PER_CASE; e++) {
      worstUlps = Math.max(worstUlps, ulps(normals[e]!, core[e]!));
      worstAbsolute = Math.max(worstAbsolute, Math.abs(normals[e]! - core[e]!));
    }
  }
  return {
    words,
    wordMismatches,
    ...(firstMismatch === undefined ? {} : { firstMismatch }),
    normals: NORMAL_CASES.length * NORMALS_PER_CASE,
    worstUlps,
    worstAbsolute,
  };
}

/** |a − b| in units of float32's spacing at b (2⁻¹⁴⁹ below the normal range). */
function ulps(a: number, b: number): number {
  const exponent = Math.max(Math.floor(Math.log2(Math.abs(b))), -126);
  return Math.abs(a - b) / 2 ** (exponent - 23);
}
