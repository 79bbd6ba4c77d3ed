import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clone, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../../src/autodiff/build-gradient-model.js';
import type { GraphFacts } from '../../src/autodiff/graph-facts.js';
import { inferGraph } from '../../src/autodiff/infer-graph.js';
import { nodeContext } from '../../src/autodiff/node-context.js';
import { constTensor, readTensorProto, writeTensorProto, type ConstTensor } from '../../src/model/const-tensor.js';
import { DataType, isFloatType } from '../../src/model/data-type.js';
import { defaultOpset, MAX_OPSET, MIN_OPSET } from '../../src/model/onnx-model.js';
import { valueInfo } from '../../src/model/value-info.js';
import { OPS } from '../../src/ops/registry.js';
import { AttributionError } from '@saliency/core';
import { attributeProto } from '../../src/model/attribute-value.js';
import {
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  type ModelProto,
  type NodeProto,
} from '../../src/proto/onnx_pb.js';
import { uniformValues } from './op-case.js';

/*
 * ONNX's own backend test cases (Debian's libonnx-testdata: data/node and
 * data/pytorch-converted), run through this package: every case whose ops
 * all have a rule goes through shape inference and the float64 evaluator
 * against the case's expected outputs, then through a central-difference
 * check of the gradient graph (on onnxruntime-node) at the case's inputs.
 */

export const SUITE_ROOT = '/usr/share/libonnx-testdata/data';
export const SUITE_FOLDERS = ['node', 'pytorch-converted'] as const;

/** One case's outcome: what the forward and the gradient checks found, and whether both passed. */
export interface SuiteResult {
  readonly name: string;
  readonly forward: string;
  readonly gradient: string;
  readonly passed: boolean;
}

/** The cases of a folder whose ops all have a rule (and that have a data set), by name. */
export function applicableCases(folder: string): Array<{ name: string; dir: string; model: ModelProto }> {
  const root = join(SUITE_ROOT, folder);
  return readdirSync(root)
    .sort()
    .flatMap((name) => {
      const dir = join(root, name);
      if (!existsSync(join(dir, 'model.onnx')) || !existsSync(join(dir, 'test_data_set_0'))) return [];
      const model = fromBinary(ModelProtoSchema, readFileSync(join(dir, 'model.onnx')));
      const graph = model.graph!;
      const nested = graph.node.some((n) =>
        n.attribute.some((a) => a.type === AttributeProto_AttributeType.GRAPH || a.type === AttributeProto_AttributeType.GRAPHS),
      );
      const known = graph.node.every((n) => (n.domain === '' || n.domain === 'ai.onnx') && OPS.has(n.opType));
      return known && !nested && graph.node.length > 0 ? [{ name: `${folder}/${name}`, dir, model }] : [];
    });
}

function readTensors(dir: string, prefix: string): ConstTensor[] {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  return files.map((f) => readTensorProto(fromBinary(TensorProtoSchema, readFileSync(join(dir, f))), f));
}

/** The first line of an error, without the paths of this machine. */
const reasonOf = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 220);

/** Every value of the graph in float64, through each op's inferTypes and evaluate. */
function evaluateModel(model: ModelProto, feeds: ReadonlyMap<string, ConstTensor>): GraphFacts {
  const graph = model.graph!;
  const opset = defaultOpset(model);
  const facts: GraphFacts = { types: new Map(), constants: new Map() };
  const set = (name: string, t: ConstTensor) => {
    facts.constants.set(name, t);
    facts.types.set(name, { dataType: t.dataType, shape: t.dims });
  };
  for (const tensor of graph.initializer) set(tensor.name, readTensorProto(tensor, tensor.name));
  for (const [name, value] of feeds) set(name, value);
  graph.node.forEach((node, index) => {
    const ctx = nodeContext(node, facts, opset, index);
    const op = OPS.get(node.opType)!;
    const types = op.inferTypes(ctx);
    const values = op.evaluate?.(ctx);
    if (values === undefined) throw new Error(`${node.opType} has no float64 evaluation here`);
    node.output.forEach((name, i) => {
      if (name === '') return;
      const value = values[i]!;
      if (value.dims.join() !== types[i]!.shape.join())
        throw new Error(`${node.opType} evaluates shape [${value.dims}] but infers [${types[i]!.shape}]`);
      set(name, value);
    });
  });
  return facts;
}

