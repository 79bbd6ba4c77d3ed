import { create } from '@bufbuild/protobuf';
import { DataType } from '../model/data-type.js';
import { readTensorProto } from '../model/const-tensor.js';
import { float16Bits } from '../model/float16.js';
import {
  AttributeProto_AttributeType as AttributeType,
  AttributeProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../proto/onnx_pb.js';

/*
 * The `precision: 'float16'` option (docs/methods.md, "Precision"): a built
 * gradient graph, float32 throughout, rewritten in place to compute in
 * float16 while its interface stays float32.
 *
 * - float32 initializers and tensor attributes (Constant, ConstantOfShape)
 *   read by float16 nodes become float16 tensors of the nearest values; `to`
 *   of Cast and `dtype` of nodes naming float32 name float16;
 * - every float32 graph input a float16 node reads is cast to float16 once,
 *   and every graph output computed in float16 is cast back to float32 under
 *   its own name, so the backend feeds and reads float32 as for any graph;
 * - the nodes downstream of `float32From` (the moments' reduction) stay
 *   float32: those tensors are cast up where they are read there. The
 *   squared deviations of gradients over 256 exceed float16's largest value
 *   (65504), and a sum over N samples loses a bit of every term in float16;
 *   in float32 neither happens, for one cast of the gradient rows;
 * - inputs that ONNX types apart from the data and that ONNX Runtime takes
 *   only as float32 (Resize's and Upsample's scales, and Resize's roi) stay
 *   float32.
 *
 * float64 tensors are left as they are (a model computing in float64 keeps it).
 */

/** Inputs past which an op's float inputs keep their own type (only input 0 is the data). */
const DATA_INPUT_ONLY = new Set(['Resize', 'Upsample']);

/** Attributes holding an element type that the node's output takes. */
const TYPE_ATTRIBUTES = new Set(['to', 'dtype']);

export interface LowerToFloat16Options {
  /** Tensors whose readers, and everything computed from those, stay in float32 (the moments' reduction). */
  readonly float32From?: readonly string[];
}

/** Rewrites `model`'s graph (its node list and initializers; the nodes are copied) to compute in float16 (see above). */
export function lowerToFloat16(model: ModelProto, options: LowerToFloat16Options = {}): void {
  const graph = model.graph!;
  // Shallow copies: the built graph shares its forward nodes with the backend's model, which must not change.
  graph.node = graph.node.map((node) => ({ ...node }));
  const float32Nodes = downstreamOf(graph.node, options.float32From ?? []);
  const initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
  const inputTypes = new Map(graph.input.map((value) => [value.name, elementType(value)]));
  const halfNames = new Map<string, string>();
  const float32Set = new Set(float32Nodes);
  // Values some reader takes in float32: a float32 node's inputs, and the inputs kept by DATA_INPUT_ONLY.
  const float32Reads = new Set([
    ...float32Nodes.flatMap((node) => node.input),
    ...graph.node.filter((node) => DATA_INPUT_ONLY.has(node.opType)).flatMap((node) => node.input.slice(1)),
  ]);
  const taken = new Set([
    ...graph.node.flatMap((node) => [node.name, ...node.input, ...node.output]),
    ...initializers.keys(),
    ...inputTypes.keys(),
  ]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const inputCasts: NodeProto[] = [];

  // What a float16 node reads in place of a float32 initializer or graph input.
  const half = (name: string): string => {
    const known = halfNames.get(name);
    if (known !== undefined) return known;
    const tensor = initializers.get(name);
    let replacement = name;
    if (tensor?.dataType === DataType.FLOAT) {
      const readByFloat32 = float32Reads.has(name);
      replacement = readByFloat32 ? fresh(`${name}/float16`) : name;
      const lowered = float16Tensor(tensor, replacement);
      if (readByFloat32) graph.initializer.push(lowered);
      else graph.initializer[graph.initializer.indexOf(tensor)] = lowered;
    } else if (tensor === undefined && inputTypes.get(name) === DataType.FLOAT) {
      replacement = fresh(`${name}/float16`);
      inputCasts.push(castNode(fresh(`cast/${replacement}`), name, replacement, DataType.FLOAT16));
    }
    halfNames.set(name, replacement);
    return replacement;
  };

  const computedInHalf = new Set<string>();
  for (const node of graph.node) {
    if (float32Set.has(node)) continue;
    node.input = node.input.map((name, i) => (name === '' || (DATA_INPUT_ONLY.has(node.opType) && i > 0) ? name : half(name)));
    node.attribute = node.attribute.map(lowerAttribute);
    for (const name of node.output) if (name !== '') computedInHalf.add(name);
  }

  // Outputs computed in float16 keep their names in float32: their producer (and readers) take a float16 name, cast up into the output.
  const outputCasts: NodeProto[] = [];
  for (const output of graph.output) {
    if (!computedInHalf.has(output.name) || elementType(output) !== DataType.FLOAT) continue;
    const inner = fresh(`${output.name}/float16`);
    const rename = (name: string): string => (name === output.name ? inner : name);
    for (const node of graph.node) {
      node.output = node.output.map(rename);
      node.input = node.input.map(rename);
    }
    computedInHalf.add(inner);
    outputCasts.push(castNode(fresh(`cast/${output.name}`), inner, output.name, DataType.FLOAT));
  }

  // float32 nodes read the boundary's float16 values through a cast up, placed before the first of them
  // (any other value they take from float16 nodes is an integer: shape arithmetic).
  const boundary = new Set(options.float32From ?? []);
  const upcast = new Map<string, string>();
  const nodes: NodeProto[] = [...inputCasts];
  for (const node of graph.node) {
    if (float32Set.has(node)) {
      node.input = node.input.map((name) => {
        if (!boundary.has(name) || !computedInHalf.has(name)) return name;
        let up = upcast.get(name);
        if (up === undefined) {
          up = fresh(`${name}/float32`);
          upcast.set(name, up);
          nodes.push(castNode(fresh(`cast/${up}`), name, up, DataType.FLOAT));
        }
        return up;
      });
    }
    nodes.push(node);
  }
  graph.node = [...nodes, ...outputCasts];
  // Intermediate types are for ONNX Runtime to infer.
  graph.valueInfo = [];
}

/** The nodes that read `sources` or anything computed from them, in graph order. */
function downstreamOf(nodes: readonly NodeProto[], sources: readonly string[]): NodeProto[] {
  const reached = new Set(sources);
  const found: NodeProto[] = [];
  for (const node of nodes) {
    if (!node.input.some((name) => reached.has(name))) continue;
    found.push(node);
    for (const name of node.output) if (name !== '') reached.add(name);
  }
  return found;
}

function lowerAttribute(attribute: AttributeProto): AttributeProto {
  if (attribute.type === AttributeType.TENSOR && attribute.t?.dataType === DataType.FLOAT) {
    return { ...attribute, t: float16Tensor(attribute.t, attribute.t.name) };
  }
  if (TYPE_ATTRIBUTES.has(attribute.name) && attribute.type === AttributeType.INT && attribute.i === BigInt(DataType.FLOAT)) {
    return { ...attribute, i: BigInt(DataType.FLOAT16) };
  }
  // Constant's scalar forms make float32: as a tensor attribute they can be float16.
  if (attribute.name === 'value_float' && attribute.type === AttributeType.FLOAT) {
    return tensorAttribute(float16Of('value', [], [attribute.f]));
  }
  if (attribute.name === 'value_floats' && attribute.type === AttributeType.FLOATS) {
    return tensorAttribute(float16Of('value', [attribute.floats.length], attribute.floats));
  }
  return attribute;
}

function float16Tensor(tensor: TensorProto, name: string): TensorProto {
  const { dims, values } = readTensorProto(tensor, `float32 tensor "${tensor.name}"`);
  return float16Of(name, dims, values);
}

/** A float16 tensor of the values nearest `values` (ties to even; beyond 65504, infinity). */
function float16Of(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const raw = new Uint8Array(2 * values.length);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(2 * i, float16Bits(values[i]!), true);
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: DataType.FLOAT16, rawData: raw });
}

function tensorAttribute(tensor: TensorProto): AttributeProto {
  return create(AttributeProtoSchema, { name: 'value', type: AttributeType.TENSOR, t: tensor });
}

function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.INT, i: BigInt(value) });
}

function elementType(value: ValueInfoProto): DataType | undefined {
  const type = value.type?.value;
  return type?.case === 'tensorType' ? (type.value.elemType as DataType) : undefined;
}

function castNode(name: string, input: string, output: string, to: DataType): NodeProto {
  return create(NodeProtoSchema, { opType: 'Cast', name, input: [input], output: [output], attribute: [intAttribute('to', to)] });
}
