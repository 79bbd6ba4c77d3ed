import { describe, expect, it } from 'vitest';
import { uniformValues } from './helpers/op-case.js';
import { checkGradient, type GradientCase, type Operand } from './helpers/check-gradient.js';

const weight = (shape: number[], seed: number): Operand => ({
  shape,
  values: uniformValues(
    shape.reduce((n, d) => n * d, 1),
    seed,
    -0.8,
    0.8,
  ),
  constant: true,
});

/** A cell case: X [T, B, I], weights for `gates`·H rows, optional biases and initial states (differentiated when `states`). */
function cell(
  opType: 'LSTM' | 'GRU',
  direction: string,
  { t = 3, b = 2, i = 3, h = 2, bias = true, states = false, attributes = {} } = {},
): (output: number) => GradientCase {
  const d = direction === 'bidirectional' ? 2 : 1;
  const gates = opType === 'LSTM' ? 4 : 3;
  const inputs: Array<Operand | null> = [
    { shape: [t, b, i] },
    weight([d, gates * h, i], 11),
    weight([d, gates * h, h], 12),
    bias ? weight([d, 2 * gates * h], 13) : null,
  ];
  if (states) {
    inputs.push(null, { shape: [d, b, h] });
    if (opType === 'LSTM') inputs.push({ shape: [d, b, h] });
  }
  const outputs = opType === 'LSTM' ? 3 : 2;
  return (output) => ({
    opType,
    opset: 14,
    outputs,
    output,
    attributes: { direction: { string: direction }, hidden_size: { int: h }, ...attributes },
    inputs,
  });
}

describe.each(['LSTM', 'GRU'] as const)('%s', (opType) => {
  describe.each(['forward', 'reverse', 'bidirectional'])('direction %s', (direction) => {
    it('Y, Y_h (and Y_c) with biases', async () => {
      const c = cell(opType, direction);
      for (let output = 0; output < (opType === 'LSTM' ? 3 : 2); output++) await checkGradient(c(output));
    });
    it('without biases, with initial states differentiated too', async () => {
      const c = cell(opType, direction, { bias: false, states: true });
      await checkGradient(c(0));
      await checkGradient(c(1));
    });
  });
  it('one step, batch 1', () => checkGradient(cell(opType, 'forward', { t: 1, b: 1 })(0)));
  it('explicit default activations and sequence_lens all T', () => {
    const activations = opType === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
    const base = cell(opType, 'forward', { attributes: { activations: { strings: activations } } })(0);
    const inputs = [...base.inputs, { shape: [2], values: [3, 3], dataType: 6, constant: true }];
    return checkGradient({ ...base, inputs: inputs.slice(0, 4).concat([inputs[inputs.length - 1]!]) });
  });
});

describe('GRU linear_before_reset', () => {
  it.each(['forward', 'bidirectional'])('direction %s', async (direction) => {
    const c = cell('GRU', direction, { states: true, attributes: { linear_before_reset: { int: 1 } } });
    await checkGradient(c(0));
    await checkGradient(c(1));
  });
});

describe('refusals', () => {
  it.each([
    [{ activations: { strings: ['Relu', 'Tanh'] } }, /activations \[Relu, Tanh\] are not supported; only the defaults \[Sigmoid, Tanh\]/],
    [{ layout: { int: 1 } }, /layout = 1 \(batch first\) is not supported/],
    [{ clip: { float: 3 } }, /clip is not supported/],
  ])('GRU %j', async (attributes, message) => {
    const c = cell('GRU', 'forward', { attributes })(0);
    await expect(checkGradient(c)).rejects.toThrow(message);
  });
});
