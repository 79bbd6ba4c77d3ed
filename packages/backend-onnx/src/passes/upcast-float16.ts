import { float32TensorProto } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { isFloat16Type, readFloat16Tensor } from '../model/float16.js';
import { AttributeProto_AttributeType as AttributeType, type ModelProto, type TensorProto, type ValueInfoProto } from '../proto/onnx_pb.js';

/*
 * Models shipped in float16 (or bfloat16) are differentiated in float32: this
 * pass rewrites the graph so that it computes in float32 what it computed in
 * 16 bits. Every value of the two types is exactly a float32, so the weights
 * are unchanged; only the rounding of the activations to 16 bits goes, which
 * makes the logits and the map those of the model's weights in float32, the
 * reference the tests use (float64 on the float16-rounded weights).
 *
 * - initializers and tensor attributes (Constant, ConstantOfShape) of a
 *   16-bit float type become float32 tensors of the same values;
 * - `to` of Cast and `dtype` of any node naming a 16-bit float type name
 *   float32 instead: a Cast to float16 becomes a float32-to-float32 Cast,
 *   the identity (the input and output Casts of a model converted with its
 *   I/O types kept in float32);
 * - graph inputs, outputs and value_info entries of those types are float32,
 *   so the backend feeds and reads float32 as for any model.
 */

/** Rewrites `model` in place to compute in float32 where it computed in float16 or bfloat16; returns whether anything changed. */
export function upcastFloat16(model: ModelProto): boolean {
  const graph = model.graph!;
  let changed = false;
  graph.initializer.forEach((tensor, i) => {
    if (!isFloat16Type(tensor.dataType)) return;
    graph.initializer[i] = float32Tensor(tensor, `initializer "${tensor.name}"`);
    changed = true;
  });
  graph.node.forEach((node, index) => {
    for (const attribute of node.attribute) {
      if (attribute.type === AttributeType.TENSOR && attribute.t !== undefined && isFloat16Type(attribute.t.dataType)) {
        attribute.t = float32Tensor(
          attribute.t,
          `attribute ${attribute.name} of ${node.opType} node ${node.name ? `"${node.name}"` : `#${index}`}`,
        );
        changed = true;
      }
      if (
        (attribute.name === 'to' || attribute.name === 'dtype') &&
        attribute.type === AttributeType.INT &&
        isFloat16Type(Number(attribute.i))
      ) {
        attribute.i = BigInt(DataType.FLOAT);
        changed = true;
      }
    }
  });
  for (const value of [...graph.input, ...graph.output, ...graph.valueInfo]) changed = upcastValueType(value) || changed;
  return changed;
}

function float32Tensor(tensor: TensorProto, where: string): TensorProto {
  return float32TensorProto(tensor.name, tensor.dims, readFloat16Tensor(tensor, where));
}

function upcastValueType(value: ValueInfoProto): boolean {
  const type = value.type?.value;
  if (type?.case !== 'tensorType' || !isFloat16Type(type.value.elemType)) return false;
  type.value.elemType = DataType.FLOAT;
  return true;
}
