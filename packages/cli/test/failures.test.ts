import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/npy.js';
import { cliRoot, mnist, paddleRecogniser, python, saliency } from './helpers.js';
import { makeSmallOnnxModels, makeTfjsSequenceModel, makeTfjsTokensModel } from './small-models.js';

// Every row of the failure table in README.md, run by spawning the built
// command: the message it prints (one line, after "saliency: ") and its exit
// code. The table is read from the README, so a row without a case here, or
// a case without a row, fails.

const dir = mkdtempSync(join(tmpdir(), 'saliency-failures-'));
const at = (name: string) => join(dir, name);
const out = at('heatmap.png');
const digit = mnist.digit('3-0');
const image = ['--model', mnist.onnx, '--input', digit, '--preset', mnist.preset, '--num-samples', '2'];
const good = [...image, '--out', out];
/** A tensor input for the small ONNX models made below, which take [batch, 6]. */
const small = (model: string, ...rest: string[]) => [
  '--model',
  at(model),
  '--input',
  at('x6.npy'),
  '--num-samples',
  '2',
  '--raw',
  at('r.npy'),
  ...rest,
];
/** A tensor input read before any model work: which model does not matter. */
const tensor = (name: string) => ['--model', mnist.onnx, '--input', at(name), '--raw', at('r.npy')];
const tfjsCopy = (name: string) => join(dir, name, 'model.json');

