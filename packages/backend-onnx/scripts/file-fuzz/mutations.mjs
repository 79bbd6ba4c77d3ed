// Mutations of real ONNX files for the file-level fuzz (see supervisor.mjs):
// truncations, bit flips, changed dims, element types and data lengths,
// nodes duplicated, reordered or dropped, shape values and attributes replaced
// by huge ones, graph inputs re-declared, node inputs rewired.
import { clone, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelProtoSchema, NodeProtoSchema } from '../../dist/proto/onnx_pb.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The real model files mutated: the bundled example, the parity fixtures, and
 * the PyTorch ViT fixture (shape arithmetic: Shape, ConstantOfShape, Expand,
 * Where) where `scripts/ensure-fixtures.mjs` has made it.
 */
export function seedModels() {
  const fixtures = join(repoRoot, 'apps/parity/fixtures/models');
  const vit = join(repoRoot, 'packages/backend-onnx/test/fixtures/models/vit_tiny.onnx');
  const files = [
    join(repoRoot, 'examples/mnist/model/mnist.onnx'),
    ...readdirSync(fixtures)
      .filter((f) => f.endsWith('.onnx'))
      .sort()
      .map((f) => join(fixtures, f)),
    ...(existsSync(vit) ? [vit] : []),
  ];
  return files.map((file) => {
    const bytes = new Uint8Array(readFileSync(file));
    const model = fromBinary(ModelProtoSchema, bytes);
    const initializers = new Set(model.graph.initializer.map((t) => t.name));
    const input = model.graph.input.find((i) => !initializers.has(i.name));
    const dims = input.type.value.value.shape.dim.map((d, axis) =>
      d.value.case === 'dimValue' ? Number(d.value.value) : axis === 0 ? 2 : 1,
    );
    return { name: file.slice(repoRoot.length), bytes, model, inputShape: dims };
  });
}

/** Values that break assumptions: zero, negatives, past int32, past 2^53, past int64's float range. */
const HOSTILE = [
  0n,
  1n,
  -1n,
  -7n,
  7n,
  1000n,
  65537n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n,
  10n ** 9n,
  2n * 10n ** 9n,
  2n ** 40n,
  2n ** 53n + 1n,
  2n ** 62n,
  -(2n ** 63n),
];
const hostile = fc.constantFrom(...HOSTILE);

export const KINDS = [
  'truncate',
  'flip',
  'overwrite',
  'dims',
  'rank',
  'dataType',
  'rawLength',
  'typedData',
  'duplicateNode',
  'reorderNodes',
  'dropNode',
  'shapeValue',
  'attribute',
  'inputShape',
  'rewire',
];

/** One case: which seed model, which mutation (one or two stacked), and the numbers that place it. */
export function caseArbitrary(modelCount) {
  const mutation = fc.record({
    kind: fc.constantFrom(...KINDS),
    picks: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    bits: fc.array(fc.nat(), { minLength: 1, maxLength: 16 }),
    value: hostile,
  });
  return fc.record({ model: fc.nat({ max: modelCount - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 2 }) });
}

const pick = (items, n) => (items.length === 0 ? undefined : items[n % items.length]);

/** Every tensor of a model: initializers and tensor attributes, with where it is. */
function tensorsOf(model) {
  const found = model.graph.initializer.map((t) => t);
  for (const node of model.graph.node) for (const a of node.attribute) if (a.t !== undefined) found.push(a.t);
  return found;
}

function int64Bytes(values) {
  return new Uint8Array(BigInt64Array.from(values).buffer);
}

function asInt64(value) {
  return BigInt.asIntN(64, value);
}

