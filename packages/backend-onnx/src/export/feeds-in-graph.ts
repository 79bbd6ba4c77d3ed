import { AttributionError, type FeedTensor } from '@saliency/core';
import type { GraphEmitter } from '../autodiff/graph-emitter.js';
import { ancestors } from '../autodiff/infer-graph.js';
import { constTensor, writeTensorProto } from '../model/const-tensor.js';
import { DataType, dataTypeName } from '../model/data-type.js';
import { checkFedInputs, declaredShape, elementType, graphInputs } from '../model/graph-io.js';
import { foldScalarFeeds } from '../passes/fold-scalar-feeds.js';
import type { ModelProto, TensorProto } from '../proto/onnx_pb.js';
import { fedShape, feedBatchAxis, feedRows, feedShape, feedsOption, resolveFeeds, scalarFeedValues } from '../model/feeds.js';

const WHO = 'exportAttributionModel';

/**
 * A graph input other than the attributed one that the explained output
 * needs (docs/methods.md, "Attribution at a tensor"), at the export's batch:
 * an input of the exported model under its own name, or, given in option
 * feeds, a constant of the graph.
 */
export type ExportFeed = FeedAxes &
  (
    | {
        /** An input of the exported model: its element type. */
        readonly type: 'float32' | 'int64';
        readonly value?: undefined;
      }
    | {
        /** Given in option feeds: its value, one row per example, a constant of the graph. */
        readonly value: TensorProto;
      }
  );

interface FeedAxes {
  readonly name: string;
  /** Its batch axis, as the backend places it (`runtime/feeds.ts`). */
  readonly batchAxis: number;
  /** Its shape without the batch axis. */
  readonly exampleShape: readonly number[];
}

/**
 * The feeds of an export: `feeds`, values as the backend takes them
 * (`runtime/feeds.ts`), and `feedShapes`, shapes of inputs the exported
 * model keeps; an input given by neither keeps its declared shape, where it
 * declares every size but its batch axis. A scalar feed is folded into the
 * model returned (`passes/fold-scalar-feeds.ts`), so that the `If` nodes on
 * it are decided in the exported graph; a scalar input must be given in
 * `feeds`. The feeds at the export's batch (`feedsAt`): any other value is a constant of the graph with one row per
 * example (a batch of 1 repeated); a kept input is float32 or int64, of the
 * export's batch.
 */
