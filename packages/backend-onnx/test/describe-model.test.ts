import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AttributionError } from '@saliency/core';
import { describeOnnxModel } from '../src/index.js';
import { ModelProtoSchema, StringStringEntryProtoSchema } from '../src/proto/onnx_pb.js';
import { DataType } from '../src/model/data-type.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

describe('describeOnnxModel', () => {
  it('lists the inputs (not the initializers), the outputs with their shapes and types, and the external data files', () => {
    const model = onnxModel({
      nodes: [
        node('MatMul', ['input', 'w'], ['logits']),
        node('Add', ['logits', 'b'], ['shifted']),
        node('Cast', ['shifted'], ['ids'], { to: { int: DataType.INT64 } }),
      ],
      initializers: { w: { dims: [6, 4], values: new Array(24).fill(0.5) }, b: { dims: [4], values: [1, 2, 3, 4] } },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('shifted', ['batch', 4]), valueInfo('ids', [2, 4], DataType.INT64)],
    });
    // the initializers are graph inputs too in older exports: they must not be listed
    model.graph!.input.push(valueInfo('w', [6, 4]));
    for (const [name, file] of [
      ['w', 'weights.bin'],
      ['b', 'weights.bin'],
    ] as const) {
      const tensor = model.graph!.initializer.find((t) => t.name === name)!;
      tensor.rawData = new Uint8Array(0);
      tensor.dataLocation = 1;
      tensor.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: file })];
    }
    expect(describeOnnxModel(toBinary(ModelProtoSchema, model))).toEqual({
      inputs: [{ name: 'input', type: 'float32', shape: ['batch', 6] }],
      outputs: [
        { name: 'shifted', type: 'float32', shape: ['batch', 4] },
        { name: 'ids', type: 'int64', shape: [2, 4] },
      ],
      externalDataFiles: ['weights.bin'],
    });
  });

  it('refuses bytes that are not a model', () => {
    expect(() => describeOnnxModel(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(AttributionError);
  });
});
