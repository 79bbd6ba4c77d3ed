import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AttributeType, AttributeProtoSchema, type AttributeProto } from '../proto/onnx_pb.js';
import { writeTensorProto, type ConstTensor } from '../model/const-tensor.js';

/** An attribute of an emitted node, tagged with its ONNX type. */
export type AttributeValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string }
  | { readonly strings: readonly string[] }
  | { readonly tensor: ConstTensor };

export function attributeProto(name: string, value: AttributeValue): AttributeProto {
  if ('int' in value) return create(AttributeProtoSchema, { name, type: AttributeType.INT, i: BigInt(value.int) });
  if ('float' in value) return create(AttributeProtoSchema, { name, type: AttributeType.FLOAT, f: value.float });
  if ('ints' in value) return create(AttributeProtoSchema, { name, type: AttributeType.INTS, ints: value.ints.map((v) => BigInt(v)) });
  if ('floats' in value) return create(AttributeProtoSchema, { name, type: AttributeType.FLOATS, floats: [...value.floats] });
  if ('string' in value)
    return create(AttributeProtoSchema, { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) });
  if ('strings' in value)
    return create(AttributeProtoSchema, {
      name,
      type: AttributeType.STRINGS,
      strings: value.strings.map((v) => new TextEncoder().encode(v)),
    });
  return create(AttributeProtoSchema, { name, type: AttributeType.TENSOR, t: writeTensorProto('', value.tensor) });
}
