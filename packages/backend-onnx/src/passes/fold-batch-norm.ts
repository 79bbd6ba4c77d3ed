import { clone } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { constTensor, readTensorProto, writeTensorProto, type ConstTensor } from '../model/const-tensor.js';
import { EMITTED_PREFIX } from '../model/emitted-name.js';
import { ModelProtoSchema, NodeProtoSchema, type ModelProto, type NodeProto } from '../proto/onnx_pb.js';

/**
 * LRP's treatment of BatchNormalization (docs/methods.md, "LRP"): each one,
 * in inference form, folded into the Conv whose output it alone reads, so
 * that the rules see one linear layer z = W′x + b′ with
 * W′ = W·γ/√(σ² + ε) per output channel and b′ = (b − μ)·γ/√(σ² + ε) + β.
 * Returns a rewritten copy; any other BatchNormalization is refused, naming it.
 */
export function foldBatchNorm(model: ModelProto): ModelProto {
  const graph = model.graph!;
  if (!graph.node.some((node) => node.opType === 'BatchNormalization')) return model;
  const folded = clone(ModelProtoSchema, model);
  const g = folded.graph!;
  const initializers = new Map(g.initializer.map((t) => [t.name, t]));
  const producers = new Map<string, NodeProto>();
  const readers = new Map<string, number>();
  for (const node of g.node) {
    node.output.forEach((name) => producers.set(name, node));
    node.input.forEach((name) => readers.set(name, (readers.get(name) ?? 0) + 1));
  }
  g.output.forEach((output) => readers.set(output.name, (readers.get(output.name) ?? 0) + 1));
  const removed = new Set<NodeProto>();
  g.node.forEach((bn, index) => {
    if (bn.opType !== 'BatchNormalization') return;
    const where = describeNode(bn, index);
    const refuse = (why: string): never => {
      throw new AttributionError('UNSUPPORTED_MODEL', `${where}: LRP folds BatchNormalization into the Conv before it, but ${why}`);
    };
    const conv = producers.get(bn.input[0]!);
    if (conv?.opType !== 'Conv') refuse(`its input "${bn.input[0]}" is not the output of a Conv`);
    if (readers.get(bn.input[0]!) !== 1) refuse(`the Conv's output "${bn.input[0]}" is read elsewhere too`);
    if (bn.output.filter((name) => name !== '').length !== 1) refuse('it has training-mode outputs');
    const constant = (name: string | undefined, what: string): ConstTensor => {
      const tensor = name === undefined || name === '' ? undefined : initializers.get(name);
      if (tensor === undefined) return refuse(`its ${what} is not an initializer`);
      return readTensorProto(tensor, where);
    };
    const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => constant(bn.input[i], `input ${i}`)) as ConstTensor[];
    const weight = constant(conv!.input[1], 'Conv weight');
    const channels = weight.dims[0]!;
    const bias = conv!.input[2] ? constant(conv!.input[2], 'Conv bias').values : new Float64Array(channels);
    const epsilon = new Attributes(bn).float('epsilon', 1e-5);
    const factor = Array.from({ length: channels }, (_, m) => scale!.values[m]! / Math.sqrt(variance!.values[m]! + epsilon));
    const perChannel = weight.values.length / channels;
    const w = weight.values.map((v, i) => v * factor[Math.floor(i / perChannel)]!);
    const b = Array.from({ length: channels }, (_, m) => (bias[m]! - mean!.values[m]!) * factor[m]! + shift!.values[m]!);
    const [wName, bName] = [`${EMITTED_PREFIX}folded_w${index}`, `${EMITTED_PREFIX}folded_b${index}`];
    g.initializer.push(writeTensorProto(wName, constTensor(weight.dataType, weight.dims, w)));
    g.initializer.push(writeTensorProto(bName, constTensor(weight.dataType, [channels], b)));
    const replacement = clone(NodeProtoSchema, conv!);
    replacement.input = [conv!.input[0]!, wName, bName];
    replacement.output = [bn.output[0]!];
    g.node[g.node.indexOf(conv!)] = replacement;
    removed.add(bn);
  });
  g.node = g.node.filter((node) => !removed.has(node));
  return folded;
}
