"""The library's noise in Python: @saliency/core's fillStandardNormal
(Philox4x32-10 + Box-Muller), run in Node, so that a reference's noisy rows
are the ones the library forms (docs/methods.md)."""

import os
import subprocess
import sys

import numpy as np

NOISE_JS = r"""
import { fillStandardNormal } from '@saliency/core';
const [seed, batch, samples, size] = process.argv.slice(1).map(Number);
const out = new Float32Array(batch * samples * size);
for (let b = 0; b < batch; b++)
  for (let i = 0; i < samples; i++)
    fillStandardNormal(out.subarray((b * samples + i) * size, (b * samples + i + 1) * size), seed, b, i);
process.stdout.write(Buffer.from(out.buffer));
"""


def standard_normal(seed, batch, samples, example_shape):
    """float32 numpy [batch, samples, *example_shape]: z(seed, b, i, .) from
    @saliency/core's fillStandardNormal. Needs Node and a built packages/core
    (dist), resolved from the repository's node_modules."""
    size = int(np.prod(example_shape))
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
    run = subprocess.run(['node', '--input-type=module', '-e', NOISE_JS, '--', str(seed), str(batch), str(samples), str(size)],
                         cwd=root, capture_output=True, check=False)
    if run.returncode != 0:
        sys.exit('could not run @saliency/core fillStandardNormal in Node (is packages/core built?):\n' + run.stderr.decode())
    return np.frombuffer(run.stdout, dtype='<f4').reshape([batch, samples] + list(example_shape))