/** ONNX's backend runner's tolerance (rtol 10⁻³, atol 10⁻⁷), exact for integers; NaN matches NaN. */
function compare(name: string, actual: ConstTensor, expected: ConstTensor): void {
  if (actual.dims.join() !== expected.dims.join())
    throw new Error(`output "${name}" has shape [${actual.dims}], expected [${expected.dims}]`);
  const float = isFloatType(expected.dataType);
  expected.values.forEach((e, i) => {
    const a = actual.values[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : float ? Math.abs(a - e) <= 1e-7 + 1e-3 * Math.abs(e) : a === e;
    if (!ok) throw new Error(`output "${name}"[${i}] is ${a}, expected ${e}`);
  });
}

/** Most coordinates of one input the gradient is compared at (spread over it), to keep central differences cheap. */
const PROBES = 8;
/** Largest gradient model run: ONNX Runtime takes minutes to load a graph of hundreds of MiB. */
const MAX_GRADIENT_BYTES = 32 * 2 ** 20;
const H = 1e-5;
const KINK_H = 1e-4;

/**
 * The gradient of Σ ȳ ⊙ y (y: the first float output that depends on the
 * input) with respect to each float graph input in turn, from our gradient
 * graph on onnxruntime-node, against float64 central differences through the
 * evaluator, at up to 8 coordinates; coordinates within 10⁻⁴ of a kink are
 * skipped. A coded refusal (AttributionError: a weight gradient, an output
 * that does not depend on the input) is listed; the case passes when some
 * input passed and none gave a wrong value.
 */
async function checkSuiteGradient(
  model: ModelProto,
  feeds: ReadonlyMap<string, ConstTensor>,
  facts: GraphFacts,
  variables: readonly string[],
): Promise<{ text: string; passed: boolean }> {
  const graph = model.graph!;
  if (variables.length === 0) return { text: 'no float input it can take at run time', passed: true };
  const outcomes: string[] = [];
  let passed = 0;
  for (const name of variables) {
    const x0 = feeds.get(name)!;
    const outputName = graph.output
      .map((o) => o.name)
      .find((o) => {
        const v = facts.constants.get(o);
        return (
          v !== undefined &&
          isFloatType(v.dataType) &&
          v.values.length > 0 &&
          v.values.every(Number.isFinite) &&
          dependsOn(graph.node, o, name)
        );
      });
    if (outputName === undefined) continue;
    const y0 = facts.constants.get(outputName)!;
    const cotangent = uniformValues(y0.values.length, x0.values.length + 7);
    const objective = (probe: Float64Array) => {
      const values = evaluateModel(model, new Map([...feeds, [name, constTensor(x0.dataType, x0.dims, probe)]])).constants.get(
        outputName,
      )!.values;
      return values.reduce((s, v, i) => s + v * cotangent[i]!, 0);
    };
    const f0 = objective(Float64Array.from(x0.values));
    const probe = Float64Array.from(x0.values);
    const at = (k: number, delta: number) => {
      probe[k] = x0.values[k]! + delta;
      const value = objective(probe);
      probe[k] = x0.values[k]!;
      return value;
    };
    const count = Math.min(PROBES, x0.values.length);
    const coordinates = new Set(Array.from({ length: count }, (_, j) => Math.floor((j * x0.values.length) / count)));
    const reference = new Map<number, number>();
    for (const k of coordinates) {
      const h = H * Math.max(1, Math.abs(x0.values[k]!));
      const central = (at(k, h) - at(k, -h)) / (2 * h);
      if (!Number.isFinite(central)) continue;
      const up = (at(k, KINK_H) - f0) / KINK_H;
      const down = (f0 - at(k, -KINK_H)) / KINK_H;
      if (Math.abs(up - down) > 1e-3 * Math.max(Math.abs(central), 1) + 1e-7) continue;
      reference.set(k, central);
    }
    if (reference.size === 0) continue;
    let gradient: Float64Array;
    try {
      gradient = await runSuiteGradient(model, feeds, name, outputName, y0, cotangent);
    } catch (error) {
      if (error instanceof AttributionError) {
        outcomes.push(`"${name}" refused: ${reasonOf(error)}`);
        continue;
      }
      throw error;
    }
    const scale = Math.max(...[...reference.values()].map(Math.abs));
    for (const [k, expected] of reference) {
      if (!(Math.abs(gradient[k]! - expected) <= 2e-3 * scale + 1e-5)) {
        return {
          text: `failed: gradient of input "${name}"[${k}] is ${gradient[k]}, central differences ${expected} (largest reference ${scale})`,
          passed: false,
        };
      }
    }
    passed++;
    outcomes.unshift(`"${name}" passed`);
  }
  if (outcomes.length === 0)
    return { text: 'not checked: every probe sits on a kink, or no float output depends on a float input', passed: true };
  return { text: outcomes.join('; '), passed: passed > 0 };
}

function dependsOn(nodes: readonly NodeProto[], output: string, input: string): boolean {
  const producers = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) producers.set(o, n);
  const seen = new Set<string>();
  const visit = (name: string): boolean => {
    if (name === input) return true;
    if (seen.has(name)) return false;
    seen.add(name);
    return producers.get(name)?.input.some((i) => i !== '' && visit(i)) ?? false;
  };
  return visit(output);
}

