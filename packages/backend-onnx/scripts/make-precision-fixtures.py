#!/usr/bin/env python3
"""Fixtures for models shipped in reduced precision: float16 and int8.

Writes, under test/fixtures/precision/, small ONNX models and for each a
reference JSON of logits and input gradients computed with PyTorch autograd
in float64:

- cnn_fp16.onnx: a small CNN with float16 weights and float16 compute,
  float16 input and output; cnn_fp16_io32.onnx: the same with float32 input
  and output and Casts to and from float16 inside (as converters write them
  when asked to keep the I/O types). Reference (cnn_fp16.json): float64 on
  the float16-rounded weights.

PyTorch 1.13 cannot run a float16 convolution on the CPU ("slow_conv2d_cpu
not implemented for 'Half'"), so model.half() cannot be traced there: the
model's weights are rounded to float16 in PyTorch (model.half().float()),
it is exported in float32, and the ONNX graph is converted to float16 with
the onnx helper, as converters of exported models do (every float32
initializer, Constant and value type to float16).

Run with Debian's interpreter: /usr/bin/python3 scripts/make-precision-fixtures.py
"""
import io
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'precision')
OPSET = 13
SEED = 1201
BATCH = 2
SHAPE = [3, 16, 16]
# Smallest |pre-activation| (ReLU input, MaxPool margin) accepted for a draw:
# far above float32 rounding, so no kink decision flips between the float32
# runtimes and the float64 reference.
MARGIN = 2e-5


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.c2(self.pool(torch.relu(self.c1(x))))).mean(dim=(2, 3)))

    def margins(self, x):
        """Smallest distance of any ReLU input from 0 and of any max-pool window's two largest values."""
        a = self.c1(x)
        r = torch.relu(a)
        windows = r.unfold(2, 2, 2).unfold(3, 2, 2).reshape(*r.shape[:2], r.shape[2] // 2, r.shape[3] // 2, 4)
        top = windows.topk(2, dim=-1).values
        gap = (top[..., 0] - top[..., 1])[top[..., 0] > 0]
        b = self.c2(self.pool(r))
        return min(a.abs().min().item(), b.abs().min().item(), gap.min().item() if gap.numel() else 1.0)


def export(model, x):
    f = io.BytesIO()
    torch.onnx.export(model, (x,), f, opset_version=OPSET, do_constant_folding=True,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    return onnx.load_from_string(f.getvalue())


def to_float16(model, keep_io_float32):
    """Every float32 initializer, Constant and value type of the graph to float16; with
    keep_io_float32, float32 input and output with Casts to and from float16 inside."""
    graph = model.graph
    for i, tensor in enumerate(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT:
            graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), tensor.name))
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attribute.t).astype(np.float16)))
    for value in list(graph.value_info) + list(graph.input) + list(graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    if keep_io_float32:
        for node in graph.node:
            node.input[:] = ['input_fp16' if n == 'input' else n for n in node.input]
            node.output[:] = ['logits_fp16' if n == 'logits' else n for n in node.output]
        graph.node.insert(0, helper.make_node('Cast', ['input'], ['input_fp16'], to=TensorProto.FLOAT16, name='cast_input'))
        graph.node.append(helper.make_node('Cast', ['logits_fp16'], ['logits'], to=TensorProto.FLOAT, name='cast_logits'))
        graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT
        graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT
    onnx.checker.check_model(model)
    return model


def reference(model64, x64, targets):
    x = x64.clone().requires_grad_(True)
    logits = model64(x)
    logits.gather(1, targets[:, None]).sum().backward()
    return logits.detach(), x.grad


def write(name, payload):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(payload, f)
        f.write('\n')


def save(model, name):
    onnx.save(model, os.path.join(OUT, name))


def make_float16():
    torch.manual_seed(SEED)
    model = SmallCnn().eval()
    with torch.no_grad():
        model.half().float()  # weights rounded to float16, kept as float32 for the export
    model64 = SmallCnn().double().eval()
    model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    for draw in range(100):
        g = torch.Generator().manual_seed(SEED + 1 + draw)
        # float16-representable inputs: the float16-input model sees the same values.
        x32 = torch.rand([BATCH] + SHAPE, generator=g).mul(2).sub(1).half().float()
        with torch.no_grad():
            if model64.margins(x32.double()) > MARGIN:
                break
    else:
        sys.exit('no draw with every decision away from its kink')
    x64 = x32.double()
    with torch.no_grad():
        targets = model64(x64).argmin(dim=1)  # the least likely class: a gradient not dominated by one path
    logits, gradient = reference(model64, x64, targets)
    save(to_float16(export(model, x32), keep_io_float32=False), 'cnn_fp16.onnx')
    save(to_float16(export(model, x32), keep_io_float32=True), 'cnn_fp16_io32.onnx')
    write('cnn_fp16.json', {
        'models': ['cnn_fp16.onnx', 'cnn_fp16_io32.onnx'],
        'reference': 'PyTorch autograd in float64 on the float16-rounded weights',
        'inputShape': list(x32.shape), 'input': x32.flatten().tolist(), 'targets': targets.tolist(),
        'logits': logits.flatten().tolist(), 'gradient': gradient.flatten().tolist(),
    })


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    make_float16()
    print('wrote', sorted(os.listdir(OUT)))