export function exportFeeds(
  model: ModelProto,
  inputName: string,
  outputName: string,
  options: {
    readonly feeds?: Readonly<Record<string, FeedTensor>>;
    readonly feedShapes?: Readonly<Record<string, readonly number[]>>;
  },
): { model: ModelProto; feedsAt: (batch: number) => ExportFeed[] } {
  const inputs = graphInputs(model);
  const needed = ancestors(model.graph!, [outputName]).inputs;
  const given = feedsOption(options.feeds, WHO);
  const shapes = options.feedShapes ?? {};
  const twice = Object.keys(given).find((name) => name in shapes);
  if (twice !== undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `${WHO}: input "${twice}" is in both feeds and feedShapes; give a value to hold fixed, or a shape to keep it an input of the exported model`,
    );
  }
  const values = resolveFeeds(inputs, inputName, new Set(), given, WHO).filter((feed) => needed.has(feed.name));
  checkFedInputs(inputs, inputName, new Set(), Object.keys(shapes), `${WHO}: option feedShapes`);
  const scalar = inputs.find(
    (input) => needed.has(input.name) && input.name !== inputName && declaredShape(input).length === 0 && !(input.name in given),
  );
  if (scalar !== undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `${WHO}: input "${scalar.name}" is a scalar, one value that every row shares and the graph may choose by (an If): ` +
        `give its value in option feeds, e.g. { data, shape: [] }`,
    );
  }
  const declaredIn = inputs
    .filter((i) => i.name !== inputName && !(i.name in given) && !(i.name in shapes) && fullyDeclared(i))
    .map((i) => i.name);
  checkFedInputs(inputs, inputName, needed, [...Object.keys(given), ...Object.keys(shapes), ...declaredIn], `${WHO}: option feeds`);

  const feedsAt = (batch: number): ExportFeed[] => [...keptAt(batch), ...bakedAt(batch)];
  const bakedAt = (batch: number) => {
    const examples = Int32Array.from({ length: batch }, (_, b) => b);
    return values
      .filter((feed) => feed.batchAxis !== undefined)
      .map((feed): ExportFeed => {
        if (feed.batch !== 1 && feed.batch !== batch) {
          throw new AttributionError(
            'INVALID_SHAPE',
            `${WHO}: feed "${feed.name}" holds ${feed.batch} examples on its batch axis ${feed.batchAxis}, and inputShape ${batch}: give 1 or ${batch}`,
          );
        }
        const value = writeTensorProto(
          feed.name,
          constTensor(feed.dataType, feedShape(feed, batch), Array.from(feedRows(feed, examples), Number)),
        );
        return { name: feed.name, batchAxis: feed.batchAxis!, exampleShape: feed.exampleShape, value };
      });
  };
  const keptAt = (batch: number) =>
    inputs
      .filter((input) => input.name !== inputName && needed.has(input.name) && !(input.name in given))
      .map((input): ExportFeed => {
        const dataType = elementType(input);
        if (dataType !== DataType.FLOAT && dataType !== DataType.INT64) {
          throw new AttributionError(
            'UNSUPPORTED_MODEL',
            `${WHO}: input "${input.name}" is ${
              dataType === undefined ? 'not a tensor' : dataTypeName(dataType)
            }; an exported model takes float32 and int64 inputs besides the attributed one (give its value in option feeds to hold it fixed)`,
          );
        }
        const declared = declaredShape(input);
        const batchAxis = feedBatchAxis(declared)!;
        const wanted = shapes[input.name] ?? declared.map((d, axis) => (axis === batchAxis ? batch : d));
        const where = `${WHO}: feedShapes["${input.name}"]`;
        const { batch: rows, exampleShape } = fedShape(declared, wanted, where, batchAxis);
        if (rows !== batch || exampleShape.includes(0)) {
          throw new AttributionError(
            'INVALID_SHAPE',
            `${where} [${(wanted as number[]).join(', ')}] does not fit input "${input.name}" of shape [${declared
              .map((d) => d ?? '?')
              .join(', ')}] ` + `with the batch ${batch} of inputShape on its batch axis ${batchAxis} and no size 0`,
          );
        }
        return {
          name: input.name,
          type: dataType === DataType.INT64 ? 'int64' : 'float32',
          batchAxis,
          exampleShape,
        };
      });
  return { model: foldScalarFeeds(model, scalarFeedValues(values)), feedsAt };
}

/** Whether the input declares every size but its batch axis's (a scalar: none to declare). */
function fullyDeclared(input: Parameters<typeof declaredShape>[0]): boolean {
  const declared = declaredShape(input);
  const batchAxis = feedBatchAxis(declared);
  return declared.every((d, axis) => axis === batchAxis || d !== null);
}

/**
 * The feed's rows for the model rows, `perExample` for each example: its
 * example's row repeated on the batch axis, [..., B·N, ...].
 */
export function feedRowsInGraph(emitter: GraphEmitter, feed: ExportFeed, batch: number, perExample: number): string {
  const { exampleShape, batchAxis } = feed;
  const outer = exampleShape.slice(0, batchAxis);
  const inner = exampleShape.slice(batchAxis);
  const one = emitter.reshape(feed.name, [...outer, batch, 1, ...inner]);
  const repeats = emitter.literal([...outer.map(() => 1), 1, perExample, ...inner.map(() => 1)], [exampleShape.length + 2], DataType.INT64);
  const tiled = emitter.node('Tile', [one, repeats], 1)[0]!;
  return emitter.reshape(tiled, [...outer, batch * perExample, ...inner]);
}
