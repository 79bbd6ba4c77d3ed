import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { methodRule } from '@saliency/core';
import { GraphEmitter } from '../src/autodiff/graph-emitter.js';
import { ruleInGraph, EXPORTABLE_METHODS, type RuleGraphContext } from '../src/export/rule-in-graph.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

// Each built-in rule's graph form against the rule itself: core's reduce and
// finish, evaluated in float64 on the same float32 moments, are the reference.

const COUNT = 5;
// Means and M2s over signs, zero, and variances on both sides of VarGrad's zero threshold (1e-10).
const MEAN = Float32Array.from([0, 1.5, -2.25, 3e-3, -7, 0.125, 42, -1e-4]);
const M2 = Float32Array.from([0, 2, 0.5, 5e-11, 4e-10, 1e-12 * COUNT, 300, 8e-9]);
const X = Float32Array.from([0.5, -1, 2, 0, -0.25, 3, 1, -2]);
const BASELINE = Float32Array.from([0, 0.5, -1, 0.25, 0, 1, -0.5, 0]);
const k = MEAN.length;
/** The base methods whose map is a reduction of gradient moments. */
const REDUCED = EXPORTABLE_METHODS.filter((base) => methodRule(base).layer === undefined);

async function graphValues(base: string, unbiased: boolean): Promise<Float32Array> {
  const emitter = new GraphEmitter(new Set(['mean', 'm2', 'x', 'baseline', 'value']), new Map(), 17);
  const context: RuleGraphContext = {
    emitter,
    unbiased,
    moments: { count: COUNT, mean: () => 'mean', m2: () => 'm2' },
    span: () => emitter.node('Sub', ['x', 'baseline'], 1)[0]!,
  };
  const form = ruleInGraph(methodRule(base));
  let value = form.reduce(context);
  if (form.finish !== undefined) value = form.finish(value, context);
  const model = onnxModel({
    nodes: [...emitter.nodes, node('Identity', [value], ['value'])],
    inputs: ['mean', 'm2', 'x', 'baseline'].map((name) => valueInfo(name, [k])),
    outputs: [valueInfo('value', [k])],
  });
  model.graph!.initializer.push(...emitter.initializers);
  const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, model));
  const tensor = (data: Float32Array) => new ort.Tensor('float32', data, [k]);
  const result = await session.run({ mean: tensor(MEAN), m2: tensor(M2), x: tensor(X), baseline: tensor(BASELINE) });
  await session.release();
  return result.value!.data as Float32Array;
}

describe('the graph form of each built-in rule', () => {
  it('covers every built-in base method (the layer methods by cam-in-graph.ts)', () => {
    expect(EXPORTABLE_METHODS).toEqual([
      'gradient',
      'smoothgrad',
      'smoothgrad_squared',
      'vargrad',
      'integrated_gradients',
      'guided_backprop',
      'deconvnet',
      'grad_cam',
      'grad_cam_timeseries',
      'grad_cam_plus_plus',
    ]);
  });

  it.each(
    REDUCED.flatMap(
      (base) =>
        [
          [base, false],
          [base, true],
        ] as const,
    ),
  )('%s (unbiased: %s) computes the rule’s reduce and finish', async (base, unbiased) => {
    const rule = methodRule(base);
    const got = await graphValues(base, unbiased);
    for (let e = 0; e < k; e++) {
      const value = rule.reduce({ count: COUNT, mean: MEAN[e]!, m2: M2[e]! }, { unbiased });
      const expected = rule.finish === undefined ? value : rule.finish(value, X[e]!, BASELINE[e]!);
      // float32 arithmetic of at most three rounded operations
      expect(Math.abs(got[e]! - expected)).toBeLessThanOrEqual(4e-7 * Math.abs(expected));
    }
  });
});
