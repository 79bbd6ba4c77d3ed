import { AttributionError, isInputRule, parseLrpRuleSet, type LrpRuleSet } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { isOutputPositionNode } from '../model/output-position.js';
import type { GradientRule } from '../ops/op-definition.js';
import type { NodeProto } from '../proto/onnx_pb.js';
import { linearLayer } from './linear-layer.js';
import { clipPassesRelevance } from './lrp-bounded.js';
import { inputRule, layerRule } from './lrp-rules.js';
import type { BackwardPath, BackwardRuleSet } from './rule-set.js';

/** The layers whose rule LRP replaces. */
const LINEAR = ['Conv', 'Gemm', 'MatMul'];
/** Ops whose values pass unchanged: the first layers' rules see the input through them. */
const THROUGH = new Set(['Flatten', 'Reshape', 'Identity', 'Dropout']);
/**
 * Ops whose ordinary rule is their LRP rule under R = a ⊙ c: ReLU passes
 * relevance, MaxPool gives it to the winner, AveragePool, GlobalAveragePool
 * and Add split it in proportion to the contributions, and a constant Pad
 * (as exporters put before AveragePool) gives its padding none
 * (docs/methods.md, "LRP").
 */
const PROPORTIONAL = new Set(['Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Add', 'Pad']);
/** Ops given an LRP rule of their own: Clip (ReLU6) passes relevance unchanged (`lrp-bounded.ts`). */
const PASSING: ReadonlyMap<string, GradientRule> = new Map([['Clip', clipPassesRelevance]]);

/** The LRP rule set of a name of core's grammar (`parseLrpRuleSet`), or undefined. */
export function lrpRuleSet(name: string): BackwardRuleSet | undefined {
  const set = parseLrpRuleSet(name);
  if (set === undefined) return undefined;
  return { name, foldsBatchNorm: true, overrides: (path) => overrides(set, path) };
}

function overrides(set: LrpRuleSet, path: BackwardPath): ReadonlyMap<string, GradientRule> {
  path.nodes.forEach((node) => {
    // The output position's head selects and averages: its ordinary rule is its LRP rule, as AveragePool's.
    if (isOutputPositionNode(node)) return;
    const padding = node.opType === 'Pad' ? new Attributes(node).string('mode', 'constant') : 'constant';
    if (
      (!LINEAR.includes(node.opType) && !THROUGH.has(node.opType) && !PROPORTIONAL.has(node.opType) && !PASSING.has(node.opType)) ||
      padding !== 'constant'
    ) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${describeNode(node)}: LRP has no rule for ${node.opType}${padding === 'constant' ? '' : ` in mode ${padding}`}; it propagates relevance through ${LINEAR.join(', ')}, ` +
          `${[...PROPORTIONAL, ...THROUGH].join(', ')} Pad (constant), Clip (constant bounds) and BatchNormalization after a Conv (docs/methods.md, "LRP")`,
      );
    }
  });
  const first = firstLayers(path, isInputRule(set.first));
  const rule: GradientRule = (g) => {
    const layer = linearLayer(g);
    const chosen = first.has(g.node) ? set.first : g.node.opType === 'Conv' ? set.conv : set.dense;
    return layer.result(isInputRule(chosen) ? inputRule(g, layer, chosen) : layerRule(g, layer, chosen));
  };
  return new Map([...LINEAR.map((op): [string, GradientRule] => [op, rule]), ...PASSING]);
}

/**
 * The linear layers that read the model input, directly or through ops that
 * pass values unchanged. A first-layer rule that gives relevance itself
 * (w², flat, zB) needs every path from the input to start so.
 */
function firstLayers(path: BackwardPath, inputRuleFirst: boolean): Set<NodeProto> {
  const reached = new Set([path.inputName]);
  const first = new Set<NodeProto>();
  for (const node of path.nodes) {
    if (!node.input.some((name) => reached.has(name))) continue;
    if (THROUGH.has(node.opType)) node.output.forEach((name) => reached.add(name));
    else if (LINEAR.includes(node.opType)) first.add(node);
    else if (inputRuleFirst) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${describeNode(node)} reads the model input "${path.inputName}" before any Conv, Gemm or MatMul; ` +
          `the first-layer rules w², flat and zB need the input to reach those layers through ${[...THROUGH].join(', ')} only`,
      );
    }
  }
  return first;
}
