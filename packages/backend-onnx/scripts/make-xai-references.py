#!/usr/bin/python3
"""References for Guided Backprop, DeconvNet and Grad-CAM, computed by PyTorch
on its own terms, independently of the ONNX backend's graph rewrites.

What it makes (paths relative to packages/backend-onnx/test/fixtures/xai/)
--------------------------------------------------------------------------
  <name>.json   for the parity fixture models mlp, cnn_bn, resnet_block,
                image_model and cnn1d (apps/parity/fixtures/models/<name>.onnx,
                which the tests load): the same PyTorch modules with the same
                weights (seeded exactly as make-parity-fixtures.py seeds them),
                a batch of 2 standard-normal inputs, the targets (argmax of the
                logits) and, in float64:
                  guided_backprop: the input gradient with a full backward hook
                    on every nn.ReLU replacing its input cotangent by
                    clamp(grad_input, min=0), i.e. [x > 0] * max(grad_out, 0);
                  deconvnet: the same with clamp(grad_output, min=0);
                  grad_cam (image models) / grad_cam_timeseries (cnn1d): with
                    forward and full backward hooks on the module whose output
                    is the last feature map before global pooling or flattening
                    (LAYER below), w_c = mean of the gradient over positions,
                    cam = relu(sum_c w_c A_c), then F.interpolate(bilinear /
                    linear, align_corners=False) to the input's positions;
                    also the layer's shape and the map at the layer's
                    resolution (layer_cam);
                  grad_cam_plus_plus (image models): the same layer with
                    Grad-CAM++'s weights (see grad_cam below);
                  named_layer_cam (cnn_bn, cnn1d): Grad-CAM at the first max
                    pool, whose ONNX tensor is named in named_layer.
  region.onnx, region.json
                a hand-made model whose class 0 fires only on a bright patch:
                conv 3x3 (a blob detector, and a detector of dark values), ReLU,
                2x2 max pool, global average pool, identity Linear; and an
                image holding the patch at rows 2-5, columns 9-12.

Float32 stability: a ReLU or max-pool decision within float32 rounding of its
kink would make the float32 ONNX run legitimately differ from the float64
reference, so each batch is redrawn (from the next seed) until PyTorch's own
float32 maps of every method are within STABILITY_TOLERANCE of the float64
ones (relative to the largest magnitude).

How to run
----------
    /usr/bin/python3 packages/backend-onnx/scripts/make-xai-references.py

Needs Debian's python3-torch (1.13 tested), python3-onnx and numpy. A few
seconds on 2 CPU cores.
"""

import copy
import importlib.util
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'xai')

_spec = importlib.util.spec_from_file_location(
    'parity', os.path.join(REPO, 'apps', 'parity', 'fixtures', 'make-parity-fixtures.py'))
parity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parity)
shared = parity.shared
from saliency_reference.export import export_onnx  # noqa: E402  (on the path the parity script set)

BATCH = 2
STABILITY_TOLERANCE = 2e-6
MAX_DRAWS = 50
# The module whose output is the Grad-CAM layer, by index in the Sequential;
# None: no spatial layer (the MLP has no Grad-CAM reference).
LAYER = {'mlp': None, 'cnn_bn': 7, 'resnet_block': 4, 'image_model': 20, 'cnn1d': 5}
# A layer named explicitly: the first max pool, module 3 in both models, whose
# ONNX tensor is the output of the graph's first MaxPool node.
NAMED_LAYER = {'cnn_bn': 3, 'cnn1d': 3}


def parity_model(name):
    """The parity fixture's module with its weights: make-parity-fixtures.py's
    make() seeds SEED + 1000 * index, builds, then calibrates BatchNorm."""
    index = list(parity.MODELS).index(name)
    make_model, example_shape, _ = parity.MODELS[name]
    seed = parity.SEED + 1000 * index
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model = make_model()
    shared.calibrate_batchnorm(model, example_shape, generator)
    return model.eval(), example_shape, seed


def relu_hooked_gradient(model, x, targets, replace):
    """The input 'gradient' of the target logits with every nn.ReLU's input
    cotangent replaced by replace(grad_input, grad_output)."""
    handles = [m.register_full_backward_hook(lambda m, gi, go: (replace(gi[0], go[0]),))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        x = x.clone().requires_grad_(True)
        out = model(x)
        out.gather(1, targets[:, None]).sum().backward()
        return x.grad.detach()
    finally:
        for h in handles:
            h.remove()


def guided_backprop(model, x, targets):
    return relu_hooked_gradient(model, x, targets, lambda gi, go: gi.clamp(min=0))


def deconvnet(model, x, targets):
    return relu_hooked_gradient(model, x, targets, lambda gi, go: go.clamp(min=0))


def hooked(model, layer, x, targets):
    """The activation of `layer` and the gradient of the target logits with
    respect to it, from a forward hook and a full backward hook."""
    saved = {}
    h1 = layer.register_forward_hook(lambda m, i, o: saved.__setitem__('a', o))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: saved.__setitem__('g', go[0]))
    try:
        out = model(x.clone().requires_grad_(True))
        out.gather(1, targets[:, None]).sum().backward()
    finally:
        h1.remove()
        h2.remove()
    return saved['a'].detach(), saved['g'].detach()


