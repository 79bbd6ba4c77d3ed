import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AttributionError, hostTensor } from '@saliency/core';
import { checkRunsOnWebgl } from '../src/execution-provider/webgl-ops.js';
import { createOnnxBackend, type OnnxRuntimeModule, type OutputPosition } from '../src/index.js';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { countingOrt } from './helpers/counting-ort.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { paddleOcrModel } from './helpers/output-position-check.js';
import { VAD_DIST } from './helpers/silero-vad.js';
import { ortPageForSuite, runNode, runWebgl, values, type Outputs } from './helpers/webgl-page.js';

/*
 * The real models accepted on onnxruntime-node and wasm (Silero VAD,
 * PaddleOCR with outputPosition) built for onnxruntime-web's WebGL EP. None
 * of them can run there: Silero's STFT and encoder are 1-D convolutions (and
 * its state runs through LSTM), and every PaddleOCR model has HardSigmoid,
 * an op the EP lacks (the README's table of what WebGL refuses). The backend
 * refuses each with UNSUPPORTED_MODEL naming the op and the model's own node,
 * before any session is made. They were first refused for a Constant node,
 * which the EP does take (its graph loader reads the value as a constant):
 * the check now accepts that form, and the Chromium test below runs a graph
 * with Constant nodes on the EP.
 */

const onNode = ortNode as unknown as OnnxRuntimeModule;
const sr = { data: new BigInt64Array([16000n]), shape: [] };

interface RealModel {
  readonly name: string;
  readonly bytes: () => Uint8Array;
  readonly options: Record<string, unknown>;
  readonly shape: number[];
  /** What the EP lacks in the model's own forward nodes. */
  readonly refusal: RegExp;
}

const ONE_D_CONV = /op 'Conv' of Conv node "[^"]+" over 1 spatial axes is not supported/;
const HARD_SIGMOID = /op 'HardSigmoid' of HardSigmoid node "p2o\.HardSigmoid\.0" is not supported: the EP has no such op/;

const MODELS: RealModel[] = [
  {
    name: 'silero_vad_v5',
    bytes: () => readFileSync(join(VAD_DIST, 'silero_vad_v5.onnx')),
    options: { inputName: 'input', outputName: 'output', feeds: { sr, state: { data: new Float32Array(256), shape: [2, 1, 128] } } },
    shape: [1, 576],
    refusal: ONE_D_CONV,
  },
  {
    name: 'silero_vad_legacy',
    bytes: () => readFileSync(join(VAD_DIST, 'silero_vad_legacy.onnx')),
    options: {
      inputName: 'input',
      outputName: 'output',
      feeds: { sr, h: { data: new Float32Array(128), shape: [2, 1, 64] }, c: { data: new Float32Array(128), shape: [2, 1, 64] } },
    },
    shape: [1, 512],
    refusal: ONE_D_CONV,
  },
  ...(
    [
      ['ch_PP-OCRv4_rec_infer.onnx', [2, null], [1, 3, 48, 64]],
      ['ch_PP-OCRv4_det_infer.onnx', [null, 20, 33], [1, 3, 64, 64]],
    ] as Array<[string, OutputPosition, number[]]>
  ).map(([file, position, shape]) => ({
    name: file,
    bytes: () => readFileSync(paddleOcrModel(file)),
    options: { outputPosition: position },
    shape,
    refusal: HARD_SIGMOID,
  })),
];

describe.each(MODELS)('$name for the WebGL EP', ({ bytes, options, shape, refusal }) => {
  it("is refused before any session: UNSUPPORTED_MODEL naming the op and the model's own node", async () => {
    // onnxruntime-node runs the sessions, if any were made: the graphs are built for WebGL by the option.
    const counting = countingOrt(onNode);
    const backend = createOnnxBackend(counting.module, bytes(), { ...options, executionProvider: 'webgl' });
    try {
      const x = hostTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      for (const call of [() => backend.logits(x), () => backend.gradients(x, Int32Array.from([0]))]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AttributionError);
        expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
        expect((error as AttributionError).message).toMatch(refusal);
        expect((error as AttributionError).message).toMatch(/It is a node of the model itself/);
      }
      expect(counting.created()).toBe(0);
    } finally {
      await backend.dispose();
    }
  }, 120_000);
});

/** x [2, 3] + a Constant [3], then a Slice whose starts, ends and axes are Constant nodes (opset 13): the forms the EP's loader takes. */
function constantNodesModel(): Uint8Array {
  const int64 = (v: number[]) => ({ tensor: constTensor(DataType.INT64, [v.length], v) });
  return onnxBytes({
    nodes: [
      node('Constant', [], ['c'], { value: { tensor: constTensor(DataType.FLOAT, [3], [0.5, -1, 2]) } }),
      node('Add', ['x', 'c'], ['y']),
      node('Constant', [], ['starts'], { value: int64([1]) }),
      node('Constant', [], ['ends'], { value: int64([3]) }),
      node('Constant', [], ['axes'], { value: int64([1]) }),
      node('Slice', ['y', 'starts', 'ends', 'axes'], ['z']),
    ],
    inputs: [valueInfo('x', [2, 3])],
    outputs: [valueInfo('z', [2, 2])],
    opset: 13,
  });
}

describe('Constant nodes on the WebGL EP', () => {
  it('pass the check with a tensor value, and are refused in any other form, naming the attribute', () => {
    const model = fromBinary(ModelProtoSchema, constantNodesModel());
    expect(() => checkRunsOnWebgl(model.graph!, 13, 'the test graph')).not.toThrow();
    const scalar = fromBinary(
      ModelProtoSchema,
      onnxBytes({
        nodes: [node('Constant', [], ['c'], { value_float: { float: 2 } }), node('Add', ['x', 'c'], ['y'])],
        inputs: [valueInfo('x', [2, 3])],
        outputs: [valueInfo('y', [2, 3])],
      }),
    );
    expect(() => checkRunsOnWebgl(scalar.graph!, 13, 'the test graph')).toThrow(
      /op 'Constant' of Constant node .* with attributes value_float is not supported: the EP reads a Constant's value from a single tensor attribute \(value\) only/,
    );
  });

  const page = ortPageForSuite('webgl');

  it('run in Chromium (SwiftShader WebGL) as on onnxruntime-node', async () => {
    const bytes = constantNodesModel();
    const feeds = { x: { dims: [2, 3], data: values(6, 5) } };
    const expected = (await runNode(bytes, feeds))['z']!.data as Float32Array;
    const result = await runWebgl(page(), bytes, feeds);
    expect(typeof result, String(result)).toBe('object');
    expect((result as Outputs)['z']!.data).toEqual(Array.from(expected));
  }, 120_000);
});
