import { create, toBinary } from '@bufbuild/protobuf';
import { AttributionError, methodRule } from '@saliency/core';
import {
  buildGradientGraph,
  COTANGENT_INPUT,
  GRADIENT_OUTPUT,
  LAYER_ACTIVATION_OUTPUT,
  LAYER_GRADIENT_OUTPUT,
  M2_OUTPUT,
  MEAN_OUTPUT,
  type GradientModelRequest,
} from '../autodiff/build-gradient-model.js';
import { batchInference } from '../autodiff/batch-inference.js';
import { GraphEmitter } from '../autodiff/graph-emitter.js';
import { checkRunsOn } from '../execution-provider/execution-provider.js';
import { DataType, dataTypeName } from '../model/data-type.js';
import { resolveBudgets } from '../model/budgets.js';
import { chooseInputOutput, declaredShape, graphInputs } from '../model/graph-io.js';
import { defaultOpset, readOnnxModel } from '../model/onnx-model.js';
import { valueInfo } from '../model/value-info.js';
import { planBatch } from '../passes/fixed-batch.js';
import { prepareModel } from '../passes/prepare-model.js';
import { feedShape, inputNameLeft } from '../model/feeds.js';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, type TensorProto, type ValueInfoProto } from '../proto/onnx_pb.js';
import { namesOf, renamedGraph, topologicalOrder } from './compose-graph.js';
import { LOGITS_OUTPUT, MAP_OUTPUT, TARGET_INPUT, TARGET_OUTPUT } from './export-names.js';
import { checkBaseline, exportInputShape, resolveExportOptions, type ExportOptions } from './export-options.js';
import { rowsInGraph } from './rows-in-graph.js';
import { exportFeeds, feedRowsInGraph } from './feeds-in-graph.js';
import { ruleInGraph, type RuleGraphContext } from './rule-in-graph.js';
import { camInGraph } from './cam-in-graph.js';

/** One input or output of an exported model. */
export interface ExportedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: 'float32' | 'int64';
}

export interface ExportedModel {
  /** The `.onnx` file. */
  readonly bytes: Uint8Array;
  readonly inputs: readonly ExportedTensor[];
  /**
   * `saliency/map` (the input's shape; for a layer method `[B, 1, ...positions]`),
   * `saliency/logits` `[B, K]` of the clean input, `saliency/explained_class` `[B]`.
   */
  readonly outputs: readonly ExportedTensor[];
  /** What was differentiated: the output, and the probability head left out if one was. */
  readonly description: string;
  /** The layer a layer method (Grad-CAM) explains, as given or chosen. */
  readonly layer?: string;
}

/** The prefix of the clean forward pass's values, kept apart from the gradient graph's. */
const CLEAN_PREFIX = 'saliency/clean/';
/** The model rows the gradient graph reads in place of the model's input. */
const ROWS = 'saliency/rows';

/**
 * Exports `method` on the ONNX model `modelBytes` as one standalone ONNX
 * model that any ONNX Runtime runs: input (and, for noisy methods, the noise)
 * in; the map, the clean logits and the explained classes out. The rows, the
 * targets (argmax of the clean logits, or the `saliency/target` input), the
 * gradient graph, the rule's reduction of the rows' moments, its finish and
 * the ×input / ×sign modifiers are all nodes of the graph, for one static
 * input shape (`inputShape`); for a layer method, the layer's activation and
 * gradient and the CAM made from them (`cam-in-graph.ts`); for LRP, the
 * backward pass of its rule set. Fed the same noise, it computes the
 * library's map (packages/core/src/engine/attribute.ts) in float32.
 */
