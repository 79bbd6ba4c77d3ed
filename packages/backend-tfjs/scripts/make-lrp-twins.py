#!/usr/bin/python3
"""The weights of the TF.js twins of the LRP fixture nets.

packages/backend-onnx/scripts/make-lrp-references.py makes four small seeded
PyTorch nets (VGG-style, ResNet-style with BatchNorm and a residual Add,
MobileNet-style depthwise, no biases, MobileNetV2-style with ReLU6), exports them to ONNX and computes their
LRP maps in float64. The TF.js tests rebuild the same nets in tfjs-layers,
channels last (test/helpers/lrp-twins.ts), and load the weights this script
reads from those ONNX files, in the layers' order and TF.js's layouts:

  Conv [O, I, kh, kw]         -> Conv2D kernel [kh, kw, I, O]
  Conv, group = channels      -> DepthwiseConv2D kernel [kh, kw, C, 1]
  Gemm (transB = 1) [out, in] -> Dense kernel [in, out]; MatMul [in, out] as it is
  BatchNormalization          -> gamma, beta, moving mean and variance, epsilon

A Dense layer that reads a Flatten of a [C, H, W] map gets its rows reordered
from PyTorch's (c, h, w) order to TF.js's (h, w, c), so that the twin computes
the same function. BatchNormalization stays a layer of its own: the backend's
folding is what is tested.

    /usr/bin/python3 packages/backend-tfjs/scripts/make-lrp-twins.py

Needs Debian's python3-onnx and numpy; writes test/fixtures/lrp/<name>.weights.json.
"""

import json
import os

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, '..', '..', 'backend-onnx', 'test', 'fixtures', 'lrp')
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'lrp')
NAMES = ['vgg', 'resnet', 'mobilenet', 'nobias', 'mobilenetv2']


def values(array):
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


def attribute(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def twin(name):
    model = shape_inference.infer_shapes(onnx.load(os.path.join(SOURCE, name + '.onnx')))
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in model.graph.value_info}
    flattened = {}  # Flatten output -> the [C, H, W] it flattens
    layers = []
    for node in model.graph.node:
        op = node.op_type
        if op == 'Flatten':
            flattened[node.output[0]] = shapes[node.input[0]][1:]
        elif op == 'Conv':
            w = weights[node.input[1]]
            depthwise = attribute(node, 'group', 1) == w.shape[0] and w.shape[1] == 1 and w.shape[0] > 1
            kernel = w.transpose(2, 3, 0, 1) if depthwise else w.transpose(2, 3, 1, 0)
            layer = {'kind': 'depthwise' if depthwise else 'conv', 'kernel': values(kernel), 'kernelShape': list(kernel.shape)}
            if len(node.input) > 2:
                layer['bias'] = values(weights[node.input[2]])
            layers.append(layer)
        elif op in ('Gemm', 'MatMul'):
            w = weights[node.input[1]]
            kernel = w.T if op == 'Gemm' and attribute(node, 'transB', 0) else w
            if node.input[0] in flattened:
                c, h, wd = flattened[node.input[0]]
                kernel = kernel.reshape(c, h, wd, -1).transpose(1, 2, 0, 3).reshape(c * h * wd, -1)
            layer = {'kind': 'dense', 'kernel': values(kernel), 'kernelShape': list(kernel.shape)}
            if len(node.input) > 2:
                layer['bias'] = values(weights[node.input[2]] * attribute(node, 'beta', 1.0))
            layers.append(layer)
        elif op == 'BatchNormalization':
            scale, shift, mean, variance = (values(weights[n]) for n in node.input[1:5])
            layers.append({'kind': 'batchnorm', 'gamma': scale, 'beta': shift, 'mean': mean, 'variance': variance,
                           'epsilon': float(attribute(node, 'epsilon', 1e-5))})
    with open(os.path.join(OUT, name + '.weights.json'), 'w') as f:
        json.dump({'model': name, 'source': 'packages/backend-onnx/test/fixtures/lrp/%s.onnx' % name, 'layers': layers}, f,
                  separators=(',', ':'))
        f.write('\n')
    print('%s: %d layers' % (name, len(layers)))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in NAMES:
        twin(name)


if __name__ == '__main__':
    main()
