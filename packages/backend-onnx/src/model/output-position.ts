import { create } from '@bufbuild/protobuf';
import { AttributionError, describeValue } from '@saliency/core';
import { GraphProtoSchema, NodeProtoSchema, type GraphProto, type NodeProto, type TensorProto } from '../proto/onnx_pb.js';
import { attributeProto } from './attribute-value.js';
import { constTensor, writeTensorProto } from './const-tensor.js';
import { DataType } from './data-type.js';
import { EMITTED_PREFIX } from './emitted-name.js';
import { reduceAxesAsInput } from './operand-forms.js';
import { valueInfo } from './value-info.js';

/**
 * One position of a sequence or dense output (docs/methods.md, "Output
 * position"): one entry per output axis after the batch axis. A number fixes
 * the axis at that index, a `[start, end)` pair averages the output over that
 * range, and `null` marks the class axis, which the target indexes.
 */
export type OutputPosition = readonly (number | readonly [number, number] | null)[];

/** The prefix of the head's nodes and values, which the LRP rule sets recognise (`backward/lrp.ts`). */
const HEAD_PREFIX = `${EMITTED_PREFIX}output_position/`;

/** `[3, :]`, `[:, 0:4, 7]`: the position as the CLI writes it, for messages. */
export function describeOutputPosition(position: OutputPosition): string {
  return `[${position.map((entry) => (entry === null ? ':' : typeof entry === 'number' ? entry : `${entry[0]}:${entry[1]}`)).join(', ')}]`;
}

/**
 * Checks the option `outputPosition` of `where` (e.g. `createOnnxBackend`):
 * its form always, and against `shape`, the output's shape after the batch
 * axis (null where not known), where given: one entry per axis, each index
 * or range inside its axis. Refuses with `INVALID_OPTION`, naming the axis
 * (counted with the batch axis as 0), its size, the value and what is allowed.
 */
export function checkOutputPosition(position: unknown, where: string, shape?: readonly (number | null)[]): OutputPosition {
  const fail = (message: string) =>
    new AttributionError(
      'INVALID_OPTION',
      `${where}: option outputPosition ${message}; it takes one entry per output axis after the batch axis: ` +
        'an index (integer ≥ 0), a range [start, end) of integers with 0 ≤ start < end, or null for the class axis (exactly one)',
    );
  if (!Array.isArray(position) || position.length === 0) throw fail(`must be a non-empty array, got ${describeValue(position)}`);
  const nulls = position.filter((entry) => entry === null).length;
  if (nulls !== 1) throw fail(`must hold exactly one null (the class axis), got ${nulls} in ${JSON.stringify(position)}`);
  if (shape !== undefined && shape.length !== position.length) {
    throw fail(
      `has ${position.length} entr${position.length === 1 ? 'y' : 'ies'} for an output of ${shape.length} ax${shape.length === 1 ? 'is' : 'es'} ` +
        `after the batch axis (shape [B, ${shape.map((d) => d ?? '?').join(', ')}])`,
    );
  }
  position.forEach((entry: unknown, i) => {
    if (entry === null) return;
    const axis = i + 1;
    const size = shape?.[i] ?? null;
    const sized = size === null ? '' : ` of size ${size}`;
    const isIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
    if (typeof entry === 'number') {
      if (!isIndex(entry)) throw fail(`has ${describeValue(entry)} at axis ${axis}${sized}, not an integer ≥ 0`);
      if (size !== null && entry >= size) throw fail(`has index ${entry} at axis ${axis} of size ${size}: allowed are 0 … ${size - 1}`);
      return;
    }
    if (!Array.isArray(entry) || entry.length !== 2 || !isIndex(entry[0]) || !isIndex(entry[1]) || entry[0] >= entry[1]) {
      throw fail(`has ${JSON.stringify(entry) ?? describeValue(entry)} at axis ${axis}${sized}, neither an index nor a range [start, end)`);
    }
    if (size !== null && entry[1] > size) {
      throw fail(`has range [${entry[0]}, ${entry[1]}) at axis ${axis} of size ${size}: allowed are ranges inside [0, ${size})`);
    }
  });
  // A copy: the caller's array may change after the check.
  return position.map((entry: unknown) => (Array.isArray(entry) ? [entry[0], entry[1]] : entry)) as OutputPosition;
}

/**
 * The head that selects the position from `logits` (of shape `shape`, batch
 * axis first), as a graph from `logits` to its output, shaped [B, K]: per
 * fixed axis a Gather of the index, per range a Gather of its indices and a
 * ReduceMean over them (both kept as axes of size 1), then a Reshape to
 * [B, K]. Gather reads its indices as an input at every opset, and its
 * gradient and the mean's are linear, so every method treats the head as the
 * model's own ops.
 */
export function outputPositionHead(
  position: OutputPosition,
  logits: string,
  shape: readonly number[],
  dataType: DataType,
  opset: number,
): { graph: GraphProto; output: string } {
  const nodes: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  let current = logits;
  const add = (opType: string, inputs: string[], attributes: NodeProto['attribute'] = []) => {
    const name = `${HEAD_PREFIX}${nodes.length}`;
    nodes.push(create(NodeProtoSchema, { opType, name, input: inputs, output: [name], attribute: attributes }));
    current = name;
  };
  const literal = (values: readonly number[]) => {
    const name = `${HEAD_PREFIX}c${initializer.length}`;
    initializer.push(writeTensorProto(name, constTensor(DataType.INT64, [values.length], values)));
    return name;
  };
  position.forEach((entry, i) => {
    if (entry === null) return;
    const axis = i + 1;
    const [start, end] = typeof entry === 'number' ? [entry, entry + 1] : entry;
    const indices = Array.from({ length: end - start }, (_, j) => start + j);
    add('Gather', [current, literal(indices)], [attributeProto('axis', { int: axis })]);
    if (indices.length === 1) return;
    const keepdims = attributeProto('keepdims', { int: 1 });
    if (reduceAxesAsInput('ReduceMean', opset)) add('ReduceMean', [current, literal([axis])], [keepdims]);
    else add('ReduceMean', [current], [attributeProto('axes', { ints: [axis] }), keepdims]);
  });
  const classes = shape[position.indexOf(null) + 1]!;
  add('Reshape', [current, literal([shape[0]!, classes])]);
  return {
    graph: create(GraphProtoSchema, {
      name: 'output_position',
      node: nodes,
      initializer,
      input: [valueInfo(logits, shape, dataType)],
      output: [valueInfo(current, [shape[0]!, classes], dataType)],
    }),
    output: current,
  };
}

/** Whether a node is of the head `outputPositionHead` makes. */
export function isOutputPositionNode(node: NodeProto): boolean {
  return node.name.startsWith(HEAD_PREFIX);
}

/** The hint of the refusal of an output that is not [B, K]. */
export function outputPositionHint(shape: readonly number[]): string {
  const example = shape.slice(1).map((_, i) => (i === shape.length - 2 ? null : 0));
  return (
    `; to explain one position of a sequence or dense output, pass the option outputPosition, e.g. ` +
    `${describeOutputPosition(example)} as ${JSON.stringify(example)} (docs/methods.md, "Output position")`
  );
}
