import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attributableTensors } from '../src/index.js';
import { PARITY_MODELS } from './helpers/export-fixtures.js';
import { TEXT_FIXTURES } from './helpers/text-fixtures.js';
import { thrown } from './helpers/thrown.js';

const shapes = (list: ReturnType<typeof attributableTensors>) => Object.fromEntries(list.tensors.map((t) => [t.name, t.shape]));

describe('attributableTensors', () => {
  it('lists the tensors of the parity cnn_bn with the shapes its PyTorch module gives them, and the last feature map for Grad-CAM', () => {
    // make-parity-fixtures.py: Conv2d(3, 8, 3, padding=1), BN, ReLU, MaxPool2d(2), Conv2d(8, 16, 3, padding=1), BN, ReLU,
    // MaxPool2d(2), Flatten, Linear(256, 10) on [batch, 3, 16, 16]; the export folds each BatchNorm into its Conv.
    const found = attributableTensors(readFileSync(new URL('cnn_bn.onnx', PARITY_MODELS)));
    expect(found.inputName).toBe('input');
    expect(found.outputName).toBe('logits');
    expect(shapes(found)).toEqual({
      '/0/Conv_output_0': [null, 8, 16, 16],
      '/2/Relu_output_0': [null, 8, 16, 16],
      '/3/MaxPool_output_0': [null, 8, 8, 8],
      '/4/Conv_output_0': [null, 16, 8, 8],
      '/6/Relu_output_0': [null, 16, 8, 8],
      '/7/MaxPool_output_0': [null, 16, 4, 4],
      '/8/Flatten_output_0': [null, 256],
      logits: [null, 10],
    });
    expect(found.tensors.map((t) => t.name)).toEqual(Object.keys(shapes(found)));
    expect(found.tensors.filter((t) => t.featureMap).map((t) => t.name)).toEqual(Object.keys(shapes(found)).slice(0, 6));
    expect(found.tensors.every((t) => t.type === 'float32')).toBe(true);
    expect(found.tensors[0]!.op).toBe('Conv');
    expect(found.defaultGradCamLayer).toBe('/7/MaxPool_output_0');
    expect(found.defaultLayer).toBeUndefined();
  });

  it('gives the batch when the shapes say it, so that no dimension is free', () => {
    const found = attributableTensors(readFileSync(new URL('cnn_bn.onnx', PARITY_MODELS)), { shapes: { input: [3, 3, 16, 16] } });
    expect(found.tensors.find((t) => t.name === '/7/MaxPool_output_0')!.shape).toEqual([3, 16, 4, 4]);
  });

  it('attributes token ids of the text fixture at the word embeddings, of shape [batch, sequence, hidden]', () => {
    // make-text-fixtures.py: TinyBert, nn.Embedding(VOCAB, HIDDEN = 16) on input_ids [batch, sequence], 3 classes.
    const found = attributableTensors(readFileSync(new URL('bert.onnx', TEXT_FIXTURES)), { inputName: 'input_ids' });
    expect(found.defaultLayer).toBe('/word/Gather_output_0');
    const listed = shapes(found);
    expect(listed['/word/Gather_output_0']).toEqual([null, null, 16]);
    expect(listed.logits).toEqual([null, 3]);
    // LayerNorm of the summed embeddings: still [batch, sequence, hidden]
    expect(listed['/ln/Add_1_output_0']).toEqual([null, null, 16]);
    expect(found.tensors[0]!.name).toBe('/word/Gather_output_0');
    // rank-2 ids: no feature map for Grad-CAM
    expect(found.defaultGradCamLayer).toBeUndefined();
    expect(found.tensors.some((t) => t.featureMap)).toBe(false);
  });

  it('refuses an input the output depends on through integers only, an unknown input, and a missing choice', () => {
    const bytes = readFileSync(new URL('bert.onnx', TEXT_FIXTURES));
    // the mask reaches the logits through Unsqueeze of int64 values before its Cast: no float path carries a gradient
    const mask = thrown(() => attributableTensors(bytes, { inputName: 'attention_mask' }));
    expect(mask.code).toBe('UNSUPPORTED_MODEL');
    expect(mask.message).toContain('does not depend on the input "attention_mask"');
    const error = thrown(() => attributableTensors(bytes, { inputName: 'pixels' }));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toContain('"input_ids"');
    expect(thrown(() => attributableTensors(bytes)).message).toContain('choose one with the inputName option');
  });

  it("names the two-input fixture's feature map tanh(conv(image)) [batch, 6, H, W] as Grad-CAM's layer", () => {
    // make-text-fixtures.py: TwoInput, Conv2d(3, 6, 3, padding=1) on image; the fixture fixes H and W in its declared shape.
    const bytes = readFileSync(new URL('two_input.onnx', TEXT_FIXTURES));
    const found = attributableTensors(bytes, { inputName: 'image' });
    const layer = found.tensors.find((t) => t.name === found.defaultGradCamLayer)!;
    expect(layer.op).toBe('Tanh');
    expect(layer.shape.slice(1, 2)).toEqual([6]);
    expect(layer.featureMap).toBe(true);
  });
});
