import { describe, expect, it } from 'vitest';
import * as saliency from '../src/index.js';
import { explain, hostTensor, VarGrad, VarGradXInput, VarGradXSign } from '../src/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';
import { INPUT_GRADIENT_METHODS } from './input-gradient-methods.js';

const x = hostTensor([0.3, -0.7, 0.2, 1.1, -0.4, 0.9], [2, 3]);
const backend = () => closedFormBackend(quadraticModel(3, 2));

describe('attribution classes', () => {
  it('mirror SignXAI: constructor defaults, per-call overrides', async () => {
    const vargrad = new VarGrad(backend(), { noiseScale: 1.0, numSamples: 16 });
    expect((await vargrad.attribute(x, { target: 1 })).data).toEqual((await explain(backend(), 'vargrad', x, { target: 1 })).data);
    const overridden = await vargrad.attribute(x, { target: 1, noiseScale: 0.3, numSamples: 4 });
    expect(overridden.data).toEqual((await explain(backend(), 'vargrad', x, { target: 1, noiseScale: 0.3, numSamples: 4 })).data);
  });

  it('let a call switch from an absolute σ to a relative one', async () => {
    const vargrad = new VarGrad(backend(), { noiseScale: 0.5 });
    const relative = await vargrad.attribute(x, { noiseLevel: 0.1 });
    expect(relative.data).toEqual((await explain(backend(), 'vargrad', x, { noiseLevel: 0.1 })).data);
  });

  it('VarGradXInput and VarGradXSign with mu match their method names', async () => {
    const options = { target: 0, numSamples: 8 };
    expect((await new VarGradXInput(backend()).attribute(x, options)).data).toEqual(
      (await explain(backend(), 'vargrad_x_input', x, options)).data,
    );
    expect((await new VarGradXSign(backend(), { mu: -0.5 }).attribute(x, options)).data).toEqual(
      (await explain(backend(), 'vargrad_x_sign_mu_neg_0_5', x, options)).data,
    );
  });

  it('exist for every method name', async () => {
    const classes: Array<[string, new (b: saliency.GradientBackend) => saliency.Attribution]> = [
      ['gradient', saliency.Gradient],
      ['gradient_x_input', saliency.GradientXInput],
      ['gradient_x_sign', saliency.GradientXSign],
      ['gradient_x_input_x_sign', saliency.GradientXInputXSign],
      ['smoothgrad', saliency.SmoothGrad],
      ['smoothgrad_x_input', saliency.SmoothGradXInput],
      ['smoothgrad_x_sign', saliency.SmoothGradXSign],
      ['smoothgrad_x_input_x_sign', saliency.SmoothGradXInputXSign],
      ['smoothgrad_squared', saliency.SmoothGradSquared],
      ['vargrad', saliency.VarGrad],
      ['vargrad_x_input', saliency.VarGradXInput],
      ['vargrad_x_sign', saliency.VarGradXSign],
      ['vargrad_x_input_x_sign', saliency.VarGradXInputXSign],
      ['integrated_gradients', saliency.IntegratedGradients],
      ['integrated_gradients_x_input', saliency.IntegratedGradientsXInput],
      ['integrated_gradients_x_sign', saliency.IntegratedGradientsXSign],
      ['integrated_gradients_x_input_x_sign', saliency.IntegratedGradientsXInputXSign],
    ];
    expect(classes.map(([name]) => name).sort()).toEqual([...INPUT_GRADIENT_METHODS].sort());
    for (const [name, Method] of classes) {
      const instance = new Method(backend());
      expect(instance.method).toEqual(saliency.parseMethodName(name));
      expect((await instance.attribute(x, { steps: 4, numSamples: 4 })).data).toEqual(
        (await explain(backend(), name, x, { steps: 4, numSamples: 4 })).data,
      );
    }
  });
});
