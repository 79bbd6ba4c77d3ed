// Makes the PyTorch-exported test models when they are missing (they are too
// big to commit; the small reference outputs are committed). Needs Debian's
// python3-torch, python3-torchvision and python3-onnx: see ../../scripts/setup-system.sh.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = `${root}test/fixtures/models/manifest.json`;
// One model per committed reference file.
const names = readdirSync(`${root}test/fixtures/reference`)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const present = existsSync(manifest) && names.every((name) => existsSync(`${root}test/fixtures/models/${name}.onnx`));
if (!present) {
  console.log('making the PyTorch test models (scripts/make-fixtures.py) ...');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const run = spawnSync(python, [`${root}scripts/make-fixtures.py`], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(
      'Could not make the test models: they need PyTorch. On Debian run `bash scripts/setup-system.sh` ' +
        '(apt-get install python3-torch python3-torchvision python3-onnx) from the repository root, then retry.',
    );
    process.exit(1);
  }
}
