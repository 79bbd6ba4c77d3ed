import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
// The recurrent layers' orthogonal initializer calls chained ops (tensor.flatten()), which @tensorflow/tfjs registers and tfjs-core alone does not.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { gradientRows, gradientTable, LAYER_END, LAYER_START, layerRows, layerTable, replaceTable } from '../scripts/gradient-table.mjs';
import { RULE_KERNEL_NAMES } from '../src/gradient-rules.js';
import { SUPPLIED_KERNEL_NAMES } from '../src/supplied-kernels.js';
import { FILTER_GRADIENT_KERNELS } from '../src/discarded-filter-gradients.js';
import { tf, useBackend } from './helpers/tfjs-setup.js';

const OURS = {
  ruleKernels: RULE_KERNEL_NAMES,
  suppliedKernels: SUPPLIED_KERNEL_NAMES,
  discardedKernels: FILTER_GRADIENT_KERNELS,
};

/** The converter ops of the real and fixture models this repository explains. */
const OPS_IN_OUR_MODELS = [
  '_FusedConv2D',
  'FusedDepthwiseConv2dNative',
  '_FusedMatMul',
  'Conv2D',
  'DepthwiseConv2dNative',
  'MatMul',
  'BiasAdd',
  'AddV2',
  'Mul',
  'Relu',
  'Relu6',
  'Prelu',
  'LeakyRelu',
  'Sigmoid',
  'Elu',
  'MaxPool',
  'AvgPool',
  'Mean',
  'Reshape',
  'Squeeze',
  'ConcatV2',
  'Pad',
  'Softmax',
  'StridedSlice',
  'GatherV2',
  'Transpose',
];

/** The tfjs-layers layers of the parity fixtures and the test models. */
const LAYERS_IN_OUR_MODELS = [
  'Conv1D',
  'Conv2D',
  'DepthwiseConv2D',
  'Dense',
  'BatchNormalization',
  'ReLU',
  'Activation (relu)',
  'Activation (sigmoid)',
  'Activation (softmax)',
  'MaxPooling1D',
  'MaxPooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'ZeroPadding2D',
  'Add',
  'Concatenate',
  'Flatten',
  'Embedding',
];

describe('the gradient table in README.md', () => {
  it('is the one generated from the TF.js installed now (npm run gradient-table)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(replaceTable(readme, gradientTable(tf, OURS))).toBe(readme);
  });

  it('has the table of layers generated from the tfjs-layers installed now', async () => {
    await useBackend('cpu');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(replaceTable(readme, await layerTable(tf, tfl, OURS), LAYER_START, LAYER_END)).toBe(readme);
    const rows = new Map((await layerRows(tf, tfl, OURS)).map((row) => [row.name, row]));
    for (const layer of LAYERS_IN_OUR_MODELS) {
      const row = rows.get(layer);
      expect(row, layer).toBeDefined();
      for (const cell of row!.cells) expect(cell, `${layer}: ${cell}`).toMatch(/^(native|ours)$/);
    }
    expect(rows.get('DepthwiseConv2D')!.cells).toEqual(['native', 'ours', 'native', 'native']);
  });

  it('has a gradient on every backend for the ops of the models we explain', () => {
    const rows = new Map(gradientRows(tf, OURS).map((row) => [row.name, row]));
    for (const op of OPS_IN_OUR_MODELS) {
      const row = rows.get(op);
      expect(row, op).toBeDefined();
      for (const cell of row!.cells) expect(cell, `${op}: ${cell}`).toMatch(/^(native|ours)$/);
    }
  });

  it('names the depthwise input gradient on wasm as ours and a kernel we do not supply as missing', () => {
    const rows = new Map(gradientRows(tf, OURS).map((row) => [row.name, row]));
    expect(rows.get('DepthwiseConv2dNative')!.cells).toEqual(['native', 'ours', 'native', 'native']);
    const withoutOurs = new Map(gradientRows(tf, { ...OURS, suppliedKernels: [] }).map((row) => [row.name, row]));
    expect(withoutOurs.get('DepthwiseConv2dNative')!.cells[1]).toBe('**missing** (DepthwiseConv2dNativeBackpropInput)');
  });
});
