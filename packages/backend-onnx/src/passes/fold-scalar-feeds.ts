import { create } from '@bufbuild/protobuf';
import { constTensor, writeTensorProto } from '../model/const-tensor.js';
import { GraphProtoSchema, ModelProtoSchema, type ModelProto } from '../proto/onnx_pb.js';
import type { ResolvedFeed } from '../runtime/feeds.js';

/**
 * The model with each scalar feed (a rank-0 graph input, one value shared by
 * every row: `runtime/feeds.ts`) made an initializer of its value: it is
 * fixed for the backend's life, so the graphs may fold what depends on it,
 * e.g. an `If` on the sample rate (`autodiff/branches.ts`), which a value
 * fed at run time would leave undecided. The model is not modified.
 */
export function foldScalarFeeds(model: ModelProto, feeds: readonly ResolvedFeed[]): ModelProto {
  const scalars = feeds.filter((feed) => feed.batchAxis === undefined);
  if (scalars.length === 0) return model;
  const graph = model.graph!;
  const folded = new Set(scalars.map((feed) => feed.name));
  const initializer = [
    ...graph.initializer,
    ...scalars.map((feed) => writeTensorProto(feed.name, constTensor(feed.dataType, [], Array.from(feed.data, Number)))),
  ];
  const input = graph.input.filter((i) => !folded.has(i.name));
  return create(ModelProtoSchema, { ...model, graph: create(GraphProtoSchema, { ...graph, input, initializer }) });
}