/** Applies one structural mutation to a decoded model (in place); returns a short description. */
function mutateModel(model, { kind, picks: [a, b, c], value }) {
  const graph = model.graph;
  const nodes = graph.node;
  switch (kind) {
    case 'dims': {
      const t = pick(tensorsOf(model), a);
      if (t === undefined || t.dims.length === 0) return 'dims: no tensor';
      const axis = b % t.dims.length;
      t.dims[axis] = asInt64(value);
      return `dims: tensor "${t.name}" axis ${axis} = ${value}`;
    }
    case 'rank': {
      const t = pick(tensorsOf(model), a);
      if (t === undefined) return 'rank: no tensor';
      if (b % 2 === 0) t.dims.push(asInt64(value));
      else t.dims.pop();
      return `rank: tensor "${t.name}" dims [${t.dims.join(', ')}]`;
    }
    case 'dataType': {
      const t = pick(tensorsOf(model), a);
      if (t === undefined) return 'dataType: no tensor';
      t.dataType = b % 20;
      return `dataType: tensor "${t.name}" = ${t.dataType}`;
    }
    case 'rawLength': {
      const t = pick(tensorsOf(model), a);
      if (t === undefined) return 'rawLength: no tensor';
      const length = b % 3 === 0 ? 0 : b % 3 === 1 ? Math.max(t.rawData.length - 1 - (c % 8), 0) : t.rawData.length + 1 + (c % 64);
      const raw = new Uint8Array(length);
      raw.set(t.rawData.subarray(0, length));
      t.rawData = raw;
      return `rawLength: tensor "${t.name}" raw ${length} bytes`;
    }
    case 'typedData': {
      const t = pick(tensorsOf(model), a);
      if (t === undefined) return 'typedData: no tensor';
      const fields = ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data'];
      const field = fields[b % fields.length];
      const count = c % 9;
      t.rawData = new Uint8Array(0);
      const entry = {
        floatData: Number(value),
        doubleData: Number(value),
        int32Data: Number(BigInt.asIntN(32, value)),
        int64Data: asInt64(value),
        uint64Data: BigInt.asUintN(64, value),
      }[field];
      t[field] = new Array(count).fill(entry);
      return `typedData: tensor "${t.name}" ${field} × ${count}`;
    }
    case 'duplicateNode': {
      const node = pick(nodes, a);
      if (node === undefined) return 'duplicateNode: no node';
      nodes.splice(b % (nodes.length + 1), 0, clone(NodeProtoSchema, node));
      return `duplicateNode: ${node.opType} at ${b % nodes.length}`;
    }
    case 'reorderNodes': {
      if (nodes.length < 2) return 'reorderNodes: too few';
      if (c % 4 === 0) {
        nodes.reverse();
        return 'reorderNodes: reversed';
      }
      const [i, j] = [a % nodes.length, b % nodes.length];
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
      return `reorderNodes: swapped ${i} and ${j}`;
    }
    case 'dropNode': {
      if (nodes.length === 0) return 'dropNode: none';
      const [removed] = nodes.splice(a % nodes.length, 1);
      return `dropNode: ${removed.opType}`;
    }
    case 'shapeValue': {
      const shapes = tensorsOf(model).filter((t) => t.dataType === 7 && t.dims.length <= 1);
      const t = pick(shapes, a);
      if (t === undefined) return 'shapeValue: no int64 vector';
      const values = t.rawData.length > 0 ? Array.from(new BigInt64Array(t.rawData.slice().buffer)) : [...t.int64Data];
      if (values.length === 0) return 'shapeValue: empty';
      values[b % values.length] = asInt64(value);
      if (t.rawData.length > 0) t.rawData = int64Bytes(values);
      else t.int64Data = values;
      return `shapeValue: tensor "${t.name}" = [${values.join(', ')}]`;
    }
    case 'attribute': {
      const withInts = nodes.flatMap((n) => n.attribute.filter((x) => x.ints.length > 0 || x.type === 2).map((x) => [n, x]));
      const found = pick(withInts, a);
      if (found === undefined) return 'attribute: none';
      const [n, attribute] = found;
      if (attribute.ints.length > 0) attribute.ints[b % attribute.ints.length] = asInt64(value);
      else attribute.i = asInt64(value);
      return `attribute: ${n.opType} ${attribute.name} = ${value}`;
    }
    case 'inputShape': {
      const dims = graph.input[0]?.type?.value?.value?.shape?.dim;
      const d = pick(dims ?? [], a);
      if (d === undefined) return 'inputShape: none';
      d.value = { case: 'dimValue', value: asInt64(value) };
      return `inputShape: ${value}`;
    }
    case 'rewire': {
      const node = pick(nodes, a);
      const names = [...graph.initializer.map((t) => t.name), ...nodes.flatMap((n) => n.output), graph.input[0]?.name ?? ''];
      if (node === undefined || node.input.length === 0) return 'rewire: none';
      const i = b % node.input.length;
      node.input[i] = pick(names, c);
      return `rewire: ${node.opType} input ${i} = "${node.input[i]}"`;
    }
    default:
      throw new Error(`unknown structural mutation ${kind}`);
  }
}

/** The mutated file bytes of a case, and what was done, for the log. */
export function mutate(seed, { mutations }) {
  let bytes = seed.bytes;
  const done = [];
  for (const m of mutations) {
    const [a, b] = m.picks;
    if (m.kind === 'truncate') {
      bytes = bytes.slice(0, a % bytes.length);
      done.push(`truncate at ${bytes.length}`);
    } else if (m.kind === 'flip') {
      bytes = bytes.slice();
      for (const bit of m.bits) bytes[(bit >> 3) % bytes.length] ^= 1 << (bit & 7);
      done.push(`flip ${m.bits.length} bits`);
    } else if (m.kind === 'overwrite') {
      bytes = bytes.slice();
      const at = a % bytes.length;
      m.bits.forEach((v, i) => {
        if (at + i < bytes.length) bytes[at + i] = (v + b) & 255;
      });
      done.push(`overwrite ${m.bits.length} bytes at ${at}`);
    } else {
      let model;
      try {
        model = fromBinary(ModelProtoSchema, bytes);
      } catch {
        done.push(`${m.kind}: skipped, not decodable`);
        continue;
      }
      done.push(mutateModel(model, m));
      bytes = toBinary(ModelProtoSchema, model);
    }
  }
  return { bytes, description: done.join('; ') };
}
