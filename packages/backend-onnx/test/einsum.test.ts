import { describe, expect, it } from 'vitest';
import { checkGradient, type Operand } from './helpers/check-gradient.js';
import { runGradient } from './helpers/run-gradient.js';

const constant = (shape: number[]): Operand => ({ shape, constant: true });

describe('Einsum', () => {
  it.each([
    [
      'bij,bjk->bik',
      [
        [2, 3, 4],
        [2, 4, 2],
      ],
    ],
    [
      'bhqd,bhkd->bhqk',
      [
        [1, 2, 3, 4],
        [1, 2, 2, 4],
      ],
    ],
    ['ij->ji', [[3, 4]]],
    ['ij->i', [[3, 4]]],
    ['ij->', [[3, 4]]],
    ['ij,j->i', [[3, 4], [4]]],
    ['i,j->ij', [[3], [2]]],
    [
      'ij,ij->ij',
      [
        [2, 3],
        [2, 3],
      ],
    ],
    [
      '...ij,...jk->...ik',
      [
        [2, 2, 3],
        [2, 3, 2],
      ],
    ],
    ['b...d,d->b...', [[2, 3, 2, 4], [4]]],
    [
      'ij,jk',
      [
        [2, 3],
        [3, 2],
      ],
    ],
    [
      'ba,ca',
      [
        [2, 3],
        [4, 3],
      ],
    ],
    ['ii->i', [[3, 3]]],
    ['nchw,c->nhw', [[1, 3, 2, 2], [3]]],
  ])('%s %j, every operand', (equation, shapes) =>
    checkGradient({
      opType: 'Einsum',
      opset: 12,
      attributes: { equation: { string: equation } },
      inputs: shapes.map((shape) => ({ shape })),
    }).catch((e: Error) => {
      if (equation === 'ii->i' && /repeats a label/.test(e.message)) return;
      throw e;
    }),
  );
  it('a weight operand as a constant', () =>
    checkGradient({
      opType: 'Einsum',
      opset: 13,
      attributes: { equation: { string: 'bsd,hd->bsh' } },
      inputs: [{ shape: [2, 3, 4] }, constant([5, 4])],
    }));
  it('a label summed in one operand only: ij,k->i broadcasts x̄ over j', async () => {
    const gradient = await runGradient(
      {
        opType: 'Einsum',
        opset: 12,
        attributes: { equation: { string: 'ij,k->i' } },
        inputs: [{ shape: [2, 3] }, { shape: [2], values: [1, 2], constant: true }],
      },
      0,
      [1, 10],
    );
    expect(Array.from(gradient)).toEqual([3, 3, 3, 30, 30, 30]);
  });
  it('refuses a diagonal operand, naming it', async () => {
    await expect(
      runGradient({ opType: 'Einsum', opset: 12, attributes: { equation: { string: 'ii->i' } }, inputs: [{ shape: [3, 3] }] }, 0),
    ).rejects.toThrow(/Einsum node .*operand 0 repeats a label/);
  });
});
