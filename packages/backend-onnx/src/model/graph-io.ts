import { AttributionError } from '@saliency/core';
import type { ModelProto, ValueInfoProto } from '../proto/onnx_pb.js';

/**
 * The item named `wanted`, or the only item when none is wanted; otherwise
 * `UNSUPPORTED_MODEL`, listing the names to choose from with the `option`.
 */
export function chooseByName<T extends { name: string }>(items: readonly T[], wanted: string | undefined, what: string, option: string): T {
  const names = items.map((item) => `"${item.name}"`).join(', ');
  if (wanted !== undefined) {
    const found = items.find((item) => item.name === wanted);
    if (found === undefined)
      throw new AttributionError('UNSUPPORTED_MODEL', `the model has no ${what} "${wanted}"; its ${what}s are ${names}`);
    return found;
  }
  if (items.length !== 1) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `the model has ${items.length} ${what}s (${names || 'none'}); choose one with the ${option} option`,
    );
  }
  return items[0]!;
}

/** The graph input explained and the output differentiated, by the `inputName` and `outputName` options. */
export function chooseInputOutput(
  model: ModelProto,
  inputName?: string,
  outputName?: string,
): { input: ValueInfoProto; outputName: string } {
  const graph = model.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((input) => !initializers.has(input.name));
  return {
    input: chooseByName(inputs, inputName, 'input', 'inputName'),
    outputName: chooseByName(graph.output, outputName, 'output', 'outputName').name,
  };
}

/** The declared shape of a graph input; null where the model leaves a dimension free. */
export function declaredShape(input: ValueInfoProto): Array<number | null> {
  const type = input.type?.value;
  if (type?.case !== 'tensorType') return [];
  return (type.value.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : null));
}
