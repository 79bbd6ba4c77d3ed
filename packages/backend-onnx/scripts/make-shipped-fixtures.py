#!/usr/bin/python3
"""Fixtures for models in the forms people ship them, with PyTorch autograd references.

What it makes
-------------
Under test/fixtures/shipped/ (models/ is git-ignored, the reference JSON is
committed), for each case in CASES:

  resnet18_fp16          torchvision resnet18 (seeded random weights, 10 classes,
                         3x32x32) with its BatchNorms folded into the
                         convolutions, weights rounded to float16, as
                         models/resnet18_fp16.onnx (float16 weights, compute,
                         input and output) and models/resnet18_fp16_io32.onnx
                         (float32 input and output, Casts to and from float16
                         inside). Reference: float64 on the float16 weights.
  mobilenet_v2_fp16      the same for torchvision mobilenet_v2 (float32 I/O).
  resnet18_int8_qdq      resnet18 (BatchNorm folded) in ONNX Runtime's QDQ
                         format: int8 weights (per output channel, symmetric)
                         behind DequantizeLinear, and a QuantizeLinear ->
                         DequantizeLinear pair (uint8, scale and zero point
                         calibrated on 8 seeded inputs) in front of every Conv
                         and Gemm. Reference: float64 on the dequantized model
                         (weights q * scale; activation quantization without its
                         rounding, with its saturation: a clip to the
                         representable range), which is the function the
                         backend differentiates (the package README, "int8
                         models").
  cnn_batch1             a small CNN exported with batch 1 and x.view(1, -1)
                         before its Linear (models/cnn_batch1.onnx), and the
                         same with x.view(-1) and a MatMul on the flat vector
                         (models/cnn_batch1_flat.onnx), whose batch no rewrite
                         frees. Reference: the same function per example.
  unet_score             a U-Net-style network (two levels: max-pool down,
                         ConvTranspose and bilinear Upsample up, skip
                         concatenations) whose output is one score per
                         example, the mean of its mask logits: [B].
  lstm_bi, gru           time-series classifiers, batch first, [B, 24, 4]: a
                         bidirectional LSTM and a GRU (hidden 12) read by a
                         Linear from the last step.

Each reference JSON (one per case) holds: models (the files it checks),
inputShape, input (float32 values), targets (argmax of the float64 logits),
logits, gradient (of the target logit, float64), and VarGrad over the
library's own seeded noise: noise { numSamples, sigma, seed } (eps = sigma *
z(seed, b, i) from @saliency/core's fillStandardNormal, made by running it in
Node, as apps/parity does), vargrad (population variance, float64) and
noisyMean; flipAllowance where a kink decision lies within float32 reach
(see make-fixtures.py, "Single-flip effects"; the same machinery, from
python/saliency_reference). Draws (batch, noise) are redrawn until PyTorch's
own float32 gradients are within 1e-5 of the float64 ones in three
evaluation orders.

How to run
----------
    /usr/bin/python3 packages/backend-onnx/scripts/make-shipped-fixtures.py [case ...]
    /usr/bin/python3 packages/backend-onnx/scripts/make-shipped-fixtures.py --search-flip-free case ...
    /usr/bin/python3 packages/backend-onnx/scripts/make-shipped-fixtures.py --models-only [case ...]

The second searches draws whose single-flip effects are small (make-fixtures.py,
"Single-flip effects") and prints the SEARCHED_DRAWS entry to keep. The third
(what scripts/ensure-fixtures.mjs runs) makes only the models, against the
committed references (see MODELS_ONLY).

Needs Debian's python3-torch (1.13), python3-torchvision, python3-onnx, and a
built @saliency/core (packages/core/dist) for the noise. About a minute on 2
CPU cores.
"""

import copy
import importlib.util
import io
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper
from torch.fx.experimental.optimization import fuse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'shipped')
MODELS_DIR = os.path.join(OUT, 'models')


