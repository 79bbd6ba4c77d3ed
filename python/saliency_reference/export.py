"""ONNX export as every fixture is exported, and a summary of an exported file."""

import hashlib
import inspect
import os

import onnx
import torch

OPSET = 17


def onnx_summary(path):
    model = onnx.load(path)
    onnx.checker.check_model(model)
    counts = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {
        'file': os.path.basename(path),
        'bytes': os.path.getsize(path),
        'sha256': digest,
        'opset': opset,
        'irVersion': model.ir_version,
        'nodes': len(model.graph.node),
        'opTypes': sorted(counts),
        'opCounts': dict(sorted(counts.items())),
    }


def export_onnx(model, x32, path):
    """The float32 model to ONNX as every fixture is: opset OPSET, input
    "input", output "logits", a dynamic batch axis, constant folding on, and
    the TorchScript exporter (PyTorch 2.9 and later default to the dynamo
    exporter, whose graphs differ; 1.13 has only this one)."""
    options = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(
        model, (x32,), path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **options,
    )