export function exportAttributionModel(modelBytes: Uint8Array, options: ExportOptions): ExportedModel {
  const resolved = resolveExportOptions(options);
  const rule = methodRule(resolved.method.base);
  const cam = rule.layer === undefined ? undefined : camInGraph(rule);
  const inGraph = cam === undefined ? ruleInGraph(rule) : undefined;
  const budgets = resolveBudgets(options.budgets, 'exportAttributionModel');
  // As the backend takes a model: float16 computed in float32, int8 dequantized (passes/prepare-model.ts).
  const read = prepareModel(readOnnxModel(modelBytes, options.externalData, budgets));
  // As the backend chooses: with feeds, the one input they (and feedShapes) leave is the attributed one.
  const fed = [...Object.keys(options.feeds ?? {}), ...Object.keys(options.feedShapes ?? {})];
  const { input, outputName } = chooseInputOutput(
    read,
    inputNameLeft(graphInputs(read), options.inputName, fed.length === 0 ? undefined : fed),
    options.outputName,
  );
  const inputType = input.type?.value.case === 'tensorType' ? input.type.value.value.elemType : undefined;
  if (inputType !== DataType.FLOAT) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `input "${input.name}" is ${inputType === undefined ? 'not a tensor' : dataTypeName(inputType)}; an attribution model is exported for a float32 input`,
    );
  }
  const declared = declaredShape(input);
  const { model, feedsAt } = exportFeeds(read, input.name, outputName, options);
  // A model exported with its batch fixed (x.view(1, -1)) is freed where its Reshapes allow, as the backend does
  // (passes/fixed-batch.ts); a batch the rewrite frees is free for the export too.
  const plan = planBatch(model, input, batchInference(model, input.name, outputName, budgets));
  const shape = exportInputShape(input.name, plan.kind === 'rewritten' ? [null, ...declared.slice(1)] : declared, options.inputShape);
  const options_ = resolved.attribution;
  checkBaseline(options_.baseline, shape);
  const [batch, ...example] = shape as [number, ...number[]];
  const feeds = feedsAt(batch);
  const opset = defaultOpset(model);
  const request = (inputShape: readonly number[], result: GradientModelRequest['result'], groupSize?: number): GradientModelRequest => ({
    ...(result === 'layer' && options_.layer !== undefined ? { layer: options_.layer } : {}),
    feedShapes: new Map(feeds.map((feed) => [feed.name, feedShape(feed, inputShape[0]!)])),
    inputName: input.name,
    inputShape,
    outputName,
    keepSoftmax: resolved.keepSoftmax,
    ...(resolved.outputPosition === undefined ? {} : { outputPosition: resolved.outputPosition }),
    result,
    executionProvider: resolved.executionProvider,
    budgets,
    ...(groupSize === undefined ? {} : { groupSize }),
    ...(rule.backward === undefined ? {} : { backward: rule.backward }),
  });

  // The clean forward pass gives the logits; for input rows the gradient graph's own forward pass is that pass.
  const perExample = rule.rows === 'input' ? 1 : rule.rows === 'noisy-samples' ? options_.numSamples : options_.steps;
  if (plan.kind === 'fixed' && (batch !== plan.size || batch * perExample !== plan.size)) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `exportAttributionModel: the model fixes its batch size at ${plan.size} (input "${input.name}"; at another batch size: ${plan.reason}), ` +
        `and the exported ${options.method} runs ${batch * perExample} rows (${batch} example${batch === 1 ? '' : 's'}` +
        `${perExample === 1 ? '' : ` × ${perExample} ${rule.rows === 'noisy-samples' ? 'samples' : 'steps'}`}) in one graph: ` +
        'export the model with a dynamic batch axis',
    );
  }
  const gradient = buildGradientGraph(
    model,
    request([batch * perExample, ...example], cam !== undefined ? 'layer' : rule.rows === 'input' ? 'gradient' : 'moments', perExample),
  );
  const modelInitializers = new Set(model.graph!.initializer.map((t) => t.name));
  // The gradient graph reads its rows in place of the input and, for each feed, the feed's rows (its example's row, repeated).
  const feedRows = (name: string) => `${ROWS}/${name}`;
  const feedNames = new Set(feeds.map((feed) => feed.name));
  const rename = (name: string) =>
    rule.rows === 'input' ? name : name === input.name ? ROWS : feedNames.has(name) ? feedRows(name) : name;
  const parts = [renamedGraph(gradient.model.graph!, rename)];
  let logits = LOGITS_OUTPUT;
  if (rule.rows !== 'input') {
    const clean = buildGradientGraph(model, request(shape, 'none'));
    const keep = (name: string) => modelInitializers.has(name) || name === input.name || feedNames.has(name);
    parts.push(renamedGraph(clean.model.graph!, (name) => (keep(name) ? name : CLEAN_PREFIX + name)));
    logits = CLEAN_PREFIX + LOGITS_OUTPUT;
    // The rows' logits are not an output: their Identity goes.
    parts[0]!.nodes = parts[0]!.nodes.filter((node) => !node.output.includes(LOGITS_OUTPUT));
  }
  const classes = gradient.logitsShape[1]!;

  const taken = new Set([
    ...namesOf(gradient.model.graph!),
    ...parts.flatMap((p) => p.nodes.flatMap((n) => [n.name, ...n.input, ...n.output])),
    ROWS,
    ...feeds.map((feed) => feedRows(feed.name)),
  ]);
  const emitter = new GraphEmitter(taken, new Map([[input.name, { dataType: DataType.FLOAT, shape }]]), opset, resolved.executionProvider);
  const name = (value: string, as: string) => {
    emitter.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: as, input: [value], output: [as] }));
    return as;
  };

  // Targets, and the cotangent of every row: the one-hot row of its example's target.
  const targets =
    resolved.targetSource === 'input' ? TARGET_INPUT : emitter.node('ArgMax', [logits], 1, { axis: { int: 1 }, keepdims: { int: 0 } })[0]!;
  name(targets, TARGET_OUTPUT);
  const classIndices = Array.from({ length: perExample * classes }, (_, i) => i % classes);
  const hit = emitter.node(
    'Equal',
    [emitter.reshape(targets, [batch, 1, 1]), emitter.literal(classIndices, [1, perExample, classes], DataType.INT64)],
    1,
  )[0]!;
  const oneHot = emitter.node('Cast', [hit], 1, { to: { int: DataType.FLOAT } })[0]!;
  name(emitter.reshape(oneHot, [batch * perExample, classes]), COTANGENT_INPUT);

  const rows = rowsInGraph(rule.rows, emitter, input.name, shape, options_, resolved.noiseSource);
  if (rule.rows !== 'input') {
    name(rows.rows, ROWS);
    for (const feed of feeds) name(feedRowsInGraph(emitter, feed, batch, perExample), feedRows(feed.name));
  }

  let map: string;
  let mapShape: readonly number[] = shape;
  if (cam !== undefined) {
    const layerShape = declaredShape(gradient.model.graph!.output.find((o) => o.name === LAYER_ACTIVATION_OUTPUT)!) as number[];
    map = cam.map(emitter, LAYER_ACTIVATION_OUTPUT, LAYER_GRADIENT_OUTPUT, layerShape, shape);
    mapShape = [batch, 1, ...example.slice(1)];
  } else {
    const context: RuleGraphContext = {
      emitter,
      unbiased: options_.unbiased,
      moments: {
        count: perExample,
        mean: () => (rule.rows === 'input' ? GRADIENT_OUTPUT : MEAN_OUTPUT),
        m2: () => (rule.rows === 'input' ? emitter.literal([0], [1]) : M2_OUTPUT),
      },
      span: () => rows.span ?? emitter.literal([0], [1]),
    };
    map = inGraph!.reduce(context);
    if (inGraph!.finish !== undefined) map = inGraph!.finish(map, context);
  }
  const { modifiers } = resolved.method;
  if (modifiers.input) map = emitter.node('Mul', [map, input.name], 1)[0]!;
  if (modifiers.sign) {
    // s_μ(x) = 1 − 2·[x < μ]: exactly ±1, with no Where (which WebGL lacks).
    const below = emitter.node('Cast', [emitter.node('Less', [input.name, emitter.literal([options_.mu], [1])], 1)[0]!], 1, {
      to: { int: DataType.FLOAT },
    })[0]!;
    const sign = emitter.node('Add', [emitter.node('Mul', [below, emitter.literal([-2], [1])], 1)[0]!, emitter.literal([1], [1])], 1)[0]!;
    map = emitter.node('Mul', [map, sign], 1)[0]!;
  }
  name(map, MAP_OUTPUT);
  if (rule.rows !== 'input') name(logits, LOGITS_OUTPUT);

  const inputs: ExportedTensor[] = [{ name: input.name, shape, type: 'float32' }];
  for (const feed of feeds) if (feed.value === undefined) inputs.push({ name: feed.name, shape: feedShape(feed, batch), type: feed.type });
  for (const info of rows.inputs) inputs.push({ name: info.name, shape: [batch, perExample, ...example], type: 'float32' });
  if (resolved.targetSource === 'input') inputs.push({ name: TARGET_INPUT, shape: [batch], type: 'int64' });
  const outputs: ExportedTensor[] = [
    { name: MAP_OUTPUT, shape: mapShape, type: 'float32' },
    { name: LOGITS_OUTPUT, shape: [batch, classes], type: 'float32' },
    { name: TARGET_OUTPUT, shape: [batch], type: 'int64' },
  ];
  const nodes = topologicalOrder([...parts.flatMap((p) => p.nodes), ...emitter.nodes]);
  const graph = create(GraphProtoSchema, {
    name: `${model.graph!.name || 'model'}_${options.method}`,
    node: nodes,
    initializer: uniqueByName([
      ...parts.flatMap((p) => p.initializers),
      ...emitter.initializers,
      ...feeds.flatMap((feed) => (feed.value === undefined ? [] : [feed.value])),
    ]),
    input: inputs.map(toValueInfo),
    output: outputs.map(toValueInfo),
  });
  checkRunsOn(resolved.executionProvider, graph, opset, `the exported ${options.method} model of ${gradient.description}`);
  const layer = gradient.layer === undefined ? '' : `, layer "${gradient.layer}"`;
  const exported = create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: 'saliency',
    docString: `${options.method} of ${gradient.description}${layer} for an input of shape [${shape.join(', ')}] (@saliency/backend-onnx exportAttributionModel)`,
    graph,
  });
  return {
    bytes: toBinary(ModelProtoSchema, exported),
    inputs,
    outputs,
    description: gradient.description,
    ...(gradient.layer === undefined ? {} : { layer: gradient.layer }),
  };
}

function toValueInfo(tensor: ExportedTensor): ValueInfoProto {
  return valueInfo(tensor.name, tensor.shape, tensor.type === 'int64' ? DataType.INT64 : DataType.FLOAT);
}

/** The two passes read the same model initializers: each is kept once. */
function uniqueByName(tensors: readonly TensorProto[]): TensorProto[] {
  const seen = new Map<string, TensorProto>();
  for (const tensor of tensors) if (!seen.has(tensor.name)) seen.set(tensor.name, tensor);
  return [...seen.values()];
}
