#!/usr/bin/python3
"""Exports the benchmark's models to ONNX, for a machine that only benchmarks.

The test fixtures (packages/backend-onnx/scripts/make-fixtures.py) export the
same networks, but also search float32-stable draws and compute float64
references: minutes of work a GPU machine does not need, and tied to the
PyTorch release that made the committed references. This writes only the
ONNX files the benchmark loads, from the same models (vargrad_torch.py's
fixture_model: same code, seeds and BatchNorm calibration), exported by
python/saliency_reference's export_onnx (opset 17, TorchScript exporter), as
make-fixtures.py does.

Usage: python3 export_models.py OUT_DIR MODEL [MODEL ...]   (skips files already there)
"""
import os
import sys

import torch

# The shared reference tooling: python/saliency_reference at the repository root.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'python'))

from saliency_reference.export import export_onnx  # noqa: E402
from vargrad_torch import SHAPES, example, fixture_model  # noqa: E402


def main(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        if name not in SHAPES:
            sys.exit('unknown model "%s"; one of %s' % (name, ', '.join(SHAPES)))
        path = os.path.join(out_dir, name + '.onnx')
        if os.path.exists(path):
            continue
        export_onnx(fixture_model(name), example(SHAPES[name], 'cpu'), path)
        print('exported %s (%.1f MB) with PyTorch %s' % (path, os.path.getsize(path) / 1e6, torch.__version__))


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
