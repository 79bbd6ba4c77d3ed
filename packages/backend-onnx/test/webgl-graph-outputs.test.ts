import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { LAYER_ACTIVATION_OUTPUT, LAYER_GRADIENT_OUTPUT, LOGITS_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { buildFixtureGraph, parityModel } from './helpers/export-fixtures.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { gradientFeeds, ortPageForSuite, relativeMaxError, runNode, runWebgl, values, type Outputs } from './helpers/webgl-page.js';

/*
 * onnxruntime-web's WebGL EP (1.30, Graph.finalizeGraph) renumbers a graph
 * output after its graph clean-up has removed values before it only when no
 * node consumes that output. An Identity into a graph output is removed, and
 * the output then names the Identity's input: if other nodes read that value
 * too (Grad-CAM's layer activation, which the rest of the model consumes),
 * the output keeps a stale number. These run in Chromium with SwiftShader
 * WebGL (dev-support/chromium.mjs), on the EP's own bundle.
 */

const GPU_TOLERANCE = 1e-3;

/** x → Relu → a, read by Neg (output y) and copied into output `a_out` by `copy`. */
function readOutputModel(copy: 'Identity' | 'Mul'): Uint8Array {
  return onnxBytes({
    nodes: [
      node('Relu', ['x'], ['a']),
      node('Neg', ['a'], ['y']),
      copy === 'Identity' ? node('Identity', ['a'], ['a_out']) : node('Mul', ['a', 'one'], ['a_out']),
    ],
    initializers: copy === 'Mul' ? { one: { dims: [1], values: [1] } } : {},
    inputs: [valueInfo('x', [2, 3])],
    outputs: [valueInfo('y', [2, 3]), valueInfo('a_out', [2, 3])],
  });
}

/** The layer model (Grad-CAM's default layer) of a parity fixture at batch 2, built for `executionProvider`. */
function layerModel(name: string, executionProvider: 'cpu' | 'webgl') {
  return buildFixtureGraph(fromBinary(ModelProtoSchema, parityModel(name)), { result: 'layer', executionProvider });
}

describe('graph outputs of a layer model', () => {
  const producer = (bytes: Uint8Array, output: string) =>
    fromBinary(ModelProtoSchema, bytes).graph!.node.find((n) => n.output.includes(output))?.opType;

  it('copies the activation, which the model reads on, by a Mul on WebGL only, and the gradient by an Identity everywhere', () => {
    const webgl = layerModel('cnn_bn', 'webgl').built.bytes;
    const cpu = layerModel('cnn_bn', 'cpu').built.bytes;
    expect(producer(webgl, LAYER_ACTIVATION_OUTPUT)).toBe('Mul');
    expect(producer(cpu, LAYER_ACTIVATION_OUTPUT)).toBe('Identity');
    expect(producer(webgl, LAYER_GRADIENT_OUTPUT)).toBe('Identity');
    expect(producer(webgl, LOGITS_OUTPUT)).toBe('Identity');
  });
});

describe('onnxruntime-web WebGL EP: a graph output that other nodes also read', () => {
  const page = ortPageForSuite('webgl');

  const x = values(6, 7);
  const relu = x.map((v) => Math.max(v, 0));

  it('loses it when an Identity copies it (the runtime bug the WebGL build works around)', async () => {
    const result = await runWebgl(page(), readOutputModel('Identity'), {
      x: { dims: [2, 3], data: x },
    });
    // If this fails because the values are right, the EP was fixed: the Mul of
    // copyOutputsKept (build-gradient-model.ts) is no longer needed.
    if (typeof result === 'string') expect(result).toMatch(/required output \[\d+\] does not have value/);
    else expect(result['a_out']?.data).not.toEqual(relu.map(Math.fround));
  }, 120_000);

  it('keeps it when a Mul by one copies it', async () => {
    const result = await runWebgl(page(), readOutputModel('Mul'), {
      x: { dims: [2, 3], data: x },
    });
    expect(typeof result, String(result)).toBe('object');
    const outputs = result as Outputs;
    expect(outputs['a_out']!.data).toEqual(relu.map(Math.fround));
    expect(outputs['y']!.data).toEqual(relu.map((v) => Math.fround(-v)));
  }, 120_000);

  // The parity fixtures whose Grad-CAM lost its layer activation on WebGL.
  it.each(['cnn_bn', 'image_model', 'shufflenet', 'depthwise_separable'])(
    "%s: the layer model built for webgl returns the layer's activation and gradient (vs onnxruntime-node)",
    async (name) => {
      const { built, input } = layerModel(name, 'webgl');
      const feeds = gradientFeeds(input, built.logitsShape);
      const reference = await runNode(built.bytes, feeds);
      const result = await runWebgl(page(), built.bytes, feeds);
      expect(typeof result, String(result)).toBe('object');
      for (const output of [LAYER_ACTIVATION_OUTPUT, LAYER_GRADIENT_OUTPUT]) {
        const expected = reference[output]!;
        const actual = (result as Outputs)[output]!;
        expect(actual.dims, output).toEqual([...expected.dims]);
        const error = relativeMaxError(actual.data, expected.data as Float32Array);
        console.log(`${name} ${output} on webgl: relative max error ${error.toExponential(2)} vs onnxruntime-node`);
        expect(error, output).toBeLessThanOrEqual(GPU_TOLERANCE);
      }
    },
    300_000,
  );
});
