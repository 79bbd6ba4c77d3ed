import { describe, it } from 'vitest';
import { checkGradient, uniformValues } from './helpers/check-gradient.js';

describe.each(['Sin', 'Cos'])('%s', (opType) => {
  it.each([[[3]], [[2, 3]], [[2, 3, 2]]])('%j over [−4, 4]', (shape) =>
    checkGradient({
      opType,
      opset: 13,
      inputs: [
        {
          shape,
          values: uniformValues(
            shape.reduce((n, d) => n * d, 1),
            9,
            -4,
            4,
          ),
        },
      ],
    }),
  );
  it('opset 7', () => checkGradient({ opType, opset: 7, inputs: [{ shape: [4] }] }));
});
