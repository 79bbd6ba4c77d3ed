import { describe, expect, it } from 'vitest';
import { agreement, cosineSimilarity, relativeMaxError, topFractionAgreement, topIndices } from '../src/suite/metrics.js';

describe('relativeMaxError', () => {
  it('is the worst element error over the largest reference magnitude', () => {
    // errors 0.1, 0, 0.3; max |r| = 4
    expect(relativeMaxError([1.1, -2, 4.3], [1, -2, 4])).toBeCloseTo(0.3 / 4, 15);
  });
  it('uses the sign: a flipped map is off by twice its scale', () => {
    expect(relativeMaxError([-1, -2], [1, 2])).toBe(2);
  });
  it('is the absolute error against a zero reference', () => {
    expect(relativeMaxError([0, 1e-3], [0, 0])).toBe(1e-3);
  });
  it('is Infinity when the map holds NaN', () => {
    expect(relativeMaxError([Number.NaN, 1], [1, 1])).toBe(Infinity);
  });
  it('refuses maps of different lengths', () => {
    expect(() => relativeMaxError([1, 2], [1])).toThrow(/differ in length: 2 vs reference 1/);
  });
});

describe('cosineSimilarity', () => {
  it('is 1 for maps equal up to a positive factor, -1 for opposite ones, 0 for orthogonal ones', () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 2, 3], [-1, -2, -3])).toBeCloseTo(-1, 15);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
  });
  it('is a·r / (|a| |r|) on a worked example', () => {
    // a·r = 3 + 8 = 11; |a| = 5, |r| = sqrt(1 + 4) ; 11 / (5 √5)
    expect(cosineSimilarity([3, 4], [1, 2])).toBeCloseTo(11 / (5 * Math.sqrt(5)), 15);
  });
  it('is 1 when both maps are zero and 0 when one is', () => {
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
  });
});

describe('top 5% agreement', () => {
  it('takes the ⌈5%⌉ largest magnitudes, ties to the lower index', () => {
    const values = Array.from({ length: 40 }, (_, i) => (i === 7 ? -9 : i === 30 ? 8 : 1));
    expect([...topIndices(values, 0.05)].sort((a, b) => a - b)).toEqual([7, 30]); // ⌈2⌉ = 2, by |value|
    expect([...topIndices([1, 1, 1, 1], 0.5)]).toEqual([0, 1]);
  });
  it('is the Jaccard index of the two top sets', () => {
    const n = 100; // top 5 each
    const reference = Array.from({ length: n }, (_, i) => n - i); // top: 0..4
    const shifted = Array.from({ length: n }, (_, i) => (i >= 2 && i < 7 ? 1000 : 1)); // top: 2..6
    // |{2,3,4}| / |{0..6}| = 3 / 7
    expect(topFractionAgreement(shifted, reference)).toBeCloseTo(3 / 7, 15);
    expect(topFractionAgreement(reference, reference)).toBe(1);
  });
  it('is 0 for disjoint top sets', () => {
    expect(topFractionAgreement([5, 0, 0, 0], [0, 0, 0, 5])).toBe(0);
  });
});

it('agreement bundles the three', () => {
  expect(agreement([1, 2], [1, 2])).toEqual({ relativeMaxError: 0, cosine: expect.closeTo(1, 15) as number, top5Agreement: 1 });
});
