import { AttributionError } from '@saliency/core';
import type { ModelProto, ValueInfoProto } from '../proto/onnx_pb.js';
import { dataTypeName, type DataType } from './data-type.js';

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
  const inputs = graphInputs(model);
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

/** The declared shape of graph output `name` after its batch axis; undefined where the model declares none. */
export function declaredOutputShape(model: ModelProto, name: string): Array<number | null> | undefined {
  const output = model.graph!.output.find((o) => o.name === name);
  const shape = output === undefined ? [] : declaredShape(output);
  return shape.length === 0 ? undefined : shape.slice(1);
}

/** The element type of a graph input. */
export function elementType(input: ValueInfoProto): DataType | undefined {
  const type = input.type?.value;
  return type?.case === 'tensorType' ? (type.value.elemType as DataType) : undefined;
}

/** `"name" int64 [?, 8]` for each input, for messages. */
export function describeInputs(inputs: readonly ValueInfoProto[]): string {
  return inputs
    .map((input) => {
      const type = elementType(input);
      const shape = declaredShape(input).map((d) => d ?? '?');
      return `"${input.name}" ${type === undefined ? 'not a tensor' : dataTypeName(type)} [${shape.join(', ')}]`;
    })
    .join(', ');
}

/** The model's graph inputs less its initializers (listed among the inputs up to IR version 3). */
export function graphInputs(model: ModelProto): ValueInfoProto[] {
  const graph = model.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((input) => !initializers.has(input.name));
}

/**
 * Refuses fed inputs (`given`, by name) that miss an input in `needed` other
 * than the attributed one, or name another (an unknown input, the attributed
 * one), listing every input with its element type and shape. `option` begins
 * each message.
 */
export function checkFedInputs(
  inputs: readonly ValueInfoProto[],
  attributed: string,
  needed: ReadonlySet<string>,
  given: readonly string[],
  option: string,
): void {
  const listed = `the model's inputs are ${describeInputs(inputs)}`;
  const names = new Set(inputs.map((input) => input.name));
  const unknown = given.filter((name) => !names.has(name) || name === attributed);
  if (unknown.length > 0) {
    const what = unknown.map((name) => `"${name}"${name === attributed ? ' (the attributed input)' : ''}`).join(', ');
    throw new AttributionError('INVALID_OPTION', `${option} names ${what}, not an input to feed; ${listed}`);
  }
  const missing = inputs.filter((input) => input.name !== attributed && needed.has(input.name) && !given.includes(input.name));
  if (missing.length > 0) {
    const them = missing.length === 1 ? 'it' : 'them';
    throw new AttributionError(
      'INVALID_OPTION',
      `${option}: the model's output needs ${missing.length === 1 ? 'input' : 'inputs'} ${missing.map((input) => `"${input.name}"`).join(', ')} ` +
        `besides the attributed input "${attributed}": give ${them} in ${option.split(' ').at(-1)}; ${listed}`,
    );
  }
}
