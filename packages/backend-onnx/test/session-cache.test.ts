import { describe, expect, it } from 'vitest';
import { AttributionError } from '@saliency/core';
import { buildGradientModel } from '../src/autodiff/build-gradient-model.js';
import { readOnnxModel } from '../src/model/onnx-model.js';
import { cacheBytesOption, SessionCache, type CacheableValue } from '../src/runtime/session-cache.js';
import { freeSizeCnn } from './helpers/free-size-cnn.js';

/** A cache value of the given bytes that records its release. */
function value(name: string, bytes: number, released: string[]): CacheableValue {
  return { bytes, release: () => void released.push(name) };
}

describe('SessionCache: least recently used, bounded by bytes', () => {
  it('evicts the least recently used entries past the bound and releases them', async () => {
    const released: string[] = [];
    const cache = new SessionCache<CacheableValue>(100);
    const use = (key: string, bytes: number) =>
      cache.with(
        key,
        async () => value(key, bytes, released),
        async () => key,
      );
    await use('a', 40);
    await use('b', 40);
    await use('a', 40); // a is now the most recent
    await use('c', 40); // 120 > 100: b goes
    expect(released).toEqual(['b']);
    expect(cache.size).toBe(2);
    expect(cache.heldBytes).toBe(80);
    await use('d', 90); // only d fits
    expect(released.sort()).toEqual(['a', 'b', 'c']);
    await use('e', 500); // alone above the bound: kept, d released
    expect(cache.size).toBe(1);
    await cache.clear();
    expect(released.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('releases an entry evicted while in use only when its use ends', async () => {
    const released: string[] = [];
    const cache = new SessionCache<CacheableValue>(50);
    let finish!: () => void;
    const running = cache.with(
      'a',
      async () => value('a', 40, released),
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    await cache.with(
      'b',
      async () => value('b', 40, released),
      async () => undefined,
    );
    expect(released).toEqual([]);
    finish();
    await running;
    expect(released).toEqual(['a']);
    await cache.clear();
    expect(released).toEqual(['a', 'b']);
  });

  it('does not cache a failed build', async () => {
    const cache = new SessionCache<CacheableValue>(100);
    await expect(
      cache.with(
        'a',
        async () => Promise.reject(new Error('no session')),
        async () => 1,
      ),
    ).rejects.toThrow('no session');
    expect(cache.size).toBe(0);
    expect(
      await cache.with(
        'a',
        async () => value('a', 1, []),
        async () => 2,
      ),
    ).toBe(2);
  });

  it('cacheBytes must be a non-negative number', () => {
    expect(cacheBytesOption(undefined)).toBe(512 * 1024 * 1024);
    expect(cacheBytesOption(0)).toBe(0);
    expect(() => cacheBytesOption(-1)).toThrow(AttributionError);
    expect(() => cacheBytesOption(Number.NaN)).toThrow(/cacheBytes must be a non-negative number of bytes, got NaN/);
  });
});

describe("a built graph's planned activation bytes", () => {
  it("are the forward values' float32 bytes, twice over with gradients", () => {
    const model = readOnnxModel(freeSizeCnn(16));
    const [n, h, w] = [8, 40, 24];
    // input; c1, r1, c2, r2 (16 channels, same size: pads 1); pooled [n, 16, 1, 1]; flat [n, 16]; output [n, 10].
    const forward = 4 * (n * 3 * h * w + 4 * n * 16 * h * w + n * 16 + n * 16 + n * 10);
    const request = { inputName: 'input', inputShape: [n, 3, h, w], outputName: 'output', keepSoftmax: false } as const;
    expect(buildGradientModel(model, { ...request, result: 'none' }).activationBytes).toBe(forward);
    expect(buildGradientModel(model, { ...request, result: 'gradient' }).activationBytes).toBe(2 * forward);
  });
});
