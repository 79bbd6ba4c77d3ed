import { describe, expect, it } from 'vitest';
import { AttributionError } from '@saliency/core';
import { cacheBytesOption, SessionCache, type CacheableValue } from '../src/runtime/session-cache.js';

/** A cache value of the given bytes that records its release. */
function value(name: string, bytes: number, released: string[]): CacheableValue {
  return { bytes, release: () => void released.push(name) };
}

describe('SessionCache: least recently used, bounded by bytes', () => {
  it('evicts the least recently used entries past the bound and releases them', async () => {
    const released: string[] = [];
    const cache = new SessionCache<CacheableValue>(100);
    const use = (key: string, bytes: number) => cache.with(key, async () => value(key, bytes, released), async () => key);
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
    const running = cache.with('a', async () => value('a', 40, released), () => new Promise<void>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 0));
    await cache.with('b', async () => value('b', 40, released), async () => undefined);
    expect(released).toEqual([]);
    finish();
    await running;
    expect(released).toEqual(['a']);
    await cache.clear();
    expect(released).toEqual(['a', 'b']);
  });

  it('does not cache a failed build', async () => {
    const cache = new SessionCache<CacheableValue>(100);
    await expect(cache.with('a', async () => Promise.reject(new Error('no session')), async () => 1)).rejects.toThrow('no session');
    expect(cache.size).toBe(0);
    expect(await cache.with('a', async () => value('a', 1, []), async () => 2)).toBe(2);
  });

  it('cacheBytes must be a non-negative number', () => {
    expect(cacheBytesOption(undefined)).toBe(512 * 1024 * 1024);
    expect(cacheBytesOption(0)).toBe(0);
    expect(() => cacheBytesOption(-1)).toThrow(AttributionError);
    expect(() => cacheBytesOption(Number.NaN)).toThrow(/cacheBytes must be a non-negative number of bytes, got NaN/);
  });
});
