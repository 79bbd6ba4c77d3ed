import { create } from '@bufbuild/protobuf';
import { writeTensorProto, type ConstTensor } from '../model/const-tensor.js';
import { GraphProtoSchema, ModelProtoSchema, type ModelProto } from '../proto/onnx_pb.js';

/**
 * The model with each scalar feed (a rank-0 graph input, one value shared by
 * every row: `runtime/feeds.ts`), given by name, made an initializer of its
 * value: it is fixed for the backend's life, so the graphs may fold what
 * depends on it, e.g. an `If` on the sample rate (`autodiff/branches.ts`),
 * which a value fed at run time would leave undecided. The model is not modified.
 */
export function foldScalarFeeds(model: ModelProto, scalars: ReadonlyMap<string, ConstTensor>): ModelProto {
  if (scalars.size === 0) return model;
  const graph = model.graph!;
  const initializer = [...graph.initializer, ...[...scalars].map(([name, value]) => writeTensorProto(name, value))];
  const input = graph.input.filter((i) => !scalars.has(i.name));
  return create(ModelProtoSchema, { ...model, graph: create(GraphProtoSchema, { ...graph, input, initializer }) });
}
