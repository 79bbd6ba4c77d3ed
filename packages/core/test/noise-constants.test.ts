import { describe, expect, it } from 'vitest';
import { BOX_MULLER_CONSTANTS, shaderFloat, shaderUint } from '../src/index.js';

/*
 * The Philox constants are checked by philox.test.ts (Random123's known
 * answers, through every generator that reads them); these check the
 * Box–Muller constants against their definitions, and that the shader
 * literals read back as the numbers they were written from.
 */

const { TWO_POW_M32, HALF_PI_TWO_POW_M30, LN2_HI, LN2_LO, SQRT2 } = BOX_MULLER_CONSTANTS;

describe('the Box–Muller constants of the shader programs', () => {
  it('are 2⁻³², (π/2)·2⁻³⁰, √2 and ln 2 split into a 15-bit high part and the rest', () => {
    expect(TWO_POW_M32 * 4294967296).toBe(1);
    expect(HALF_PI_TWO_POW_M30 * 2 ** 31).toBe(Math.PI);
    expect(SQRT2 * SQRT2).toBeCloseTo(2, 15);
    expect(Number.isInteger(LN2_HI * 2 ** 15)).toBe(true);
    expect(LN2_HI + LN2_LO).toBe(Math.LN2);
    expect(Math.abs(LN2_LO)).toBeLessThan(2 ** -15);
  });
});

describe('shader literals', () => {
  it('write a uint32 in hexadecimal with the u suffix', () => {
    for (const value of [0, 1, 0xffff, 0x80000000, 0xd2511f53, 0xffffffff]) {
      const text = shaderUint(value);
      expect(text).toMatch(/^0x[0-9A-F]+u$/);
      expect(Number.parseInt(text.slice(2, -1), 16)).toBe(value);
    }
  });

  it('write a float with a point or an exponent, in digits that read back as the same float64', () => {
    for (const value of [...Object.values(BOX_MULLER_CONSTANTS), 0, 2, -3, 0.5, 1e-3, 9.5e-4, -1.5e-7, 1e21]) {
      const text = shaderFloat(value);
      expect(text).toMatch(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/);
      expect(text).toMatch(/[.e]/);
      expect(Number(text)).toBe(value);
    }
  });
});
