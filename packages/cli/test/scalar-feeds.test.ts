import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { python, saliency } from './helpers.js';
import { W, X6 } from './small-models.js';

// --feed of a scalar input (NAME=NUMBER) and of a state whose batch axis is
// not the first (a .npy of the input's full rank, taken as it is), as a
// Silero VAD takes its sample rate and LSTM state, on a model whose gradient
// is known in closed form: logits = (s · x ⊙ x + (state[0] + state[1]) ⊙ x) · w
// with s a float scalar input and state [2, batch, 6], so
// ∂ logit_k / ∂ x_i = (2 s x_i + state[0, 0, i] + state[1, 0, i]) · w[i, k].

const dir = mkdtempSync(join(tmpdir(), 'saliency-scalar-feeds-'));
const STATE = (layer: number, i: number) => 0.1 * (layer + 1) * (i - 2);

beforeAll(() => {
  python(`
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
d = ${JSON.stringify(dir)}
np.save(d + '/x6.npy', np.linspace(-1, 1, 6).astype('<f4'))
np.save(d + '/state.npy', np.array([[[0.1 * (l + 1) * (i - 2) for i in range(6)]] for l in range(2)], dtype='<f4'))
w = numpy_helper.from_array(np.arange(24, dtype=np.float32).reshape(6, 4) / 24, 'w')
axes = numpy_helper.from_array(np.array([0], dtype=np.int64), 'axes')
inputs = [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 6]), helper.make_tensor_value_info('s', TensorProto.FLOAT, []),
          helper.make_tensor_value_info('state', TensorProto.FLOAT, [2, 'batch', 6])]
nodes = [helper.make_node('Mul', ['x', 'x'], ['xx']), helper.make_node('Mul', ['xx', 's'], ['sxx']),
         helper.make_node('ReduceSum', ['state', 'axes'], ['summed'], keepdims=0), helper.make_node('Mul', ['summed', 'x'], ['sx']),
         helper.make_node('Add', ['sxx', 'sx'], ['h']), helper.make_node('MatMul', ['h', 'w'], ['logits'])]
logits = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 4])
onnx.save(helper.make_model(helper.make_graph(nodes, 'm', inputs, [logits], [w, axes]), opset_imports=[helper.make_opsetid('', 13)]), d + '/scalar.onnx')
`);
});

describe('--feed of a scalar and of a state', () => {
  it('--feed s=0.5 gives the scalar input, --feed state=state.npy the state [2, 1, 6] as it is', () => {
    const raw = join(dir, 'gradient.json');
    const result = saliency([
      ...['--model', join(dir, 'scalar.onnx'), '--input', join(dir, 'x6.npy'), '--input-name', 'x'],
      ...['--feed', 's=0.5', '--feed', `state=${join(dir, 'state.npy')}`],
      ...['--method', 'gradient', '--target', '2', '--raw', raw],
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const map = (JSON.parse(readFileSync(raw, 'utf8')) as { data: number[] }).data;
    map.forEach((g, i) => expect(g).toBeCloseTo((2 * 0.5 * X6[i]! + STATE(0, i) + STATE(1, i)) * W(i, 2), 6));
  });

  it('refuses a --feed that is neither a .npy file nor a number', () => {
    const result = saliency(['--model', join(dir, 'scalar.onnx'), '--input', join(dir, 'x6.npy'), '--feed', 's=half']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('--feed s=half: give a .npy tensor, or a number for a scalar input');
  });
});

describe('saliency inspect of a model with a scalar input', () => {
  it('suggests --feed s=NUMBER for the scalar, and with --feed s=0.5 lists no line of its own and names it as given', () => {
    const model = join(dir, 'scalar.onnx');
    const plain = saliency(['inspect', model]).stdout;
    expect(plain).toContain(
      '  --input FILE --input-name x --feed s=NUMBER --feed state=FILE.npy  (float32: attributed as it is, or at --layer)\n',
    );
    const fed = saliency(['inspect', model, '--feed', 's=0.5']);
    expect(fed.stderr).toBe('');
    expect(fed.stdout).toContain(
      '  --input FILE --input-name x --feed s=0.5 --feed state=FILE.npy  (float32: attributed as it is, or at --layer)\n',
    );
    expect(fed.stdout).not.toContain('--input-name s ');
    // h = s · x ⊙ x + (state[0] + state[1]) ⊙ x: [batch, 6]; the state's batch axis is its second, the batch of x.
    expect(fed.stdout).toContain('layers from input x to output logits');
    expect(fed.stdout).toContain('    h  Add  float32  [?, 6]\n');
    expect(fed.stdout).toContain('    logits  MatMul  float32  [?, 4]\n');
  });
});