/** The command line of each row, by the row's first column. */
const CASES: Record<string, () => string[]> = {
  'unknown flag': () => [...good, '--sample', '4'],
  'flag without its value': () => ['--model'],
  'no --model': () => ['--input', digit],
  'no --input': () => ['--model', mnist.onnx],
  'nothing to write': () => image,
  'not a number': () => [...good, '--seed', 'abc'],
  'integer below its minimum': () => [...good, '--steps', '0'],
  'negative target': () => [...good, '--target', '-1'],
  'negative noise': () => [...good, '--noise-scale', '-1'],
  'not one of the choices': () => [...good, '--backend', 'onnx-default'],
  'bad --size': () => [...good, '--size', '1024'],
  'bad --alpha': () => [...good, '--alpha', '2'],
  'both noise flags': () => [...good, '--noise-scale', '1', '--noise-level', '0.1'],
  'both sample flags': () => [...good, '--samples', '4', '--num-samples', '4'],
  'wrong output extension': () => [...image, '--out', at('heatmap.jpg')],
  'unknown method': () => [...good, '--method', 'vargradd'],
  'missing file': () => [...good.slice(0, 2), '--input', at('nope.png'), ...good.slice(4)],
  'directory instead of a file': () => [...good.slice(0, 2), '--input', dir, ...good.slice(4)],
  'model of unknown kind': () => ['--model', join(cliRoot, 'README.md'), ...good.slice(2)],
  'JSON that is not a TF.js model': () => ['--model', mnist.preset, ...good.slice(2)],
  'model folder without model.json': () => ['--model', dir, ...good.slice(2)],
  'image neither PNG nor JPEG': () => [...good.slice(0, 2), '--input', at('text.png'), ...good.slice(4)],
  'damaged image': () => [...good.slice(0, 2), '--input', at('cut.png'), ...good.slice(4)],
  'not a .npy file': () => tensor('text.npy'),
  '.npy version': () => tensor('v9.npy'),
  '.npy header unreadable': () => tensor('header.npy'),
  '.npy dtype': () => tensor('complex.npy'),
  '.npy Fortran order': () => tensor('fortran.npy'),
  '.npy data cut short': () => tensor('short.npy'),
  'preset not JSON': () => [...good, '--preset', at('bad.json')],
  'bad preset value': () => [...good, '--preset', at('channels.json')],
  'preprocessing that does not fit': () => [...good, '--mean', '0.1,0.2'],
  '--overlay of a tensor': () => ['--model', mnist.onnx, '--input', at('digit.npy'), '--overlay', at('o.png')],
  'map that cannot be drawn': () => ['--model', mnist.onnx, '--input', at('five-axes.npy'), '--out', out],
  'backend of another format': () => [...good, '--backend', 'tfjs-cpu'],
  'ONNX flag on a TF.js model': () => ['--model', mnist.tfjsDir, ...good.slice(2), '--external-data', at('x.data')],
  '--precision float16 off WebGPU': () => [...good, '--precision', 'float16'],
  '--precision float16 on a TF.js model': () => ['--model', mnist.tfjsDir, ...good.slice(2), '--precision', 'float16'],
  'unknown --input-name or --output-name': () => small('two-outputs.onnx', '--output-name', 'probs'),
  'several inputs or outputs, none chosen': () => small('two-outputs.onnx'),
  '--external-data for a model without': () => small('two-outputs.onnx', '--output-name', 'logits', '--external-data', at('ext.onnx.data')),
  '--external-data file missing': () => small('alone/ext.onnx', '--external-data', at('nope.data')),
  'input the model does not take': () => ['--model', mnist.onnx, '--input', digit, '--out', out],
  'target outside the classes': () => [...good, '--target', '10'],
  'option the method refuses': () => [...good, '--num-samples', '2000000'],
  'input with NaN or infinity': () => ['--model', mnist.onnx, '--input', at('nan.npy'), '--num-samples', '2', '--raw', at('r.npy')],
  'inspect without one model': () => ['inspect'],
  'inspect --shape of another form': () => ['inspect', mnist.onnx, '--shape', 'input'],
  'inspect --shape or --feed of no input': () => ['inspect', mnist.onnx, '--shape', 'nope=1,2'],
  'inspect --feed or --shape for a TF.js model': () => ['inspect', mnist.tfjs, '--feed', 'sr=16000'],
  '--output-position of another form': () => [...good, '--output-position', '3'],
  // the recogniser's T is 64 / 8 = 8 steps for a line 64 px wide
  '--output-position outside the output': () => [
    '--model',
    paddleRecogniser,
    '--input',
    at('line.npy'),
    '--method',
    'gradient',
    '--output-position',
    '8,:',
    '--raw',
    at('r.npy'),
  ],
  // the TF.js sequence model's output is [B, 12, 4], its T declared
  "--output-position outside a TF.js model's output": () => [
    ...['--model', at('tfjs-sequence'), '--backend', 'tfjs-cpu', '--input', at('steps.npy')],
    ...['--output-position', '12,:', '--raw', at('r.npy')],
  ],
  'bad --feed': () => small('two-inputs.onnx', '--feed', at('x6.npy')),
  '--feed file not .npy': () => small('two-inputs.onnx', '--feed', `b=${at('b.csv')}`),
  '--feed given twice': () => small('two-inputs.onnx', '--feed', `b=${at('x6.npy')}`, '--feed', `b=${at('x6.npy')}`),
  '--feed of no input': () => small('two-inputs.onnx', '--feed', `b=${at('x6.npy')}`, '--feed', `c=${at('x6.npy')}`),
  '--feed of the explained input': () => small('two-inputs.onnx', '--input-name', 'a', '--feed', `a=${at('x6.npy')}`),
  '--feed of every input': () => small('two-inputs.onnx', '--feed', `a=${at('x6.npy')}`, '--feed', `b=${at('x6.npy')}`),
  'several inputs, none chosen or fed': () => small('two-inputs.onnx'),
  'input without a value': () => small('two-inputs.onnx', '--input-name', 'a'),
  '--feed file not a .npy array': () => small('two-inputs.onnx', '--feed', `b=${at('text.npy')}`),
  '--feed of the wrong shape': () => small('two-inputs.onnx', '--feed', `b=${at('x5.npy')}`),
  '--feed of the wrong element type': () => small('two-inputs.onnx', '--feed', `b=${at('ids.npy')}`),
  'token ids for a float input': () => ['--model', mnist.onnx, '--input', at('ids.npy'), '--raw', at('r.npy')],
  'floats for a token-id input': () => small('tokens.onnx'),
  'token ids without an embedding to attribute at': () => ['--model', at('tfjs-tokens'), '--input', at('ids4.npy'), '--raw', at('r.npy')],
  'unknown --layer of Grad-CAM': () => [...good, '--method', 'grad_cam', '--layer', 'nope'],
  'unknown --layer': () => [...good, '--method', 'gradient', '--layer', 'nope'],
  'unknown --layer of a TF.js model': () => ['--model', mnist.tfjsDir, ...good.slice(2), '--method', 'gradient', '--layer', 'nope'],
  'empty --layer': () => [...good, '--layer', ''],
  '--baseline-token without token ids': () => [...good, '--method', 'integrated_gradients', '--baseline-token', '0'],
  '--overlay of token ids': () => ['--model', at('tokens.onnx'), '--input', at('ids4.npy'), '--overlay', at('o.png')],
  '--overlay of a map at --layer': () => [...image, '--layer', '/Relu_output_0', '--overlay', at('o.png')],
  '--out of token ids as a picture': () => ['--model', at('tokens.onnx'), '--input', at('ids4.npy'), '--out', at('tokens.png')],
  'not an ONNX model': () => small('text.onnx'),
  'op the backend cannot differentiate': () => small('hardmax.onnx'),
  'external data not next to the model': () => small('alone/ext.onnx'),
  "external data outside the model's folder": () => small('alone/escape.onnx'),
  'model.json not JSON': () => ['--model', tfjsCopy('cut-json'), ...good.slice(2)],
  'TF.js weight file missing': () => ['--model', tfjsCopy('no-shard'), ...good.slice(2)],
  'TF.js weights cut short': () => ['--model', tfjsCopy('short-shard'), ...good.slice(2)],
};

