import { describe, expect, it } from 'vitest';
import { channelsFirst, channelsLast, transpose } from '../src/suite/layout.js';

describe('layout transposes', () => {
  it('moves channels last as numpy.transpose(x, (0, 2, 3, 1)) does', () => {
    // x[b, c, h, w] = 1000b + 100c + 10h + w, shape [2, 3, 2, 2]
    const shape = [2, 3, 2, 2];
    const data = new Float32Array(24);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) data[((b * 3 + c) * 2 + h) * 2 + w] = 1000 * b + 100 * c + 10 * h + w;
    const nhwc = channelsLast(data, shape, 'NCHW');
    expect(nhwc.shape).toEqual([2, 2, 2, 3]);
    // element [b=1, h=1, w=0, c=2] sits at ((1*2+1)*2+0)*3+2 = 20
    expect(nhwc.data[20]).toBe(1000 + 200 + 10);
    expect(Array.from(channelsFirst(nhwc.data, nhwc.shape, 'NCHW').data)).toEqual(Array.from(data));
  });
  it('moves the channel axis of noise [B, N, C, W] behind its two leading axes', () => {
    const data = Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => i);
    const nwc = channelsLast(data, [2, 2, 3, 4], 'NCW', 2);
    expect(nwc.shape).toEqual([2, 2, 4, 3]);
    expect(Array.from(nwc.data.subarray(0, 6))).toEqual([0, 4, 8, 1, 5, 9]);
  });
  it('leaves flat features alone and refuses a non-permutation', () => {
    const data = Float32Array.of(1, 2, 3, 4);
    expect(channelsLast(data, [2, 2], 'NF').data).toBe(data);
    expect(() => transpose(data, [2, 2], [0, 0])).toThrow(/not a permutation/);
  });
});
