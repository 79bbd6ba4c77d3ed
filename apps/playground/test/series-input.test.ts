import { describe, expect, it } from 'vitest';
import { parseSeriesCsv } from '../src/series-input.js';

describe('parseSeriesCsv', () => {
  it('reads rows as time steps and columns as channels, under an optional header', () => {
    expect(parseSeriesCsv('I,II\n1,2\n3,4\n5,6\n', 'a.csv')).toEqual({
      data: Float32Array.of(1, 2, 3, 4, 5, 6),
      time: 3,
      channels: 2,
      names: ['I', 'II'],
    });
    expect(parseSeriesCsv('1;-2\r\n3e-1;4\r\n', 'b.csv')).toEqual({
      data: Float32Array.of(1, -2, 0.3, 4),
      time: 2,
      channels: 2,
      names: undefined,
    });
    expect(parseSeriesCsv('0.5\n0.25\n', 'c.csv').channels).toBe(1);
  });

  it('refuses ragged rows, non-numbers and a header alone, naming the line', () => {
    expect(() => parseSeriesCsv('I,II\n1,2\n3\n', 'ecg.csv')).toThrow('ecg.csv: line 3 has 1 values; the first line has 2');
    expect(() => parseSeriesCsv('1,2\n3,x\n', 'ecg.csv')).toThrow('ecg.csv: line 2, column 2: "x" is not a finite number');
    expect(() => parseSeriesCsv('I,II\n', 'ecg.csv')).toThrow('ecg.csv: a header (I, II) but no rows of values');
    expect(() => parseSeriesCsv('\n', 'ecg.csv')).toThrow('ecg.csv: the file is empty');
  });
});