def grad_cam(model, layer, x, targets, plus_plus=False):
    """Grad-CAM from the hooked activation and gradient of `layer`; returns
    the map at the input's positions [B, 1, ...], and at the layer's [B, ...].
    plus_plus: Grad-CAM++'s weights (the closed form for an exponentiated
    score): alpha = g^2 / (2 g^2 + sum_p(a) g^3 + 1e-6), 0 where g = 0,
    w = sum_p alpha * relu(g)."""
    a, g = hooked(model, layer, x, targets)
    positions = tuple(range(2, a.dim()))
    if plus_plus:
        alpha = g ** 2 / (2 * g ** 2 + a.sum(dim=positions, keepdim=True) * g ** 3 + 1e-6)
        alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
        weights = (alpha * F.relu(g)).sum(dim=positions, keepdim=True)
    else:
        weights = g.mean(dim=positions, keepdim=True)
    cam = F.relu((weights * a).sum(dim=1, keepdim=True))
    mode = 'bilinear' if a.dim() == 4 else 'linear'
    up = F.interpolate(cam, size=x.shape[2:], mode=mode, align_corners=False)
    return up, cam[:, 0], list(a.shape)


def maps_of(model, name, x, targets):
    maps = {'guided_backprop': guided_backprop(model, x, targets), 'deconvnet': deconvnet(model, x, targets)}
    if LAYER[name] is not None:
        up, layer_cam, layer_shape = grad_cam(model, model[LAYER[name]], x, targets)
        maps['grad_cam_timeseries' if x.dim() == 3 else 'grad_cam'] = up
        maps['layer_cam'] = layer_cam
        maps['layer_shape'] = layer_shape
        if x.dim() == 4:
            maps['grad_cam_plus_plus'] = grad_cam(model, model[LAYER[name]], x, targets, plus_plus=True)[0]
    if name in NAMED_LAYER:
        maps['named_layer_cam'] = grad_cam(model, model[NAMED_LAYER[name]], x, targets)[0]
    return maps


def first_max_pool_output(name):
    graph = onnx.load(os.path.join(REPO, 'apps', 'parity', 'fixtures', 'models', name + '.onnx')).graph
    return next(node.output[0] for node in graph.node if node.op_type == 'MaxPool')


def worst_ratio(m32, m64):
    worst = 0.0
    for key, ref in m64.items():
        if key == 'layer_shape':
            continue
        scale = ref.abs().max().item()
        if scale > 0:
            worst = max(worst, (m32[key].double() - ref).abs().max().item() / scale)
    return worst


def text(values):
    return [float('%.8g' % v) for v in np.asarray(values, dtype=np.float64).ravel()]


def write(name, record):
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        f.write('{\n' + ',\n'.join('  %s: %s' % (json.dumps(k), json.dumps(v)) for k, v in record.items()) + '\n}\n')


def make(name):
    model, example_shape, seed = parity_model(name)
    model64 = copy.deepcopy(model).double().eval()
    for k in range(MAX_DRAWS):
        x32 = torch.randn([BATCH] + example_shape, generator=torch.Generator().manual_seed(seed + 500 + k))
        x64 = x32.double()
        with torch.no_grad():
            logits = model64(x64)
        targets = logits.argmax(dim=1)
        m64 = maps_of(model64, name, x64, targets)
        worst = worst_ratio(maps_of(model, name, x32, targets), m64)
        if worst <= STABILITY_TOLERANCE:
            break
    else:
        raise SystemExit('%s: no float32-stable batch in %d draws' % (name, MAX_DRAWS))
    record = {'model': name, 'onnx': 'apps/parity/fixtures/models/%s.onnx' % name, 'inputShape': list(x32.shape),
              'redraws': k, 'float32Worst': float('%.3g' % worst),
              'input': text(x32), 'targets': targets.tolist(), 'logits': text(logits)}
    if name in NAMED_LAYER:
        record['named_layer'] = first_max_pool_output(name)
    for key, value in m64.items():
        record[key] = value if key == 'layer_shape' else text(value)
    write(name, record)
    print('%s: %d redraws, float32 worst %.2g' % (name, k, worst))


def make_region():
    """A model whose class 0 depends only on a bright patch, and an image with one."""
    conv = nn.Conv2d(1, 2, 3, padding=1)
    with torch.no_grad():
        conv.weight[0].fill_(1 / 9)
        conv.weight[1].fill_(-1 / 9)
        conv.bias.fill_(-0.5)
    head = nn.Linear(2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.eye(2))
        head.bias.zero_()
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), head).eval()
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 2:6, 9:13] = 3.0
    export_onnx(model, x, os.path.join(OUT, 'region.onnx'))
    up, _, _ = grad_cam(model.double(), model[2], x.double(), torch.tensor([0]))
    write('region', {'model': 'region', 'inputShape': list(x.shape), 'input': text(x), 'patch': [2, 6, 9, 13],
                     'grad_cam': text(up)})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for name in LAYER:
        make(name)
    make_region()


if __name__ == '__main__':
    main()
