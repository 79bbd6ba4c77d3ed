import { clone } from '@bufbuild/protobuf';
import { AttributionError, type FeedTensor } from '@saliency/core';
import { dataTypeName } from '../model/data-type.js';
import { chooseInputOutput, declaredShape, graphInputs } from '../model/graph-io.js';
import { defaultOpset, readOnnxModel } from '../model/onnx-model.js';
import { ModelProtoSchema, type ModelProto } from '../proto/onnx_pb.js';
import { foldScalarFeeds } from '../passes/fold-scalar-feeds.js';
import { prepareModel } from '../passes/prepare-model.js';
import { feedBatchAxis, feedShape, feedsOption, inputNameLeft, resolveFeeds, scalarFeedValues } from '../model/feeds.js';
import { attributedTensor } from './attributed-tensor.js';
import { forwardFromInput } from './build-gradient-model.js';
import { ancestors, inferGraph, producersOf } from './infer-graph.js';
import { isFeatureMap, layerTensor } from './layer-tensor.js';

/** One tensor inside the model that the `layer` option (or Grad-CAM's `layer`) can name. */
export interface AttributableTensor {
  readonly name: string;
  /** Its element type as the backend computes it (`float32`; float16 models are computed in float32). */
  readonly type: string;
  /** Its shape; null for a dimension that follows a free dimension of the inputs (the batch, a sequence length). */
  readonly shape: ReadonlyArray<number | null>;
  /** Whether Grad-CAM can explain it: of the input's rank (at least 3) with more than one position past the channel axis. */
  readonly featureMap: boolean;
  /** The op of the node that computes it. */
  readonly op: string;
}

/** What can be attributed at for one model input, on the path to one output. */
export interface AttributableTensors {
  readonly inputName: string;
  readonly outputName: string;
  /** The float tensors computed from the input on the way to the output, in graph order. */
  readonly tensors: readonly AttributableTensor[];
  /** The tensor attributed at when no `layer` is given: the embeddings of token ids; undefined for a float input (attributed as it is). */
  readonly defaultLayer: string | undefined;
  /** Grad-CAM's default layer (the last feature map); undefined where there is none. */
  readonly defaultGradCamLayer: string | undefined;
}

export interface AttributableTensorsOptions {
  /** The graph input attributed, when the model has several. */
  readonly inputName?: string;
  /** The graph output that holds the logits, when the model has several. */
  readonly outputName?: string;
  /**
   * Shapes of graph inputs, by name, where the declared shape has free
   * dimensions that cannot be any size (a Flatten into a fixed Linear); other
   * free dimensions are tried at two sizes, and those the result depends on
   * are listed as null. Where it fixes an input's batch (on its batch
   * axis), every input has that batch.
   */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Values of other graph inputs, as `createOnnxBackend`'s option `feeds`
   * takes them: a scalar (a sample rate) is folded into the model, so that
   * the `If` nodes on it are decided and the tensors past them listed; any
   * other gives its input's shape, its batch axis at each size tried.
   */
  readonly feeds?: Readonly<Record<string, FeedTensor>>;
  /** The model's external data files by the name it gives them, as `createOnnxBackend` takes them. */
  readonly externalData?: ReadonlyMap<string, Uint8Array>;
}

const WHO = 'attributableTensors';

/** Sizes tried for free dimensions: [batch, other] per pass, small and distinct so that a dimension that follows them shows. */
const FREE_SIZES = [
  [1, 8],
  [2, 9],
] as const;

/**
 * The tensors inside an ONNX model that can be attributed at (the backend's
 * `layer` option; docs/methods.md, "Attribution at a tensor") or explained by
 * Grad-CAM, with their inferred shapes, for the input `inputName` and the
 * output `outputName`; read without ONNX Runtime. The same candidates as the
 * backend's refusals of an unknown `layer` name.
 */
