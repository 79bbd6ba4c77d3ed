#!/usr/bin/env node
// Two small hostile ONNX files, as a user downloading models might meet
// them (docs/bad-inputs.md, "Hostile models"); the tests of backend-onnx and
// of the CLI build them with this script:
//
//   node scripts/make-hostile-models.mjs <folder>
//
// writes <folder>/huge-initializer.onnx (dims 100000 × 100000 floats over
// 4 bytes of data, read by a MatMul) and <folder>/huge-constant.onnx (a
// ConstantOfShape of shape [1, 2000000000] feeding an Add on the explained
// path; about 200 bytes). Needs the package built (dist/).
import { create, toBinary } from '@bufbuild/protobuf';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from '../dist/proto/onnx_pb.js';

const FLOAT = 1;
const INT64 = 7;

function valueInfo(name, shape) {
  const dim = shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    }),
  );
  const tensorType = create(TypeProto_TensorSchema, { elemType: FLOAT, shape: create(TensorShapeProtoSchema, { dim }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

function model(nodes, initializers, inputs, outputs) {
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
      graph: create(GraphProtoSchema, { name: 'hostile', node: nodes, initializer: initializers, input: inputs, output: outputs }),
    }),
  );
}

/** The two files, by name: their bytes and the shape of one example of the input they declare. */
export function hostileModels() {
  const hugeInitializer = model(
    [create(NodeProtoSchema, { opType: 'MatMul', name: 'matmul', input: ['input', 'w'], output: ['output'] })],
    [create(TensorProtoSchema, { name: 'w', dims: [100000n, 100000n], dataType: FLOAT, rawData: new Uint8Array(4) })],
    [valueInfo('input', ['batch', 100000])],
    [valueInfo('output', ['batch', 100000])],
  );
  const shape = new Uint8Array(new BigInt64Array([1n, 2000000000n]).buffer);
  const hugeConstant = model(
    [
      create(NodeProtoSchema, { opType: 'ConstantOfShape', name: 'huge_constant', input: ['shape'], output: ['zeros'] }),
      create(NodeProtoSchema, { opType: 'Add', name: 'add', input: ['input', 'zeros'], output: ['output'] }),
    ],
    [create(TensorProtoSchema, { name: 'shape', dims: [2n], dataType: INT64, rawData: shape })],
    [valueInfo('input', ['batch', 1])],
    [valueInfo('output', ['batch', 2000000000])],
  );
  return {
    'huge-initializer.onnx': { bytes: hugeInitializer, exampleShape: [100000] },
    'huge-constant.onnx': { bytes: hugeConstant, exampleShape: [1] },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folder = process.argv[2];
  if (folder === undefined) {
    console.error('usage: node scripts/make-hostile-models.mjs <folder>');
    process.exit(2);
  }
  mkdirSync(folder, { recursive: true });
  for (const [name, { bytes }] of Object.entries(hostileModels())) writeFileSync(join(folder, name), bytes);
}
