import { formatShape } from '@saliency/core';
import { inferGraph } from '../autodiff/infer-graph.js';
import { describeNode } from '../model/attributes.js';
import { checkActivation, elementCount, type ModelBudgets } from '../model/budgets.js';
import { defaultOpset } from '../model/onnx-model.js';
import type { ModelProto } from '../proto/onnx_pb.js';
import { largestFittingCount } from './row-splitting.js';

/** The largest value static shape inference plans for the model at one input shape, and where it is. */
export interface LargestValue {
  readonly elements: number;
  readonly shape: readonly number[];
  readonly where: string;
}

/**
 * The largest value (in elements) of the model's graph for the input `inputName`
 * of shape `shape`: the input itself or a node output not folded to a
 * constant, among the nodes that the explained output `outputName` depends on
 * (the graph built for it holds no other). The gradient graph's values have the shapes of these (a cotangent
 * has its value's shape), so this bounds what one run holds per tensor.
 */
export function largestValue(
  model: ModelProto,
  inputName: string,
  outputName: string,
  shape: readonly number[],
  budgets: ModelBudgets,
  feedShapes: ReadonlyMap<string, readonly number[]> = new Map(),
): LargestValue {
  const inputShapes = new Map([...feedShapes, [inputName, shape]]);
  const facts = inferGraph(model.graph!, defaultOpset(model), inputShapes, { ...budgets, maxActivationElements: Infinity }, [outputName]);
  const { graph } = facts;
  let largest: LargestValue = { elements: elementCount(shape), shape, where: `graph input "${inputName}"` };
  graph.node.forEach((node, index) => {
    node.output.forEach((name, i) => {
      const type = facts.types.get(name);
      if (name === '' || type === undefined || facts.constants.has(name)) return;
      const elements = elementCount(type.shape);
      if (elements > largest.elements)
        largest = { elements, shape: type.shape, where: `${describeNode(node, index)}, output ${i} "${name}"` };
    });
  });
  return largest;
}

/**
 * How many units (rows, or groups of `unit` rows) of an input of shape
 * `shape` one run may take so that no value exceeds the budget
 * `maxActivationElements`: all of them when they fit, 0 when not even one
 * group does (its rows then run on their own). A single row over the budget
 * is refused with `MODEL_TOO_LARGE`, naming the node, its shape and the budget.
 */
export function activationFittingCount(
  model: ModelProto,
  inputName: string,
  outputName: string,
  shape: readonly number[],
  unit: number,
  budgets: ModelBudgets,
  feedShapesAt: (rows: number) => ReadonlyMap<string, readonly number[]> = () => new Map(),
): number {
  const total = shape[0]! / unit;
  const rowsShape = (n: number) => [n * unit, ...shape.slice(1)];
  if (budgets.maxActivationElements === Infinity || total === 0) return total;
  const count = largestFittingCount(
    total,
    budgets.maxActivationElements,
    (n) => largestValue(model, inputName, outputName, rowsShape(n), budgets, feedShapesAt(n * unit)).elements,
  );
  if (count === 0 && unit === 1) {
    const one = largestValue(model, inputName, outputName, rowsShape(1), budgets, feedShapesAt(1));
    checkActivation(one.shape, budgets, `${one.where} (for one row of an input of shape ${formatShape(shape)})`);
  }
  return count;
}
