import { fromBinary } from '@bufbuild/protobuf';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GRADIENT_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import { ModelProtoSchema, type ModelProto } from '../src/proto/onnx_pb.js';
import { buildFixtureGraph, parityModel } from './helpers/export-fixtures.js';
import { node, onnxBytes, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import {
  gradientFeeds,
  ortPageForSuite,
  relativeMaxError,
  runNode,
  runWebgl,
  values,
  type Feeds,
  type Outputs,
} from './helpers/webgl-page.js';

/*
 * onnxruntime-web's WebGL EP (1.30) gives a Reshape or Flatten output the
 * texture of its input, with the input's width and height, while its
 * element-wise kernels read a same-shaped input texel by texel as if laid out
 * like their output: Relu(Flatten(MaxPool(x))) is wrong with no error.
 * LRP-αβ reads a Flatten–Gemm head's input by Relu (x⁺), so its map of a CNN
 * was wrong on WebGL (apps/parity's cnn_bn, image_model); the graph built for
 * WebGL copies such a view by a broadcasting Mul by one first
 * (autodiff/view-copies.ts). Run in Chromium with SwiftShader WebGL.
 */

const GPU_TOLERANCE = 1e-3;
const [C, H] = [8, 8];
const FEATURES = C * (H / 2) * (H / 2);
const POOL = { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } };

/** x [2, C, H, H] → Relu → MaxPool 2×2 → Flatten, then `head` nodes reading `f`. */
function flattenedPoolModel(head: ReturnType<typeof node>[], outputs: ReturnType<typeof valueInfo>[], withWeights: boolean): ModelProto {
  return onnxModel({
    nodes: [node('Relu', ['x'], ['a']), node('MaxPool', ['a'], ['p'], POOL), node('Flatten', ['p'], ['f']), ...head],
    initializers: withWeights
      ? {
          w: { dims: [4, FEATURES], values: values(4 * FEATURES, 3) },
          b: { dims: [4], values: values(4, 5) },
        }
      : {},
    inputs: [valueInfo('x', [2, C, H, H])],
    outputs,
  });
}

/** LRP-αβ's input relevance of `model`, built for WebGL, on the WebGL EP vs the same graph on onnxruntime-node. */
async function alphaBetaError(page: Page, model: ModelProto): Promise<number> {
  const { built, input } = buildFixtureGraph(model, { result: 'gradient', backward: 'lrp_alpha_1_beta_0', executionProvider: 'webgl' });
  const feeds = gradientFeeds(input, built.logitsShape);
  const reference = await runNode(built.bytes, feeds);
  const result = await runWebgl(page, built.bytes, feeds);
  expect(typeof result, String(result)).toBe('object');
  return relativeMaxError((result as Outputs)[GRADIENT_OUTPUT]!.data, reference[GRADIENT_OUTPUT]!.data as Float32Array);
}

describe('onnxruntime-web WebGL EP: element-wise ops reading a Flatten output', () => {
  const page = ortPageForSuite('webgl');

  const x: Feeds = {
    x: { dims: [2, C, H, H], data: values(2 * C * H * H, 7) },
  };

  it('computes Relu(Flatten(MaxPool(·))) wrong, and right after a Mul by one (the runtime bug the WebGL build works around)', async () => {
    const relu = (copy: boolean) =>
      onnxBytes({
        nodes: [
          node('Relu', ['x'], ['a']),
          node('MaxPool', ['a'], ['p'], POOL),
          node('Flatten', ['p'], ['f']),
          ...(copy ? [node('Mul', ['f', 'one'], ['g']), node('Relu', ['g'], ['r'])] : [node('Relu', ['f'], ['r'])]),
        ],
        initializers: copy ? { one: { dims: [1], values: [1] } } : {},
        inputs: [valueInfo('x', [2, C, H, H])],
        outputs: [valueInfo('r', [2, FEATURES])],
      });
    const expected = (await runNode(relu(false), x))['r']!.data as Float32Array;
    const direct = await runWebgl(page(), relu(false), x);
    const copied = await runWebgl(page(), relu(true), x);
    expect(typeof direct, String(direct)).toBe('object');
    // If this fails because the values are right, the EP was fixed: view-copies.ts is no longer needed.
    expect(relativeMaxError((direct as Outputs)['r']!.data, expected)).toBeGreaterThan(0.1);
    expect((copied as Outputs)['r']!.data).toEqual(Array.from(expected));
  }, 120_000);

  it('gives LRP-αβ of a MaxPool–Flatten–Gemm head built for webgl as onnxruntime-node does', async () => {
    const model = flattenedPoolModel([node('Gemm', ['f', 'w', 'b'], ['y'], { transB: { int: 1 } })], [valueInfo('y', [2, 4])], true);
    expect(await alphaBetaError(page(), model)).toBeLessThanOrEqual(GPU_TOLERANCE);
  }, 120_000);

  it.each(['cnn_bn', 'image_model'])(
    'gives LRP-αβ of the parity fixture %s built for webgl as onnxruntime-node does',
    async (name) => {
      const model = fromBinary(ModelProtoSchema, parityModel(name));
      expect(await alphaBetaError(page(), model)).toBeLessThanOrEqual(GPU_TOLERANCE);
    },
    300_000,
  );
});
