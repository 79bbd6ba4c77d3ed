import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readOnnxModel } from '../src/model/onnx-model.js';
import { prepareModel } from '../src/passes/prepare-model.js';
import { PRECISION_FIXTURES } from './helpers/precision-fixtures.js';

/*
 * The dequantize pass's constants, bit for bit: every DequantizeLinear of an
 * int8/uint8 constant becomes a float32 initializer of its output's name,
 * which must hold exactly numpy's float32 (q − zero point) · scale, per
 * tensor or per axis (Debian's python3-numpy and python3-onnx read the model
 * on their own; compared by SHA-256 of the little-endian float32 bytes).
 */

const MODELS = [
  fileURLToPath(new URL('cnn_int8_weights.onnx', PRECISION_FIXTURES)),
  fileURLToPath(new URL('cnn_int8_qdq.onnx', PRECISION_FIXTURES)),
  fileURLToPath(new URL('./fixtures/shipped/models/resnet18_int8_qdq.onnx', import.meta.url)),
];

/** Per model file: DequantizeLinear output name → [element count, SHA-256 of numpy's float32 dequantization]. */
function numpyDequantized(files: readonly string[]): Record<string, Record<string, [number, string]>> {
  const code = `
import hashlib, json, sys
import numpy as np
import onnx
from onnx import numpy_helper
out = {}
for path in sys.argv[1:]:
    model = onnx.load(path)
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        for a in node.attribute:
            if node.op_type == 'Constant' and a.name == 'value':
                constants[node.output[0]] = numpy_helper.to_array(a.t)
    found = {}
    for node in model.graph.node:
        if node.op_type != 'DequantizeLinear' or node.input[0] not in constants:
            continue
        q = constants[node.input[0]]
        if q.dtype not in (np.int8, np.uint8):
            continue
        scale = constants[node.input[1]].astype(np.float32)
        zero = constants[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros((), q.dtype)
        axis = next((a.i for a in node.attribute if a.name == 'axis'), 1)
        shape = [1] * q.ndim
        shape[axis] = -1
        if scale.size > 1:
            scale = scale.reshape(shape)
        if zero.size > 1:
            zero = zero.reshape(shape)
        x = (q.astype(np.float32) - zero.astype(np.float32)) * scale
        assert x.dtype == np.float32
        found[node.output[0]] = [int(x.size), hashlib.sha256(x.astype('<f4').tobytes()).hexdigest()]
    out[path] = found
print(json.dumps(out))
`;
  const result = spawnSync('/usr/bin/python3', ['-c', code, ...files], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`numpy dequantization failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, Record<string, [number, string]>>;
}

describe('the dequantize pass against numpy', () => {
  const expected = numpyDequantized(MODELS);

  it.each(MODELS.map((file) => [file.split('/').at(-1)!, file]))(
    '%s: every dequantized constant equals numpy float32 (q − z) · s bit for bit',
    (_, file) => {
      const tensors = Object.entries(expected[file]!);
      expect(tensors.length, 'DequantizeLinear nodes of int8/uint8 constants').toBeGreaterThan(0);
      const model = prepareModel(readOnnxModel(readFileSync(file)));
      const initializers = new Map(model.graph!.initializer.map((t) => [t.name, t]));
      for (const [name, [count, sha256]] of tensors) {
        const tensor = initializers.get(name);
        expect(tensor, `initializer "${name}"`).toBeDefined();
        expect(tensor!.rawData.byteLength, `"${name}": float32 bytes`).toBe(4 * count);
        expect(createHash('sha256').update(tensor!.rawData).digest('hex'), `"${name}"`).toBe(sha256);
      }
    },
    120_000,
  );
});
