import { AttributionError } from '@saliency/core';
import { AttributeProto_AttributeType as AttributeType, type NodeProto } from '../proto/onnx_pb.js';
import { readTensorProto, type ConstTensor } from './const-tensor.js';

/** Typed access to a node's attributes, with the defaults of the operator's specification. */
export class Attributes {
  readonly #byName = new Map<string, NodeProto['attribute'][number]>();
  readonly #where: string;

  constructor(node: NodeProto) {
    for (const attribute of node.attribute) this.#byName.set(attribute.name, attribute);
    this.#where = describeNode(node);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return fallback;
    this.#expect(name, a.type, AttributeType.INT);
    return Number(a.i);
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return fallback;
    this.#expect(name, a.type, AttributeType.FLOAT);
    return a.f;
  }

  ints(name: string, fallback: readonly number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, fallback?: readonly number[]): number[] | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return fallback === undefined ? undefined : [...fallback];
    this.#expect(name, a.type, AttributeType.INTS);
    return a.ints.map(Number);
  }

  floats(name: string): number[] | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return undefined;
    this.#expect(name, a.type, AttributeType.FLOATS);
    return [...a.floats];
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return fallback;
    this.#expect(name, a.type, AttributeType.STRING);
    return new TextDecoder().decode(a.s);
  }

  tensor(name: string): ConstTensor | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return undefined;
    this.#expect(name, a.type, AttributeType.TENSOR);
    if (a.t === undefined)
      throw new AttributionError('INVALID_MODEL', `${this.#where}: attribute ${name} is of type TENSOR but holds no tensor`);
    return readTensorProto(a.t, `${this.#where}, attribute ${name}`);
  }

  #expect(name: string, actual: AttributeType, expected: AttributeType): void {
    if (actual !== expected) {
      throw new AttributionError(
        'INVALID_MODEL',
        `${this.#where}: attribute ${name} has type ${AttributeType[actual]}, expected ${AttributeType[expected]}`,
      );
    }
  }
}

/** `Conv node "conv1"` or `Conv node #12`, for messages. */
export function describeNode(node: NodeProto, index?: number): string {
  const name = node.name !== '' ? `"${node.name}"` : index !== undefined ? `#${index}` : `with outputs ${node.output.join(', ')}`;
  return `${node.opType} node ${name}`;
}
