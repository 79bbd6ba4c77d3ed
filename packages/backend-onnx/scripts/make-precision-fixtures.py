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
- int8 models hand-built with the onnx helper from the same CNN's float
  weights (PyTorch 1.13's quantized export cannot write these forms):
  cnn_int8_weights.onnx (weight-only: DequantizeLinear on int8 constants),
  cnn_int8_qdq.onnx (QuantizeLinear -> DequantizeLinear on the activations
  too), cnn_int8_qlinear.onnx (QLinearConv, MaxPool on uint8, QLinearMatMul)
  and cnn_int8_dynamic.onnx (DynamicQuantizeLinear + ConvInteger and
  MatMulInteger). Weights per-channel symmetric int8 (uint8 with zero point
  128 for ConvInteger, the form ONNX Runtime runs), activation ranges
  calibrated on the fixture batch. Reference (cnn_int8_<form>.json): float64
  on the dequantized model, the function the backend differentiates: weights
  (q - zero point) * scale, activation quantization without its rounding but
  with its saturation (a clip to the representable range), dynamic
  quantization the identity.

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


def symmetric_int8(w, axis=0):
    """Per-channel symmetric int8 along axis 0: (q, scales)."""
    flat = w.reshape(w.shape[0], -1)
    scales = np.abs(flat).max(axis=1) / 127.0
    q = np.clip(np.round(w / scales.reshape([-1] + [1] * (w.ndim - 1))), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


def dequantized(q, scales, zero=0):
    return (q.astype(np.float64) - zero) * np.asarray(scales, np.float64).reshape([-1] + [1] * (q.ndim - 1))


def uint8_range(values, cover=0.9):
    """Asymmetric uint8 scale and zero point covering 0 and `cover` of the values' range: the
    largest values saturate, as where a calibration set's range is narrower than the data's,
    so that the rewritten model's clips are exercised."""
    lo, hi = min(float(values.min()) * cover, 0.0), max(float(values.max()) * cover, 0.0)
    scale = (hi - lo) / 255.0
    return np.float32(scale), np.uint8(round(-lo / scale))


def clip_range(scale, zero, lo=0, hi=255):
    return (lo - float(zero)) * float(scale), (hi - float(zero)) * float(scale)


class Int8Builder:
    """Nodes and initializers of a hand-built quantized graph."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, value, dtype=None):
        array = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f'{op}_{len(self.nodes)}', **attrs))
        return outputs[0]

    def model(self, name, batch_shape):
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch'] + batch_shape[1:])],
            [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 5])],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='make-precision-fixtures')
        model.ir_version = 7
        onnx.checker.check_model(model)
        return model


def make_int8():
    torch.manual_seed(SEED + 100)
    net = SmallCnn().double().eval()
    w = {k: v.numpy().astype(np.float32) for k, v in net.state_dict().items()}
    g = torch.Generator().manual_seed(SEED + 101)
    x32 = torch.rand([BATCH] + SHAPE, generator=g).mul(2).sub(1)
    x = x32.double()
    F = torch.nn.functional
    q1, s1 = symmetric_int8(w['c1.weight'])
    q2, s2 = symmetric_int8(w['c2.weight'])
    qf, sf = symmetric_int8(w['fc.weight'])
    d1, d2, df = (torch.from_numpy(dequantized(q, s)) for q, s in ((q1, s1), (q2, s2), (qf, sf)))
    b1, b2, bf = (torch.from_numpy(w[k]).double() for k in ('c1.bias', 'c2.bias', 'fc.bias'))
    # Activation ranges from the dequantized float model on the fixture batch.
    with torch.no_grad():
        a1 = torch.relu(F.conv2d(x, d1, b1, padding=1))
        a2 = torch.relu(F.conv2d(F.max_pool2d(a1, 2), d2, b2, padding=1))
        a3 = a2.mean(dim=(2, 3))
        a4 = F.linear(a3, df)
    sx, zx = uint8_range(x.numpy())
    sa1, za1 = uint8_range(a1.numpy())
    sa2, za2 = uint8_range(a2.numpy())
    sa3, za3 = uint8_range(a3.numpy())
    sa4, za4 = uint8_range(a4.numpy())
    clip = lambda t, s, z: t.clamp(*clip_range(s, z))
    conv1 = lambda t: F.conv2d(t, d1, b1, padding=1)
    conv2 = lambda t: F.conv2d(t, d2, b2, padding=1)
    fc = lambda t: F.linear(t, df, bf)

    forms = {}
    # Weight-only: DequantizeLinear on int8 constants.
    b = Int8Builder()
    deq = lambda name, q, s: b.node('DequantizeLinear', [b.const(name + '_q', q), b.const(name + '_scale', s), b.const(name + '_zero', np.zeros(len(s), np.int8))], [name], axis=0)
    h = b.node('Conv', ['input', deq('w1', q1, s1), b.const('b1', w['c1.bias'])], ['c1'], pads=[1, 1, 1, 1])
    h = b.node('Relu', [h], ['r1'])
    h = b.node('MaxPool', [h], ['p1'], kernel_shape=[2, 2], strides=[2, 2])
    h = b.node('Conv', [h, deq('w2', q2, s2), b.const('b2', w['c2.bias'])], ['c2'], pads=[1, 1, 1, 1])
    h = b.node('Relu', [h], ['r2'])
    h = b.node('ReduceMean', [h], ['m'], axes=[2, 3], keepdims=0)
    b.node('Gemm', [h, deq('wf', qf, sf), b.const('bf', w['fc.bias'])], ['logits'], transB=1)
    forms['weights'] = (b, lambda t: fc(torch.relu(conv2(F.max_pool2d(torch.relu(conv1(t)), 2))).mean(dim=(2, 3))))

    # QDQ: the same, with QuantizeLinear -> DequantizeLinear on the activations.
    b = Int8Builder()
    deq = lambda name, q, s: b.node('DequantizeLinear', [b.const(name + '_q', q), b.const(name + '_scale', s), b.const(name + '_zero', np.zeros(len(s), np.int8))], [name], axis=0)
    def qdq(t, name, s, z):
        scale, zero = b.const(name + '_scale', s), b.const(name + '_zero', z)
        return b.node('DequantizeLinear', [b.node('QuantizeLinear', [t, scale, zero], [name + '_q']), scale, zero], [name + '_dq'])
    # Biases as ONNX Runtime's QDQ quantizer writes them: int32 in units of input scale x weight scale.
    def bias(name, value, scales):
        q = np.round(value / scales).astype(np.int32)
        deq = b.node('DequantizeLinear', [b.const(name + '_q', q), b.const(name + '_scale', scales.astype(np.float32)), b.const(name + '_zero', np.zeros(len(q), np.int32))], [name], axis=0)
        return deq, torch.from_numpy(q.astype(np.float64) * scales.astype(np.float32).astype(np.float64))
    qb1, db1 = bias('b1', w['c1.bias'], sx * s1)
    qb2, db2 = bias('b2', w['c2.bias'], sa1 * s2)
    h = qdq('input', 'x', sx, zx)
    h = b.node('Conv', [h, deq('w1', q1, s1), qb1], ['c1'], pads=[1, 1, 1, 1])
    h = qdq(b.node('Relu', [h], ['r1']), 'a1', sa1, za1)
    h = b.node('MaxPool', [h], ['p1'], kernel_shape=[2, 2], strides=[2, 2])
    h = b.node('Conv', [h, deq('w2', q2, s2), qb2], ['c2'], pads=[1, 1, 1, 1])
    h = qdq(b.node('Relu', [h], ['r2']), 'a2', sa2, za2)
    h = qdq(b.node('ReduceMean', [h], ['m'], axes=[2, 3], keepdims=0), 'a3', sa3, za3)
    b.node('Gemm', [h, deq('wf', qf, sf), b.const('bf', w['fc.bias'])], ['logits'], transB=1)
    qconv1 = lambda t: F.conv2d(t, d1, db1, padding=1)
    qconv2 = lambda t: F.conv2d(t, d2, db2, padding=1)
    forms['qdq'] = (b, lambda t: fc(clip(clip(torch.relu(qconv2(F.max_pool2d(clip(torch.relu(qconv1(clip(t, sx, zx))), sa1, za1), 2))), sa2, za2).mean(dim=(2, 3)), sa3, za3)))

    # QOperator: QLinearConv (its ReLU in the output range, zero point 0), MaxPool on uint8, QLinearMatMul.
    b = Int8Builder()
    h = b.node('QuantizeLinear', ['input', b.const('x_scale', sx), b.const('x_zero', zx)], ['x_q'])
    bias1 = np.round(w['c1.bias'] / (sx * s1)).astype(np.int32)
    h = b.node('QLinearConv', [h, 'x_scale', 'x_zero', b.const('w1_q', q1), b.const('w1_scale', s1), b.const('w1_zero', np.zeros(len(s1), np.int8)),
                               b.const('a1_scale', sa1), b.const('a1_zero', np.uint8(0)), b.const('b1_q', bias1)], ['a1_q'], pads=[1, 1, 1, 1])
    h = b.node('MaxPool', [h], ['p1_q'], kernel_shape=[2, 2], strides=[2, 2])
    bias2 = np.round(w['c2.bias'] / (sa1 * s2)).astype(np.int32)
    h = b.node('QLinearConv', [h, 'a1_scale', 'a1_zero', b.const('w2_q', q2), b.const('w2_scale', s2), b.const('w2_zero', np.zeros(len(s2), np.int8)),
                               b.const('a2_scale', sa2), b.const('a2_zero', np.uint8(0)), b.const('b2_q', bias2)], ['a2_q'], pads=[1, 1, 1, 1])
    h = b.node('DequantizeLinear', [h, 'a2_scale', 'a2_zero'], ['a2'])
    h = b.node('ReduceMean', [h], ['m'], axes=[2, 3], keepdims=0)
    h = b.node('QuantizeLinear', [h, b.const('a3_scale', sa3), b.const('a3_zero', za3)], ['a3_q'])
    qf_t, sf_t = symmetric_int8(w['fc.weight'].T.copy().reshape(1, -1))  # one scale: QLinearMatMul's b scale per tensor
    qf_t = qf_t.reshape(16, 5)
    h = b.node('QLinearMatMul', [h, 'a3_scale', 'a3_zero', b.const('wf_q', qf_t), b.const('wf_scale', np.float32(sf_t[0])), b.const('wf_zero', np.int8(0)),
                                 b.const('a4_scale', sa4), b.const('a4_zero', za4)], ['a4_q'])
    h = b.node('DequantizeLinear', [h, 'a4_scale', 'a4_zero'], ['a4'])
    b.node('Add', [h, b.const('bf', w['fc.bias'])], ['logits'])
    dft = torch.from_numpy(qf_t.astype(np.float64) * float(sf_t[0]))
    cb1 = torch.from_numpy(bias1.astype(np.float64) * float(sx) * s1.astype(np.float64))
    cb2 = torch.from_numpy(bias2.astype(np.float64) * float(sa1) * s2.astype(np.float64))
    forms['qlinear'] = (b, lambda t: clip(clip(F.conv2d(F.max_pool2d(clip(F.conv2d(clip(t, sx, zx), d1, cb1, padding=1), sa1, 0), 2), d2, cb2, padding=1), sa2, 0).mean(dim=(2, 3)), sa3, za3) @ dft)
    forms['qlinear'] = (b, (lambda inner: lambda t: clip(inner(t), sa4, za4) + bf)(forms['qlinear'][1]))

    # Dynamic: DynamicQuantizeLinear + ConvInteger (uint8 weights, zero point 128) and MatMulInteger (int8 weights).
    b = Int8Builder()
    s1u = np.float32(np.abs(w['c1.weight']).max() / 127.0)
    q1u = np.clip(np.round(w['c1.weight'] / s1u) + 128, 0, 255).astype(np.uint8)
    h, hs, hz = 'xq', 'xq_scale', 'xq_zero'
    b.node('DynamicQuantizeLinear', ['input'], [h, hs, hz])
    h = b.node('ConvInteger', [h, b.const('w1_u', q1u), hz, b.const('w1_zero', np.uint8(128))], ['c1_i'], pads=[1, 1, 1, 1])
    h = b.node('Cast', [h], ['c1_f'], to=TensorProto.FLOAT)
    h = b.node('Mul', [h, b.node('Mul', [hs, b.const('w1_scale', s1u)], ['c1_scale'])], ['c1_s'])
    h = b.node('Add', [h, b.const('b1', w['c1.bias'].reshape(1, 8, 1, 1))], ['c1'])
    h = b.node('Relu', [h], ['r1'])
    h = b.node('ReduceMean', [h], ['m'], axes=[2, 3], keepdims=0)
    b.node('DynamicQuantizeLinear', [h], ['mq', 'mq_scale', 'mq_zero'])
    qd, sd = symmetric_int8(w['fc.weight'].T.copy().reshape(1, -1))
    # This model's fc reads the 8 channels of c1: the first 8 input features of the CNN's fc.
    qd = qd.reshape(16, 5)[:8]
    h = b.node('MatMulInteger', ['mq', b.const('wf_q', qd), 'mq_zero', b.const('wf_zero', np.int8(0))], ['f_i'])
    h = b.node('Cast', [h], ['f_f'], to=TensorProto.FLOAT)
    h = b.node('Mul', [h, b.node('Mul', ['mq_scale', b.const('wf_scale', np.float32(sd[0]))], ['f_scale'])], ['f_s'])
    b.node('Add', [h, b.const('bf', w['fc.bias'])], ['logits'])
    d1u = torch.from_numpy((q1u.astype(np.float64) - 128) * float(s1u))
    dqd = torch.from_numpy(qd.astype(np.float64) * float(sd[0]))
    forms['dynamic'] = (b, lambda t: torch.relu(F.conv2d(t, d1u, b1, padding=1)).mean(dim=(2, 3)) @ dqd + bf)

    for form, (builder, function) in forms.items():
        name = f'cnn_int8_{form}'
        onnx.save(builder.model(name, [BATCH] + SHAPE), os.path.join(OUT, name + '.onnx'))
        with torch.no_grad():
            targets = function(x).argmin(dim=1)
        logits, gradient = reference(function, x, targets)
        write(name + '.json', {
            'models': [name + '.onnx'],
            'reference': 'PyTorch autograd in float64 on the dequantized model',
            'inputShape': list(x32.shape), 'input': x32.flatten().tolist(), 'targets': targets.tolist(),
            'logits': logits.flatten().tolist(), 'gradient': gradient.flatten().tolist(),
        })


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    make_float16()
    make_int8()
    print('wrote', sorted(os.listdir(OUT)))