interface Row {
  readonly failure: string;
  readonly message: string;
  readonly exit: number;
}

/** The rows of the README's failure table (between its markers): failure, message (in backticks), exit code. */
function readmeRows(): Row[] {
  const readme = readFileSync(join(cliRoot, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('<!-- failures -->'), readme.indexOf('<!-- /failures -->'));
  return table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-+\s*\|/.test(line) && !line.startsWith('| Failure'))
    .map((line) => {
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      return { failure: cells[0]!, message: cells[1]!.replace(/^`|`$/g, '').replace(/\\\|/g, '|'), exit: Number(cells[2]) };
    });
}

function makeFixtures(): void {
  writeFileSync(at('text.png'), 'not an image');
  writeFileSync(at('line.npy'), writeNpy(new Float32Array(3 * 48 * 64), [3, 48, 64]));
  writeFileSync(at('steps.npy'), writeNpy(new Float32Array(12 * 3), [12, 3]));
  writeFileSync(at('text.npy'), 'not an array');
  writeFileSync(at('b.csv'), '1,2,3,4,5,6');
  writeFileSync(at('text.onnx'), 'not a model');
  writeFileSync(at('cut.png'), readFileSync(digit).subarray(0, 60));
  writeFileSync(at('bad.json'), '{ "width": 28');
  writeFileSync(at('channels.json'), JSON.stringify({ channels: 2 }));
  const header = (text: string, major = 1) => {
    const bytes = Buffer.alloc(10 + text.length);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(bytes);
    bytes.writeUInt16LE(text.length, 8);
    bytes.write(text, 10, 'latin1');
    return bytes;
  };
  writeFileSync(at('v9.npy'), header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 9));
  writeFileSync(at('header.npy'), header('{}'));
  writeFileSync(at('short.npy'), Buffer.concat([header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"), Buffer.alloc(8)]));
  writeFileSync(at('digit.npy'), writeNpy(new Float32Array(784), [1, 28, 28]));
  writeFileSync(at('five-axes.npy'), writeNpy(new Float32Array(16), [2, 2, 2, 2]));
  writeFileSync(at('nan.npy'), writeNpy(new Float32Array(784).fill(Number.NaN), [1, 28, 28]));
  python(`
import numpy as np
d = ${JSON.stringify(dir)}
np.save(d + '/complex.npy', np.arange(6, dtype='<c8'))
np.save(d + '/ids.npy', np.arange(6, dtype='<i8'))
np.save(d + '/ids4.npy', np.arange(4, dtype='<i8'))
np.save(d + '/x5.npy', np.linspace(-1, 1, 5).astype('<f4'))
np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype='<f4')))
`);
  makeSmallOnnxModels(dir);
  // Copies of the bundled TF.js model, each broken one way.
  const json = readFileSync(mnist.tfjs, 'utf8');
  const shard = readFileSync(join(mnist.tfjsDir, 'group1-shard1of1.bin'));
  for (const name of ['cut-json', 'no-shard', 'short-shard']) mkdirSync(at(name));
  writeFileSync(tfjsCopy('cut-json'), json.slice(0, json.length / 2));
  writeFileSync(tfjsCopy('no-shard'), json);
  writeFileSync(tfjsCopy('short-shard'), json);
  writeFileSync(join(dir, 'short-shard', 'group1-shard1of1.bin'), shard.subarray(0, shard.length / 2));
}

beforeAll(async () => {
  makeFixtures();
  await makeTfjsTokensModel(at('tfjs-tokens'));
  await makeTfjsSequenceModel(at('tfjs-sequence'));
});

describe('the failure table of the README', () => {
  const rows = readmeRows();

  it('has a row for every case and a case for every row', () => {
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.map((r) => r.failure).sort()).toEqual(Object.keys(CASES).sort());
    for (const row of rows) expect([row.failure, row.exit]).toEqual([row.failure, row.exit === 3 ? 3 : 2]);
  });

  it.each(rows.map((row) => [row.failure, row] as const))('%s', (_, row) => {
    const { status, stderr, stdout } = saliency(CASES[row.failure]!());
    expect(stdout).toBe('');
    // one line, "saliency: " and the message, never a stack trace
    expect(stderr).toMatch(/^saliency: [^\n]*\n$/);
    expect(stderr).toContain(row.message);
    expect(status).toBe(row.exit);
  });
});
