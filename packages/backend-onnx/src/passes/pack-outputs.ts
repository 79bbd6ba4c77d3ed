import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema, NodeProtoSchema } from '../proto/onnx_pb.js';
import { DataType } from '../model/data-type.js';
import { valueInfo } from '../model/value-info.js';

/** The one output of a packed graph. */
export const PACKED_OUTPUT = 'saliency/packed_outputs';

/** Where an output of the graph before packing lies in the packed output. */
export interface PackedOutput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/**
 * The built graph `bytes` with its float32 outputs, each flattened, joined
 * into one output `[1, total]` (Flatten with axis 0, then Concat): a graph
 * ONNX Runtime's WebGPU EP captures with one output buffer. With graph
 * capture on, onnxruntime-web 1.30's native WebGPU EP returned two outputs
 * of the same size (the moments' mean and m2) in one and the same buffer.
 * Throws where an output is not float32 or its shape not static.
 */
export function packOutputs(bytes: Uint8Array): {
  bytes: Uint8Array;
  outputs: PackedOutput[];
} {
  const model = fromBinary(ModelProtoSchema, bytes);
  const graph = model.graph!;
  let offset = 0;
  const outputs = graph.output.map((output) => {
    const tensor = output.type?.value.case === 'tensorType' ? output.type.value.value : undefined;
    if (tensor?.elemType !== DataType.FLOAT) throw new Error(`output "${output.name}" is not float32`);
    const dims = (tensor.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : Number.NaN));
    if (tensor.shape === undefined || dims.some((d) => !Number.isInteger(d)))
      throw new Error(`output "${output.name}" has no static shape`);
    const size = dims.reduce((a, b) => a * b, 1);
    const packed = { name: output.name, dims, offset, size };
    offset += size;
    return packed;
  });
  const axis = (value: number) =>
    create(AttributeProtoSchema, {
      name: 'axis',
      type: AttributeProto_AttributeType.INT,
      i: BigInt(value),
    });
  for (const output of outputs) {
    graph.node.push(
      create(NodeProtoSchema, {
        opType: 'Flatten',
        name: `${PACKED_OUTPUT}/${output.name}`,
        input: [output.name],
        output: [`${PACKED_OUTPUT}/${output.name}`],
        attribute: [axis(0)],
      }),
    );
  }
  graph.node.push(
    create(NodeProtoSchema, {
      opType: 'Concat',
      name: PACKED_OUTPUT,
      input: outputs.map((o) => `${PACKED_OUTPUT}/${o.name}`),
      output: [PACKED_OUTPUT],
      attribute: [axis(1)],
    }),
  );
  graph.output = [valueInfo(PACKED_OUTPUT, [1, offset])];
  return { bytes: toBinary(ModelProtoSchema, model), outputs };
}
