import { AttributionError } from '@saliency/core';
import { describeNode } from '../model/attributes.js';
import { DataType, dataTypeName, isFloatType } from '../model/data-type.js';
import { declaredShape } from '../model/graph-io.js';
import type { ModelProto, NodeProto, ValueInfoProto } from '../proto/onnx_pb.js';
import { ancestors } from './infer-graph.js';

/** Ops whose output depends on their input's shape only: a value computed through them alone is not computed from the input. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

/** The tensor inside the model at which a backend attributes (docs/methods.md, "Attribution at a tensor"). */
export interface AttributedTensor {
  readonly name: string;
  /** `'layer'`: named by the option; `'embeddings'`: the default for token ids, the output of their Gather on a float table. */
  readonly why: 'layer' | 'embeddings';
  /** Its rank where the model tells it (a declared type, or the Gather's), else undefined. */
  readonly rank: number | undefined;
  /** The node that computes it, for messages. */
  readonly producer: string;
}

/**
 * The tensor to attribute at for the model input `input` (checked when the
 * backend is created): `layer` when given, which must be a float tensor
 * computed from the input on the path to `outputName`; else, for an input of
 * integer ids, the output of the Gather that looks them up in a float table
 * (the embeddings); else (a float input) none. An integer input without such
 * a Gather is refused: no gradient passes through integers.
 */
export function attributedTensor(
  model: ModelProto,
  input: ValueInfoProto,
  outputName: string,
  layer: string | undefined,
): AttributedTensor | undefined {
  const graph = model.graph!;
  const inputType = input.type?.value.case === 'tensorType' ? (input.type.value.value.elemType as DataType) : undefined;
  const floats = new Map(graph.initializer.filter((t) => isFloatType(t.dataType)).map((t) => [t.name, t.dims.length]));
  const onPath = ancestors(graph, [outputName]).inputs;
  const inputRank = declaredShape(input).length;
  const embedding = (node: NodeProto) => node.opType === 'Gather' && node.input[1] === input.name && floats.has(node.input[0]!);
  if (layer === undefined) {
    if (inputType === undefined || isFloatType(inputType)) return undefined;
    const index = graph.node.findIndex((node) => embedding(node) && onPath.has(node.output[0]!));
    if (index < 0) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `input "${input.name}" holds ${dataTypeName(inputType)} values, which carry no gradient, and is looked up by no Gather on a float ` +
          `table (an embedding) to attribute at instead: give option layer a float tensor computed from it, or choose a float input with inputName`,
      );
    }
    const node = graph.node[index]!;
    return {
      name: node.output[0]!,
      why: 'embeddings',
      rank: inputRank + floats.get(node.input[0]!)! - 1,
      producer: describeNode(node, index),
    };
  }
  if (typeof layer !== 'string' || layer === '') {
    throw new AttributionError('INVALID_OPTION', `createOnnxBackend: option layer must be a tensor name, got ${String(layer)}`);
  }
  const index = graph.node.findIndex((node) => node.output.includes(layer));
  const fromInput = computedFrom(model, input.name);
  const candidates = graph.node
    .flatMap((node) => node.output)
    .filter((name) => fromInput.has(name) && onPath.has(name))
    .slice(0, 8)
    .map((name) => `"${name}"`)
    .join(', ');
  const refuse = (why: string) => {
    throw new AttributionError(
      'INVALID_OPTION',
      `createOnnxBackend: option layer "${layer}" ${why}; tensors computed from input "${input.name}" on the way to output "${outputName}" include ${candidates || 'none'}`,
    );
  };
  if (index < 0) refuse(graph.input.some((i) => i.name === layer) ? 'is a graph input, computed by no node' : 'is no tensor of the model');
  const node = graph.node[index]!;
  if (!fromInput.has(layer)) refuse(`(output of ${describeNode(node, index)}) is not computed from input "${input.name}"`);
  if (!onPath.has(layer)) refuse(`(output of ${describeNode(node, index)}) does not lead to output "${outputName}"`);
  const declared = [...graph.valueInfo, ...graph.output].find((v) => v.name === layer);
  const declaredType = declared?.type?.value.case === 'tensorType' ? (declared.type.value.value.elemType as DataType) : undefined;
  const type = embedding(node) ? DataType.FLOAT : declaredType;
  if (type !== undefined && !isFloatType(type))
    refuse(`(output of ${describeNode(node, index)}) is ${dataTypeName(type)}, which carries no gradient`);
  const rank = embedding(node) ? inputRank + floats.get(node.input[0]!)! - 1 : declaredRank(declared);
  return { name: layer, why: 'layer', rank, producer: describeNode(node, index) };
}

/** The values computed from graph input `input`, other than through its shape alone (Shape, Size). */
function computedFrom(model: ModelProto, input: string): Set<string> {
  const reached = new Set([input]);
  for (const node of model.graph!.node) {
    if (SHAPE_ONLY.has(node.opType) || !node.input.some((name) => reached.has(name))) continue;
    for (const name of node.output) if (name !== '') reached.add(name);
  }
  return reached;
}

/** The rank a value info declares, or undefined where it declares no shape. */
function declaredRank(info: ValueInfoProto | undefined): number | undefined {
  const type = info?.type?.value;
  return type?.case === 'tensorType' && type.value.shape !== undefined ? type.value.shape.dim.length : undefined;
}
