// Makes the PyTorch-exported test models when they are missing (they are too
// big to commit; the small reference outputs are committed). Needs Debian's
// python3-torch, python3-torchvision and python3-onnx: see ../../scripts/setup-system.sh.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = `${root}test/fixtures/models/manifest.json`;
// One model per committed reference file.
const names = readdirSync(`${root}test/fixtures/reference`)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const present = existsSync(manifest) && names.every((name) => existsSync(`${root}test/fixtures/models/${name}.onnx`));
// The shipped-form models (make-shipped-fixtures.py): the files each committed reference names.
const shipped = `${root}test/fixtures/shipped/`;
const shippedPresent = readdirSync(shipped)
  .filter((f) => f.endsWith('.json'))
  .every((f) => JSON.parse(readFileSync(`${shipped}${f}`, 'utf8')).models.every((m) => existsSync(`${shipped}models/${m}`)));
// The outputPosition models (make-output-position-fixtures.py): the file each committed reference names.
const positions = `${root}test/fixtures/output-position/`;
const positionsPresent = readdirSync(positions)
  .filter((f) => f.endsWith('.json'))
  .every((f) => existsSync(`${positions}models/${JSON.parse(readFileSync(`${positions}${f}`, 'utf8')).model}`));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// --models-only: the references are committed, so only the model files are
// made (checked against the committed logits), not the minutes-long analyses
// that chose the committed draws.
for (const [ready, script, what, args = []] of [
  [present, 'make-fixtures.py', 'the PyTorch test models', ['--models-only']],
  [
    shippedPresent,
    'make-shipped-fixtures.py',
    'the shipped-form test models (float16, int8, fixed batch, U-Net, LSTM, GRU)',
    ['--models-only'],
  ],
  [positionsPresent, 'make-output-position-fixtures.py', 'the outputPosition test models (a sequence, a dense map)', ['--models-only']],
]) {
  if (ready) continue;
  console.log(`making ${what} (scripts/${script}) ...`);
  const run = spawnSync(python, [`${root}scripts/${script}`, ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(
      'Could not make the test models: they need PyTorch. On Debian run `bash scripts/setup-system.sh` ' +
        '(apt-get install python3-torch python3-torchvision python3-onnx) from the repository root, then retry.',
    );
    process.exit(1);
  }
}