/** Our gradient graph of the case's graph with respect to input `name`, run on onnxruntime-node (float32 feeds, cast where the graph computes in float64). */
async function runSuiteGradient(
  model: ModelProto,
  feeds: ReadonlyMap<string, ConstTensor>,
  name: string,
  outputName: string,
  y0: ConstTensor,
  cotangent: Float64Array,
): Promise<Float64Array> {
  const graph = model.graph!;
  const x = feeds.get(name)!;
  const n = y0.values.length;
  const literal = (label: string, values: number[]) => writeTensorProto(label, constTensor(DataType.INT64, [values.length], values));
  const nodes: NodeProto[] = [];
  const entry = x.dataType === DataType.FLOAT ? 'suite/x' : 'suite/x_cast';
  if (x.dataType !== DataType.FLOAT) nodes.push(suiteNode('Cast', ['suite/x'], [entry], x.dataType));
  nodes.push(create(NodeProtoSchema, { opType: 'Reshape', input: [entry, 'suite/x_shape'], output: [name] }));
  nodes.push(...graph.node.map((node) => clone(NodeProtoSchema, node)));
  const exit = y0.dataType === DataType.FLOAT ? outputName : 'suite/y_cast';
  if (y0.dataType !== DataType.FLOAT) nodes.push(suiteNode('Cast', [outputName], [exit], DataType.FLOAT));
  nodes.push(create(NodeProtoSchema, { opType: 'Reshape', input: [exit, 'suite/y_shape'], output: ['suite/logits'] }));
  const others = [...feeds].filter(([other]) => other !== name).map(([other, value]) => writeTensorProto(other, value));
  const wrapped = create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    graph: create(GraphProtoSchema, {
      name: 'suite',
      node: nodes,
      initializer: [...graph.initializer, ...others, literal('suite/x_shape', [...x.dims]), literal('suite/y_shape', [1, n])],
      input: [valueInfo('suite/x', [1, ...x.dims], DataType.FLOAT)],
      output: [valueInfo('suite/logits', [1, n], DataType.FLOAT)],
    }),
  });
  const built = buildGradientModel(fromBinary(ModelProtoSchema, toBinary(ModelProtoSchema, wrapped)), {
    inputName: 'suite/x',
    inputShape: [1, ...x.dims],
    outputName: 'suite/logits',
    keepSoftmax: true,
    result: 'gradient',
  });
  if (built.bytes.length > MAX_GRADIENT_BYTES) {
    const nodes = fromBinary(ModelProtoSchema, built.bytes).graph!.node.length;
    throw new Error(
      `the gradient graph is ${(built.bytes.length / 2 ** 20).toFixed(0)} MiB (${nodes} nodes), over the suite's ${MAX_GRADIENT_BYTES / 2 ** 20} MiB: not run`,
    );
  }
  const session = await ort.InferenceSession.create(built.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const result = await session.run({
      'suite/x': new ort.Tensor('float32', Float32Array.from(x.values), [1, ...x.dims]),
      [COTANGENT_INPUT]: new ort.Tensor('float32', Float32Array.from(cotangent), [1, n]),
    });
    return Float64Array.from(result[GRADIENT_OUTPUT]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

function suiteNode(opType: string, input: string[], output: string[], to: DataType): NodeProto {
  return create(NodeProtoSchema, { opType, input, output, attribute: [attributeProto('to', { int: to })] });
}

/** The graph with the feeds not in `runtime` made initializers, as a model exported for this package has its shape operands. */
function withConstants(model: ModelProto, feeds: ReadonlyMap<string, ConstTensor>, runtime: ReadonlySet<string>): ModelProto {
  const copy = clone(ModelProtoSchema, model);
  const graph = copy.graph!;
  graph.initializer.push(...[...feeds].filter(([name]) => !runtime.has(name)).map(([name, value]) => writeTensorProto(name, value)));
  graph.input = graph.input.filter((input) => runtime.has(input.name));
  return copy;
}

/**
 * The float inputs the graph can take at run time: those that shape
 * inference accepts unknown while every other input is a constant (the
 * others are shape operands, such as Resize's scales or Pad's pads, which
 * the package needs known when a model is built).
 */
function runtimeInputs(model: ModelProto, feeds: ReadonlyMap<string, ConstTensor>): string[] {
  return [...feeds].flatMap(([name, value]) => {
    if (!isFloatType(value.dataType)) return [];
    try {
      inferGraph(withConstants(model, feeds, new Set([name])).graph!, defaultOpset(model), new Map([[name, value.dims]]));
      return [name];
    } catch {
      return [];
    }
  });
}

/** Runs one case: shape inference and the evaluator against its outputs, then the gradient check. */
export async function runSuiteCase(name: string, dir: string, model: ModelProto): Promise<SuiteResult> {
  const graph = model.graph!;
  const dataDir = join(dir, 'test_data_set_0');
  const opset = defaultOpset(model);
  const failed = (reason: string): SuiteResult => ({ name, forward: `failed: ${reason}`, gradient: '—', passed: false });
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    return failed(
      `opset ${opset}: the package reads opsets ${MIN_OPSET} to ${MAX_OPSET} (ONNX Runtime has no kernels for op versions before 7)`,
    );
  const notTensor = [...graph.input, ...graph.output].find((v) => v.type?.value.case !== 'tensorType');
  if (notTensor !== undefined)
    return failed(`"${notTensor.name}" is a ${notTensor.type?.value.case ?? 'value'} type, not a tensor; the package computes on tensors`);
  let feeds: Map<string, ConstTensor>;
  let facts: GraphFacts;
  let variables: string[];
  try {
    const inputs = readTensors(dataDir, 'input_');
    const expected = readTensors(dataDir, 'output_');
    const initialized = new Set(graph.initializer.map((t) => t.name));
    const graphInputs = graph.input.filter((i) => !initialized.has(i.name));
    feeds = new Map(graphInputs.map((input, i) => [input.name, inputs[i]!]));
    variables = runtimeInputs(model, feeds);
    const runtime = new Set(variables);
    const inferred = inferGraph(withConstants(model, feeds, runtime).graph!, opset, new Map(variables.map((v) => [v, feeds.get(v)!.dims])));
    graph.output.forEach((output, i) => {
      const shape = inferred.types.get(output.name)?.shape;
      if (shape?.join() !== expected[i]!.dims.join())
        throw new Error(`shape inference gives output "${output.name}" shape [${shape}], expected [${expected[i]!.dims}]`);
    });
    facts = evaluateModel(model, feeds);
    graph.output.forEach((output, i) => compare(output.name, facts.constants.get(output.name)!, expected[i]!));
  } catch (error) {
    return failed(reasonOf(error));
  }
  try {
    const gradient = await checkSuiteGradient(model, feeds, facts, variables);
    return { name, forward: 'passed', gradient: gradient.text, passed: gradient.passed };
  } catch (error) {
    return { name, forward: 'passed', gradient: `failed: ${reasonOf(error)}`, passed: false };
  }
}
