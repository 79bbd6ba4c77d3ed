#!/usr/bin/python3
"""Exports the benchmark's models to ONNX, for a machine that only benchmarks.

The test fixtures (packages/backend-onnx/scripts/make-fixtures.py) export the
same networks, but also search float32-stable draws and compute float64
references: minutes of work a GPU machine does not need, and tied to the
PyTorch release that made the committed references. This writes only the
ONNX files the benchmark loads, from the same models (vargrad_torch.py's
fixture_model: same code, seeds and BatchNorm calibration), opset 17,
TorchScript exporter (newer PyTorch releases default to the dynamo exporter,
whose graphs differ).

Usage: python3 export_models.py OUT_DIR MODEL [MODEL ...]   (skips files already there)
"""
import inspect
import os
import sys

import torch

from vargrad_torch import SHAPES, example, fixture_model

OPSET = 17


def export(name, path):
    model = fixture_model(name)
    options = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(
        model, (example(SHAPES[name], 'cpu'),), path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **options)


def main(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        if name not in SHAPES:
            sys.exit('unknown model "%s"; one of %s' % (name, ', '.join(SHAPES)))
        path = os.path.join(out_dir, name + '.onnx')
        if os.path.exists(path):
            continue
        export(name, path)
        print('exported %s (%.1f MB) with PyTorch %s' % (path, os.path.getsize(path) / 1e6, torch.__version__))


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