def load_script(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The library's seeded noise (apps/parity runs @saliency/core in Node for it), and the
# float32 -> float16 graph conversion of the precision fixtures.
parity = load_script('parity', os.path.join(REPO, 'apps', 'parity', 'fixtures', 'make-parity-fixtures.py'))
precision = load_script('precision', os.path.join(HERE, 'make-precision-fixtures.py'))
shared = parity.shared  # python/saliency_reference, on the path the parity script set
from saliency_reference.committed import committed_input  # noqa: E402
from saliency_reference.export import export_onnx  # noqa: E402
from saliency_reference.flips import (flip_effect_on_gradient, flip_effect_on_vargrad, search_flip_free,  # noqa: E402
                                      without_inplace)
from saliency_reference.models import calibrate_batchnorm  # noqa: E402
from saliency_reference.reference_json import float32_text, float64_text, round_up, write_reference  # noqa: E402
from saliency_reference.references import input_gradient, pick_batch  # noqa: E402
from saliency_reference.stability import float32_instability, stable_draw  # noqa: E402

SEED = 20261205
NUM_SAMPLES = 4
SIGMA = 0.5
TOLERANCE = 1e-5
IMAGE = [3, 32, 32]
# name -> (batch draw, noise draw) that --search-flip-free kept (as in make-fixtures.py): an
# ordinary run starts there. A case not listed starts at draw 0.
SEARCHED_DRAWS = {'mobilenet_v2_fp16': (2, 8)}
SEARCH = '--search-flip-free' in sys.argv
# --models-only (scripts/ensure-fixtures.mjs on a fresh clone): only the git-ignored
# models, exported with the committed references' batches, which the models built
# here must reproduce (float64 logits and targets); the references are neither
# recomputed (the stability and flip analyses) nor rewritten.
MODELS_ONLY = '--models-only' in sys.argv


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

def torchvision_folded(make, seed):
    """A torchvision model with seeded weights and calibrated BatchNorm, the BatchNorms folded
    into their convolutions (as exporters fold them), in eval mode."""
    torch.manual_seed(seed)
    model = make()
    calibrate_batchnorm(model, IMAGE, torch.Generator().manual_seed(seed + 1))
    return fuse(model.eval()).eval()


def rounded_to_float16(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


class SmallCnn(nn.Module):
    """conv-relu-pool-conv-relu-avgpool-linear; `flatten` says how the features reach the Linear."""

    def __init__(self, flatten='rows'):
        super().__init__()
        self.flatten = flatten
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        h = self.relu2(self.c2(self.pool(self.relu1(self.c1(x))))).mean(dim=(2, 3))
        if self.flatten == 'rows':  # the function, for any batch
            return self.fc(h.flatten(1))
        if self.flatten == 'view1':  # as exported with batch 1
            return self.fc(h.view(1, -1))
        return (h.view(-1) @ self.fc.weight.t() + self.fc.bias).view(1, -1)  # 'flat'


class UNet(nn.Module):
    """Two levels down (max pool), up by ConvTranspose and by bilinear Upsample, skip
    concatenations; one mask channel, explained as its mean: output [B]."""

    def __init__(self):
        super().__init__()
        conv = lambda i, o: nn.Conv2d(i, o, 3, padding=1)
        self.e1, self.r1 = conv(3, 8), nn.ReLU()
        self.p1 = nn.MaxPool2d(2)
        self.e2, self.r2 = conv(8, 12), nn.ReLU()
        self.p2 = nn.MaxPool2d(2)
        self.b, self.rb = conv(12, 16), nn.ReLU()
        self.u2 = nn.ConvTranspose2d(16, 12, 2, stride=2)
        self.d2, self.r3 = conv(24, 12), nn.ReLU()
        self.u1 = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.d1, self.r4 = conv(20, 8), nn.ReLU()
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        s1 = self.r1(self.e1(x))
        s2 = self.r2(self.e2(self.p1(s1)))
        h = self.rb(self.b(self.p2(s2)))
        h = self.r3(self.d2(torch.cat([self.u2(h), s2], dim=1)))
        h = self.r4(self.d1(torch.cat([self.u1(h), s1], dim=1)))
        return self.head(h).mean(dim=(1, 2, 3))


class Recurrent(nn.Module):
    def __init__(self, kind, bidirectional):
        super().__init__()
        self.rnn = kind(input_size=4, hidden_size=12, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(24 if bidirectional else 12, 3)

    def forward(self, x):
        return self.fc(self.rnn(x)[0][:, -1])


class OutputsAsRows(nn.Module):
    """A model with output [B] seen as [B, 1] (the reference tooling picks a target logit per row)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x).unsqueeze(1)


# ---------------------------------------------------------------------------
# int8: QDQ
# ---------------------------------------------------------------------------

class FakeQuant(nn.Module):
    """uint8 activation quantization; exported as QuantizeLinear -> DequantizeLinear."""

    def __init__(self, scale, zero):
        super().__init__()
        self.scale, self.zero = float(scale), int(zero)

    def forward(self, x):
        return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero, 0, 255)


def symmetric_int8(w):
    """Per output channel symmetric int8 with float32 scales: (q, scales)."""
    flat = w.reshape(w.shape[0], -1)
    scales = (np.abs(flat).max(axis=1) / 127.0).astype(np.float32)
    q = np.clip(np.round(w / scales.reshape([-1] + [1] * (w.ndim - 1))), -127, 127).astype(np.int8)
    return q, scales


def quantized_resnet18(seed):
    """(reference model, export model, {float32 weight bytes: (q, scales)}): resnet18 with
    BatchNorm folded and its Conv / Linear weights replaced by their dequantized int8
    values; in front of each Conv and Linear, in the export model a FakeQuant with a scale
    calibrated on 8 seeded inputs, in the reference model its saturation alone (a clip)."""
    model = torchvision_folded(lambda: torchvision.models.resnet18(weights=None, num_classes=10), seed)
    weights = {}
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                q, scales = symmetric_int8(m.weight.numpy())
                deq = q.astype(np.float64) * scales.astype(np.float64).reshape([-1] + [1] * (q.ndim - 1))
                m.weight.copy_(torch.from_numpy(deq.astype(np.float32)))
                weights[m.weight.numpy().tobytes()] = (q, scales)
    targets = [n for n in model.graph.nodes
               if n.op == 'call_module' and isinstance(model.get_submodule(n.target), (nn.Conv2d, nn.Linear))]
    ranges = {}
    hooks = [model.get_submodule(n.target).register_forward_pre_hook(
        (lambda key: lambda module, inputs: ranges.setdefault(key, []).append(inputs[0].detach()))(n.target))
        for n in targets]
    with torch.no_grad():
        model(torch.randn([8] + IMAGE, generator=torch.Generator().manual_seed(seed + 2)))
    for h in hooks:
        h.remove()

    def with_quantizers(make):
        gm = copy.deepcopy(model)
        for i, n in enumerate([n for n in gm.graph.nodes if n.op == 'call_module' and n.target in ranges]):
            values = torch.cat(ranges[n.target])
            lo, hi = min(values.min().item(), 0.0), max(values.max().item(), 0.0)
            scale = np.float32((hi - lo) / 255.0)
            zero = int(np.clip(round(-lo / float(scale)), 0, 255))
            name = 'quantize_%d' % i
            gm.add_submodule(name, make(scale, zero))
            with gm.graph.inserting_before(n):
                q = gm.graph.call_module(name, (n.args[0],))
            n.replace_input_with(n.args[0], q)
        gm.recompile()
        return gm.eval()

    def saturation(scale, zero):
        lo, hi = (0 - zero) * float(scale), (255 - zero) * float(scale)
        # After a ReLU (zero point 0) the lower bound is no kink of the model: leave it out.
        return nn.Hardtanh(lo if zero > 0 else float('-inf'), hi)

    return with_quantizers(saturation), with_quantizers(FakeQuant), weights


def weights_to_int8(model, weights):
    """Every Conv / Gemm weight initializer that is a dequantized int8 weight, as int8
    behind a DequantizeLinear (per output channel, zero point 0)."""
    graph = model.graph
    quantized = {}
    for node in graph.node:
        if node.op_type in ('Conv', 'Gemm'):
            name = node.input[1]
            init = next((t for t in graph.initializer if t.name == name), None)
            if init is not None and numpy_helper.to_array(init).tobytes() in weights:
                quantized[name] = weights[numpy_helper.to_array(init).tobytes()]
    assert quantized, 'no weight found to quantize'
    kept = [t for t in graph.initializer if t.name not in quantized]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = []
    for name, (q, scales) in quantized.items():
        graph.initializer.extend([numpy_helper.from_array(q, name + '_quantized'),
                                  numpy_helper.from_array(scales, name + '_scale'),
                                  numpy_helper.from_array(np.zeros(len(scales), np.int8), name + '_zero_point')])
        nodes.append(helper.make_node('DequantizeLinear', [name + '_quantized', name + '_scale', name + '_zero_point'],
                                      [name], axis=0, name=name + '_DequantizeLinear'))
    nodes.extend(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------
# Export, draws and reference
# ---------------------------------------------------------------------------

def exported(model, x32, dynamic=True):
    if dynamic:
        path = os.path.join(MODELS_DIR, '_export.onnx')
        export_onnx(model, x32, path)
        result = onnx.load(path)
        os.remove(path)
        return result
    f = io.BytesIO()
    torch.onnx.export(model, (x32,), f, opset_version=17, do_constant_folding=True,
                      input_names=['input'], output_names=['logits'])
    return onnx.load_from_string(f.getvalue())


def library_noise(seed, example_shape, batch):
    """SIGMA * z(seed, b, i) for b < batch, i < NUM_SAMPLES, float32, as @saliency/core adds it."""
    z = parity.library_noise(seed, example_shape)[:batch, :NUM_SAMPLES]  # z: the parity script's sigma is 1
    return (z.double() * SIGMA).float()


def committed_batch(name, model64, example_shape, batch):
    """--models-only: the committed reference's batch of `name`, after checking that
    `model64` gives its float64 logits (to their 9 written digits) and targets."""
    with open(os.path.join(OUT, name + '.json')) as f:
        ref = json.load(f)
    if ref['inputShape'] != [batch] + example_shape:
        sys.exit('%s: the committed reference has input shape %s, this script %s: run without --models-only'
                 % (name, ref['inputShape'], [batch] + example_shape))
    x32, deviation = committed_input(name, ref, model64)
    print('%-18s committed reference: float64 logits within %.2g' % (name, deviation), flush=True)
    return x32


def reference(name, model32, example_shape, files, seed, batch=2, float16_input=False):
    """The reference JSON of `name` for the float32 model `model32` (its float64 copy is the reference)."""
    model64 = copy.deepcopy(model32).double().eval()
    if MODELS_ONLY:
        return committed_batch(name, model64, example_shape, batch)
    model_flip = without_inplace(model64)
    with torch.no_grad():
        classes = model32(torch.zeros([1] + example_shape)).shape[1]

    def draw_batch(k):
        generator = torch.Generator().manual_seed(seed + 2 + 2 * k)
        # pick_batch picks by the top-2 logit margin; one score has none to pick by.
        x32 = (pick_batch(model32, example_shape, generator)[:batch] if classes > 1
               else torch.randn([batch] + example_shape, generator=generator))
        if float16_input:
            x32 = x32.half().float()
        with torch.no_grad():
            targets = model64(x32.double()).argmax(dim=1)
        return x32, float32_instability(model32, model64, x32, x32.double(), targets)

    def targets_of(x32):
        with torch.no_grad():
            return model64(x32.double()).argmax(dim=1)

    first_batch, first_noise = SEARCHED_DRAWS.get(name, (0, 0))
    if SEARCH:
        first_batch, _ = search_flip_free('batch', name, TOLERANCE, draw_batch, lambda x32: flip_effect_on_gradient(
            model32, model64, model_flip, x32, x32.double(), targets_of(x32)))
    x32, _, _ = stable_draw('batch', name, TOLERANCE, draw_batch, first_batch)
    x64 = x32.double()
    targets = targets_of(x32)
    sample_targets = targets.repeat_interleave(NUM_SAMPLES)
    rows = [batch * NUM_SAMPLES] + example_shape

    def noisy(noise32):
        return (x32.unsqueeze(1) + noise32).reshape(rows), (x64.unsqueeze(1) + noise32.double()).reshape(rows)

    def draw_noise(k):
        noise_seed = seed + 3 + 2 * k
        noise32 = library_noise(noise_seed, example_shape, batch)
        return (noise_seed, noise32), float32_instability(model32, model64, *noisy(noise32), sample_targets)

    if SEARCH:
        first_noise, _ = search_flip_free('noise', name, TOLERANCE, draw_noise, lambda drawn: flip_effect_on_vargrad(
            model32, model64, model_flip, *noisy(drawn[1]), sample_targets, NUM_SAMPLES))
        print('%s: SEARCHED_DRAWS entry %r' % (name, (first_batch, first_noise)), flush=True)
    (noise_seed, noise32), _, _ = stable_draw('noise', name, TOLERANCE, draw_noise, first_noise)
    gradient_flip, candidates_input = flip_effect_on_gradient(model32, model64, model_flip, x32, x64, targets)
    vargrad_flip, candidates_noisy, noisy_gradient_flip = flip_effect_on_vargrad(
        model32, model64, model_flip, *noisy(noise32), sample_targets, NUM_SAMPLES, True)

    gradient, logits = input_gradient(model64, x64, targets)
    noisy_grads, _ = input_gradient(model64, noisy(noise32)[1], sample_targets)
    noisy_grads = noisy_grads.reshape([batch, NUM_SAMPLES] + example_shape)
    ref = {
        'model': name,
        'models': files,
        'reference': 'PyTorch autograd in float64',
        'inputShape': [batch] + example_shape,
        'flipCandidates': [candidates_input, candidates_noisy],
        **({'flipAllowance': {'gradient': round_up(gradient_flip), 'vargrad': round_up(vargrad_flip),
                              'noisyGradient': round_up(noisy_gradient_flip)}}
           if candidates_input + candidates_noisy else {}),
        'input': '[' + float32_text(x32.numpy()) + ']',
        'targets': targets.tolist(),
        'logits': '[' + float64_text(logits.numpy()) + ']',
        'gradient': '[' + float64_text(gradient.numpy()) + ']',
        'noise': {'numSamples': NUM_SAMPLES, 'sigma': SIGMA, 'seed': noise_seed},
        'vargrad': '[' + float64_text(noisy_grads.var(dim=1, unbiased=False).numpy()) + ']',
        'noisyMean': '[' + float64_text(noisy_grads.mean(dim=1).numpy()) + ']',
    }
    write_reference(os.path.join(OUT, name + '.json'), ref)
    print('%-18s targets %s, flip candidates %d / %d, largest single-flip effect gradient %.2g vargrad %.2g'
          % (name, targets.tolist(), candidates_input, candidates_noisy, gradient_flip, vargrad_flip), flush=True)
    return x32


def save(model, file):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(MODELS_DIR, file))


def make_float16(name, make, seed, both_io):
    model = rounded_to_float16(torchvision_folded(make, seed))
    files = [name + '.onnx', name + '_io32.onnx'] if both_io else [name + '_io32.onnx']
    x32 = reference(name, model, IMAGE, files, seed, batch=1, float16_input=both_io)
    if both_io:
        save(precision.to_float16(exported(model, x32), keep_io_float32=False), name + '.onnx')
    save(precision.to_float16(exported(model, x32), keep_io_float32=True), name + '_io32.onnx')


def make_resnet18_fp16():
    make_float16('resnet18_fp16', lambda: torchvision.models.resnet18(weights=None, num_classes=10), SEED, True)


def make_mobilenet_v2_fp16():
    make_float16('mobilenet_v2_fp16', lambda: torchvision.models.mobilenet_v2(weights=None, num_classes=10),
                 SEED + 100, False)


def make_resnet18_int8_qdq():
    reference_model, export_model, weights = quantized_resnet18(SEED + 200)
    x32 = reference('resnet18_int8_qdq', reference_model, IMAGE, ['resnet18_int8_qdq.onnx'], SEED + 200, batch=1)
    save(weights_to_int8(exported(export_model, x32), weights), 'resnet18_int8_qdq.onnx')


def make_cnn_batch1():
    torch.manual_seed(SEED + 300)
    model = SmallCnn('rows').eval()
    x32 = reference('cnn_batch1', model, [3, 16, 16], ['cnn_batch1.onnx', 'cnn_batch1_flat.onnx'], SEED + 300)
    for flatten, file in (('view1', 'cnn_batch1.onnx'), ('flat', 'cnn_batch1_flat.onnx')):
        variant = SmallCnn(flatten).eval()
        variant.load_state_dict(model.state_dict())
        save(exported(variant, x32[:1], dynamic=False), file)


def make_unet_score():
    torch.manual_seed(SEED + 400)
    model = UNet().eval()
    x32 = reference('unet_score', OutputsAsRows(model).eval(), [3, 16, 16], ['unet_score.onnx'], SEED + 400)
    save(exported(model, x32), 'unet_score.onnx')


def make_recurrent(name, kind, bidirectional, seed):
    torch.manual_seed(seed)
    model = Recurrent(kind, bidirectional).eval()
    x32 = reference(name, model, [24, 4], [name + '.onnx'], seed)
    save(exported(model, x32), name + '.onnx')


CASES = {
    'resnet18_fp16': make_resnet18_fp16,
    'mobilenet_v2_fp16': make_mobilenet_v2_fp16,
    'resnet18_int8_qdq': make_resnet18_int8_qdq,
    'cnn_batch1': make_cnn_batch1,
    'unet_score': make_unet_score,
    'lstm_bi': lambda: make_recurrent('lstm_bi', nn.LSTM, True, SEED + 500),
    'gru': lambda: make_recurrent('gru', nn.GRU, False, SEED + 600),
}


if __name__ == '__main__':
    if SEARCH and MODELS_ONLY:
        sys.exit('--search-flip-free recomputes the references; --models-only keeps the committed ones')
    names = [a for a in sys.argv[1:] if a not in ('--search-flip-free', '--models-only')] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit('unknown case(s): %s; known: %s' % (', '.join(unknown), ', '.join(CASES)))
    torch.use_deterministic_algorithms(True)
    warnings.filterwarnings('ignore', category=UserWarning)  # the exporter's notes on shape inference and RNN batch sizes
    os.makedirs(MODELS_DIR, exist_ok=True)
    for name in names:
        CASES[name]()
