import { AttributionError, formatShape } from '@saliency/core';
import type { GraphEmitter } from '../autodiff/graph-emitter.js';
import { ancestors } from '../autodiff/infer-graph.js';
import { DataType, dataTypeName } from '../model/data-type.js';
import { checkFedInputs, declaredShape, elementType, graphInputs } from '../model/graph-io.js';
import type { ModelProto } from '../proto/onnx_pb.js';

/** A graph input other than the attributed one, which the exported model takes as an input of its own (docs/methods.md, "Attribution at a tensor"). */
export interface ExportFeed {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly exampleShape: readonly number[];
}

/**
 * The other inputs the explained output needs, each an input of the exported
 * model under its own name, of shape [B, ...] with B the batch of the export
 * (one row per example): `feedShapes[name]`, or its declared shape where
 * every dimension past the batch axis is declared. float32 and int64 only.
 */
export function exportFeeds(
  model: ModelProto,
  inputName: string,
  outputName: string,
  feedShapes: Readonly<Record<string, readonly number[]>> | undefined,
  batch: number,
): ExportFeed[] {
  const inputs = graphInputs(model);
  const needed = ancestors(model.graph!, [outputName]).inputs;
  const given = feedShapes ?? {};
  const fed = inputs.filter((input) => input.name !== inputName && needed.has(input.name));
  checkFedInputs(
    inputs,
    inputName,
    needed,
    [...Object.keys(given), ...fed.map((i) => i.name).filter((n) => fullyDeclared(inputs, n))],
    'exportAttributionModel: option feedShapes',
  );
  return fed.map((input) => {
    const dataType = elementType(input);
    if (dataType !== DataType.FLOAT && dataType !== DataType.INT64) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `exportAttributionModel: input "${input.name}" is ${dataType === undefined ? 'not a tensor' : dataTypeName(dataType)}; an exported model takes float32 and int64 inputs besides the attributed one`,
      );
    }
    const declared = declaredShape(input);
    const wanted = given[input.name] ?? declared.map((d, axis) => (axis === 0 ? batch : d));
    const fits =
      Array.isArray(wanted) &&
      wanted.length === declared.length &&
      wanted[0] === batch &&
      wanted.every(
        (d, axis) => Number.isInteger(d) && d !== null && d >= 1 && (axis === 0 || declared[axis] === null || declared[axis] === d),
      );
    if (!fits) {
      throw new AttributionError(
        'INVALID_SHAPE',
        `exportAttributionModel: feedShapes["${input.name}"] ${Array.isArray(wanted) ? formatShape(wanted as number[]) : String(wanted)} does not fit input "${input.name}" ` +
          `of shape [${declared.map((d) => d ?? '?').join(', ')}] with the batch ${batch} of inputShape`,
      );
    }
    return { name: input.name, type: dataType === DataType.INT64 ? 'int64' : 'float32', exampleShape: (wanted as number[]).slice(1) };
  });
}

function fullyDeclared(inputs: ReturnType<typeof graphInputs>, name: string): boolean {
  const input = inputs.find((i) => i.name === name);
  return (
    input !== undefined &&
    declaredShape(input)
      .slice(1)
      .every((d) => d !== null)
  );
}

/** The feed's rows for the model rows: each example's row repeated `perExample` times, [B·N, ...]. */
export function feedRowsInGraph(emitter: GraphEmitter, feed: ExportFeed, batch: number, perExample: number): string {
  const { exampleShape } = feed;
  const one = emitter.reshape(feed.name, [batch, 1, ...exampleShape]);
  const repeats = emitter.literal([1, perExample, ...exampleShape.map(() => 1)], [exampleShape.length + 2], DataType.INT64);
  const tiled = emitter.node('Tile', [one, repeats], 1)[0]!;
  return emitter.reshape(tiled, [batch * perExample, ...exampleShape]);
}