export function attributableTensors(model: Uint8Array | ModelProto, options: AttributableTensorsOptions = {}): AttributableTensors {
  const read = prepareModel(model instanceof Uint8Array ? readOnnxModel(model, options.externalData) : clone(ModelProtoSchema, model));
  // As the backend takes them: the scalar feeds folded (and the If nodes on them decided); the others give their inputs' shapes.
  const given = feedsOption(options.feeds, WHO);
  const inputs = graphInputs(read);
  const { input, outputName } = chooseInputOutput(read, inputNameLeft(inputs, options.inputName, Object.keys(given)), options.outputName);
  const feeds = new Map(resolveFeeds(inputs, input.name, new Set(), given, WHO).map((feed) => [feed.name, feed]));
  const proto = foldScalarFeeds(read, scalarFeedValues([...feeds.values()]));
  const graph = proto.graph!;
  const needed = ancestors(graph, [outputName]).inputs;
  const pinnedBatch = inputs
    .map((i) => {
      const axis = feedBatchAxis(declaredShape(i));
      return axis === undefined ? undefined : options.shapes?.[i.name]?.[axis];
    })
    .find((size) => size !== undefined);
  const passes = FREE_SIZES.map(([free, other]) => {
    // Where `shapes` fixes an input's batch (on its batch axis), every input has that batch.
    const batch = pinnedBatch ?? free;
    const shapes = new Map(
      graphInputs(proto)
        .filter((i) => needed.has(i.name))
        .map((i) => {
          const feed = feeds.get(i.name);
          const shape = options.shapes?.[i.name] ?? (feed === undefined ? undefined : feedShape(feed, batch));
          // A free dimension is the batch on the input's batch axis (a state [2, B, H]'s second), else `other`.
          const declared = declaredShape(i);
          return [i.name, shape ?? declared.map((d, axis) => d ?? (axis === feedBatchAxis(declared) ? batch : other))];
        }),
    );
    const facts = inferGraph(graph, defaultOpset(proto), shapes, undefined, [outputName]);
    const producers = producersOf(facts.graph.node);
    return { facts, producers, ...forwardFromInput(facts.graph, facts, producers, outputName, input.name) };
  });
  const [first, second] = passes as [(typeof passes)[0], (typeof passes)[0]];
  const { producers } = first;
  if (!first.fromInput.has(outputName)) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `output "${outputName}" does not depend on the input "${input.name}" through float values, which carry a gradient: nothing to attribute at`,
    );
  }
  const gradCamLayer = (() => {
    try {
      return layerTensor(undefined, input.name, first.fromInput, first.facts, producers);
    } catch (error) {
      if (error instanceof AttributionError && error.code === 'UNSUPPORTED_MODEL') return undefined;
      throw error;
    }
  })();
  const defaultLayer = (() => {
    try {
      return attributedTensor(proto, input, outputName, undefined)?.name;
    } catch (error) {
      // An integer input with no embedding to attribute at has no default; its tensors can still be named.
      if (error instanceof AttributionError && error.code === 'UNSUPPORTED_MODEL') return undefined;
      throw error;
    }
  })();
  const inputRank = first.facts.types.get(input.name)!.shape.length;
  const tensors = [...first.fromInput]
    .filter((name) => name !== input.name && producers.has(name))
    .sort((a, b) => producers.get(a)! - producers.get(b)!)
    .map((name) => {
      const type = first.facts.types.get(name)!;
      const other = second.facts.types.get(name)?.shape;
      const shape = type.shape.map((d, axis) => (other?.length === type.shape.length && other[axis] === d ? d : null));
      return {
        name,
        type: dataTypeName(type.dataType),
        shape,
        featureMap: isFeatureMap(type.shape, inputRank),
        op: first.facts.graph.node[producers.get(name)!]!.opType,
      };
    });
  return { inputName: input.name, outputName, tensors, defaultLayer, defaultGradCamLayer: gradCamLayer };
}
