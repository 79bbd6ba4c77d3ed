#!/usr/bin/python3
"""References for LRP (docs/methods.md, "LRP"), computed by explicit
layer-by-layer relevance propagation in PyTorch, written independently of the
ONNX backend's graph rewrites: forward hooks store each layer's input, then
every layer's rule is applied to its contribution tensor x_i * w_ji, from the
logit back to the input.

What it makes (in packages/backend-onnx/test/fixtures/lrp/)
-----------------------------------------------------------
  <name>.onnx   four small seeded models, exported at opset 17 with
                BatchNormalization kept as nodes (training=PRESERVE in eval
                mode), so that the backend's folding is what is tested:
                  vgg       Conv-ReLU-MaxPool-Conv-ReLU-AvgPool-Flatten-
                            Linear-ReLU-Linear;
                  resnet    Conv-BN-ReLU, a residual block
                            (Conv-BN-ReLU-Conv-BN + identity, ReLU), global
                            average pool, Linear;
                  mobilenet Conv(stride 2)-BN-ReLU, depthwise Conv-BN-ReLU,
                            pointwise Conv-BN-ReLU, global average pool, Linear;
                  nobias    vgg-like without any bias, for the conservation
                            of the z-rule.
  <name>.json   a batch of 2 inputs, the targets (argmax), the logits, and in
                float64 the map of every method in METHODS.

The propagation also takes Conv1d, 1-D max and global average pooling,
BatchNorm1d and a Residual with its own shortcut (a ResNet block that
downsamples): apps/parity/fixtures/make-xai-references.py imports it for the
parity fixtures' LRP rows. A module without a rule raises NoRule.

Each method is written out below as the rule of its first layers, its
convolutions and its dense layers, and what multiplies the first layer's
contributions: x (lrp_, lrpz_), s_mu(x) (lrpsign_) or nothing (w2lrp_, flatlrp_,
zblrp_ and the composites' first-layer rules). BatchNorm is folded into the
Conv before it (W' = W g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta)
on a copy of the module, checked against the original's logits.

Float32 stability: a batch is redrawn until the float32 run of this same
propagation is within STABILITY_TOLERANCE of the float64 one (relative to the
largest magnitude) for every method, so a float32 ONNX run can be held to 1e-5.

How to run
----------
    /usr/bin/python3 packages/backend-onnx/scripts/make-lrp-references.py

Needs Debian's python3-torch (1.13 tested), python3-onnx and numpy; seconds.
"""

import copy
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'lrp')
SEED = 1717
BATCH = 2
CLASSES = 5
STABILITY_TOLERANCE = 3e-6
# Inputs scaled so that some ReLU6 inputs pass 6, where LRP's rule for it
# differs from its gradient (asserted below).
INPUT_SCALE = {'mobilenetv2': 4.0}
BATCHNORM_GAIN = {'mobilenetv2': 2.0}
# Nets whose batch must also pass rounding_worst within ROUNDING_TOLERANCE
# (the first four were drawn before the check; their batches pass it within 2e-5).
ROUNDING_CHECKED = ('mobilenetv2',)
ROUNDING_TOLERANCE = 1e-5
# Also exported at opset 10, where Clip's bounds are attributes, not inputs.
OPSET_10 = ('mobilenetv2',)
MAX_DRAWS = 200

# --------------------------------------------------------------------------
# Rules at one linear layer, on the contribution tensor.
#
# A layer is given as patches P [B, I, L] (the inputs each output position j
# reads; for a Linear L = 1), the weight matrix W [J, I] and bias b [J] of one
# group, and the output relevance R [B, J, L]. A rule returns the relevance of
# the patches, RP [B, I, L]; the caller folds it back to the input's shape.
# --------------------------------------------------------------------------


def safe(z):
    """Denominators that are exactly 0 (every term 0) become 1: their shares are 0."""
    return torch.where(z == 0, torch.ones_like(z), z)


def contributions(P, W):
    """C[b, j, i, l] = P[b, i, l] * W[j, i]."""
    return torch.einsum('bil,ji->bjil', P, W)


def redistribute(C, Z, R):
    """RP[b, i, l] = sum_j C[b, j, i, l] / Z[b, j, l] * R[b, j, l]."""
    return torch.einsum('bjil,bjl->bil', C, R / Z)


def rule_epsilon(epsilon, std_x=False):
    def apply(P, W, b, R, ctx):
        C = contributions(P, W)
        Z = C.sum(2) + b[None, :, None]
        eps = epsilon * ctx['std'] if std_x else epsilon
        sign = torch.where(Z >= 0, torch.ones_like(Z), -torch.ones_like(Z))
        if not std_x and epsilon == 0:
            return redistribute(C, safe(Z), R)
        return redistribute(C, Z + eps * sign, R)
    return apply


def rule_zplus(P, W, b, R, ctx):
    C = contributions(P, W.clamp(min=0))
    return redistribute(C, safe(C.sum(2)), R)


def rule_gamma(gamma):
    def apply(P, W, b, R, ctx):
        Wg = W + gamma * W.clamp(min=0)
        bg = b + gamma * b.clamp(min=0)
        C = contributions(P, Wg)
        return redistribute(C, safe(C.sum(2) + bg[None, :, None]), R)
    return apply


def rule_alpha_beta(alpha, beta):
    def apply(P, W, b, R, ctx):
        C = contributions(P, W)
        Cp, Cn = C.clamp(min=0), C.clamp(max=0)
        RP = alpha * redistribute(Cp, safe(Cp.sum(2)), R)
        if beta != 0:
            RP = RP - beta * redistribute(Cn, safe(Cn.sum(2)), R)
        return RP
    return apply


def rule_w_square(P, W, b, R, ctx):
    C = contributions(ctx['ones'], W * W)
    return redistribute(C, safe(C.sum(2)), R)


def rule_flat(P, W, b, R, ctx):
    C = contributions(ctx['ones'], torch.ones_like(W))
    return redistribute(C, safe(C.sum(2)), R)


def rule_box(low=None, high=None):
    """zB: contributions x_i w_ji - l_i w+_ji - h_i w-_ji; bounds given, or
    each example's own minimum and maximum."""
    def apply(P, W, b, R, ctx):
        L, H = ctx['low'](low), ctx['high'](high)
        C = contributions(P, W) - contributions(L, W.clamp(min=0)) - contributions(H, W.clamp(max=0))
        return redistribute(C, safe(C.sum(2)), R)
    return apply


def rule_sign(P, W, b, R, ctx):
    """SIGN: the z-rule's shares with x replaced by s_mu(x) in the numerator."""
    Z = contributions(P, W).sum(2) + b[None, :, None]
    return redistribute(contributions(ctx['sign'], W), safe(Z), R)


Z_RULE = rule_epsilon(0)
AB10, AB21 = rule_alpha_beta(1, 0), rule_alpha_beta(2, 1)
VGG16_BOX = rule_box(-123.68, 151.061)


def uniform(rule, first=None):
    return {'first': first or rule, 'conv': rule, 'dense': rule}


# name -> (rule of the first layers, of convolutions, of dense layers), and mu of SIGN.
METHODS = {
    'lrp_z': uniform(Z_RULE),
    'lrp_epsilon_0_1': uniform(rule_epsilon(0.1)),
    'lrp_epsilon_1': uniform(rule_epsilon(1)),
    'lrp_epsilon_0_25_std_x': uniform(rule_epsilon(0.25, std_x=True)),
    'lrp_zplus': uniform(rule_zplus),
    'lrp_alpha_1_beta_0': uniform(AB10),
    'lrp_alpha_2_beta_1': uniform(AB21),
    'lrp_gamma_0_25': uniform(rule_gamma(0.25)),
    'lrpz_epsilon_0_1': uniform(rule_epsilon(0.1), first=Z_RULE),
    'lrpsign_z': uniform(Z_RULE, first=rule_sign),
    'lrpsign_epsilon_0_1': uniform(rule_epsilon(0.1), first=rule_sign),
    'lrpsign_epsilon_0_25_std_x': uniform(rule_epsilon(0.25, std_x=True), first=rule_sign),
    'lrpsign_epsilon_0_25_std_x_mu_0_5': uniform(rule_epsilon(0.25, std_x=True), first=rule_sign),
    'lrpsign_alpha_1_beta_0': uniform(AB10, first=rule_sign),
    'w2lrp_epsilon_0_1': uniform(rule_epsilon(0.1), first=rule_w_square),
    'w2lrp_alpha_1_beta_0': uniform(AB10, first=rule_w_square),
    'flatlrp_z': uniform(Z_RULE, first=rule_flat),
    'flatlrp_zplus': uniform(rule_zplus, first=rule_flat),
    'zblrp_epsilon_0_1_VGG16ILSVRC': uniform(rule_epsilon(0.1), first=VGG16_BOX),
    'lrp_epsilon_plus_flat': {'first': rule_flat, 'conv': rule_zplus, 'dense': rule_epsilon(1e-6)},
    'lrp_epsilon_gamma_box': {'first': rule_box(), 'conv': rule_gamma(0.25), 'dense': rule_epsilon(1e-6)},
    'lrp_sequential_composite_a': {'first': AB10, 'conv': AB10, 'dense': rule_epsilon(0.1)},
    'lrp_sequential_composite_b': {'first': AB21, 'conv': AB21, 'dense': rule_epsilon(0.1)},
}
MU = {'lrpsign_epsilon_0_25_std_x_mu_0_5': 0.5}

# --------------------------------------------------------------------------
# Layers as patches, and the propagation through the model.
# --------------------------------------------------------------------------


def sign_mu(x, mu):
    return torch.where(x < mu, -torch.ones_like(x), torch.ones_like(x))


class NoRule(SystemExit):
    """A module on the explained path that LRP has no rule for (docs/methods.md, "LRP")."""

    def __init__(self, module):
        super().__init__('no LRP rule for %s' % type(module).__name__)
        self.module = module


CONVOLUTIONS = (nn.Conv1d, nn.Conv2d)
BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def as_conv2d(conv):
    """A Conv1d as the Conv2d of height 1 that computes it (same weights)."""
    same = nn.Conv2d(conv.in_channels, conv.out_channels, (1,) + conv.kernel_size, stride=(1,) + conv.stride,
                     padding=(0,) + conv.padding, dilation=(1,) + conv.dilation, groups=conv.groups,
                     bias=conv.bias is not None).to(conv.weight.dtype)
    with torch.no_grad():
        same.weight.copy_(conv.weight[:, :, None, :])
        if conv.bias is not None:
            same.bias.copy_(conv.bias)
    return same


def linear_relevance(module, x, R, rule, ctx):
    """Relevance of the input x of a Conv1d/Conv2d (any groups) or Linear from that of its output."""
    if isinstance(module, nn.Conv1d):
        return linear_relevance(as_conv2d(module), x[:, :, None], R[:, :, None], rule, ctx)[:, :, 0]
    per_example = tuple(range(1, x.dim()))
    std = x.std(dim=per_example, unbiased=False)
    low = lambda v: torch.full_like(x, v) if v is not None else x.amin(dim=per_example, keepdim=True).expand_as(x)  # noqa: E731
    high = lambda v: torch.full_like(x, v) if v is not None else x.amax(dim=per_example, keepdim=True).expand_as(x)  # noqa: E731
    if isinstance(module, nn.Linear):
        patches = lambda t: t[:, :, None]  # noqa: E731
        bias = module.bias if module.bias is not None else torch.zeros(module.out_features, dtype=x.dtype)
        c = {'std': std[:, None, None], 'ones': patches(torch.ones_like(x)), 'low': lambda v: patches(low(v)),
             'high': lambda v: patches(high(v)), 'sign': patches(sign_mu(x, ctx['mu']))}
        return rule(patches(x), module.weight, bias, R[:, :, None], c)[:, :, 0]
    geometry = dict(kernel_size=module.kernel_size, padding=module.padding, stride=module.stride, dilation=module.dilation)
    patches = lambda t: F.unfold(t, **geometry)  # noqa: E731
    groups, M = module.groups, module.out_channels
    C_in = x.shape[1] // groups
    k = C_in * module.kernel_size[0] * module.kernel_size[1]
    bias = module.bias if module.bias is not None else torch.zeros(M, dtype=x.dtype)
    Rflat = R.reshape(R.shape[0], M, -1)
    parts = []
    whole = {'x': patches(x), 'ones': patches(torch.ones_like(x)), 'low': {}, 'high': {}, 'sign': patches(sign_mu(x, ctx['mu']))}
    for g in range(groups):
        rows, outs = slice(g * k, (g + 1) * k), slice(g * M // groups, (g + 1) * M // groups)
        c = {'std': std[:, None, None], 'ones': whole['ones'][:, rows], 'sign': whole['sign'][:, rows],
             'low': lambda v, rows=rows: patches(low(v))[:, rows], 'high': lambda v, rows=rows: patches(high(v))[:, rows]}
        W = module.weight[outs].reshape(M // groups, k)
        parts.append(rule(whole['x'][:, rows], W, bias[outs], Rflat[:, outs], c))
    return F.fold(torch.cat(parts, dim=1), output_size=x.shape[2:], **geometry)


def proportional(x, y, R):
    """The share x / y of y's relevance (0 where y = 0)."""
    return x * (R / safe(y))


class Residual(nn.Module):
    """branch(x) + shortcut(x), the shortcut the identity unless given."""

    def __init__(self, *branch, shortcut=None):
        super().__init__()
        self.branch = nn.Sequential(*branch)
        self.shortcut = shortcut

    def forward(self, x):
        return self.branch(x) + (x if self.shortcut is None else self.shortcut(x))


class Propagation:
    """Forward hooks store each module's input and output; `relevance`
    walks the modules back from the output."""

    def __init__(self, model, first, rules, mu):
        self.first, self.rules, self.mu = first, rules, mu
        self.inputs, self.outputs = {}, {}
        self.handles = [m.register_forward_hook(self.store) for m in model.modules()]

    def store(self, module, inputs, output):
        self.inputs[module], self.outputs[module] = inputs[0], output

    def remove(self):
        for h in self.handles:
            h.remove()

    def relevance(self, module, R):
        x = self.inputs[module]
        if isinstance(module, nn.Sequential):
            for child in reversed(list(module)):
                R = self.relevance(child, R)
            return R
        if isinstance(module, Residual):
            y, b = self.outputs[module], self.outputs[module.branch]
            if module.shortcut is None:
                shortcut = proportional(x, y, R)
            else:
                shortcut = self.relevance(module.shortcut, proportional(self.outputs[module.shortcut], y, R))
            return self.relevance(module.branch, proportional(b, y, R)) + shortcut
        if isinstance(module, CONVOLUTIONS + (nn.Linear,)):
            kind = 'first' if module is self.first else 'conv' if isinstance(module, CONVOLUTIONS) else 'dense'
            return linear_relevance(module, x, R, self.rules[kind], {'mu': self.mu})
        if isinstance(module, (nn.ReLU, nn.Identity)):
            return R
        if isinstance(module, nn.Hardtanh):
            # ReLU6 and every clamp: relevance passes unchanged, also where the
            # input lies past a bound and the gradient would be 0.
            return R
        if isinstance(module, nn.Flatten):
            return R.reshape(x.shape)
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)):
            pool = F.max_pool1d if isinstance(module, nn.MaxPool1d) else F.max_pool2d
            _, where = pool(x, module.kernel_size, module.stride, return_indices=True)
            out = torch.zeros_like(x).flatten(2)
            out.scatter_add_(2, where.flatten(2), R.flatten(2))
            return out.reshape(x.shape)
        if isinstance(module, nn.AvgPool2d):
            # Each window's relevance shared in proportion to its inputs.
            y = self.outputs[module]
            k = module.kernel_size
            share = (R / safe(y)).repeat_interleave(k, dim=2).repeat_interleave(k, dim=3) / (k * k)
            return x * share
        if isinstance(module, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
            # Global average pooling only (output size 1), as the ONNX GlobalAveragePool.
            y = self.outputs[module]
            if y[0, 0].numel() != 1:
                raise NoRule(module)
            return x * (R / safe(y)) / x[0, 0].numel()
        raise NoRule(module)


def lrp(model, x, targets, method):
    rules = METHODS[method]
    first = next(m for m in model.modules() if isinstance(m, CONVOLUTIONS + (nn.Linear,)))
    propagation = Propagation(model, first, rules, MU.get(method, 0.0))
    try:
        with torch.no_grad():
            logits = model(x)
            R = torch.zeros_like(logits)
            R[torch.arange(len(targets)), targets] = logits[torch.arange(len(targets)), targets]
            relevance = propagation.relevance(model, R)
    finally:
        propagation.remove()
    return relevance


# --------------------------------------------------------------------------
# Models, BatchNorm folding, export.
# --------------------------------------------------------------------------


def conv_bn(c_in, c_out, activation=nn.ReLU, kernel_size=3, **kwargs):
    return [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, **kwargs), nn.BatchNorm2d(c_out), activation()]


def make_models():
    """Factories, so that each model's weights come from its own seed."""
    return {
        'vgg': (lambda: nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(8 * 2 * 2, 16), nn.ReLU(), nn.Linear(16, CLASSES)), [3, 8, 8]),
        'resnet': (lambda: nn.Sequential(
            *conv_bn(3, 6),
            Residual(*conv_bn(6, 6), nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6)), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, CLASSES)), [3, 8, 8]),
        'mobilenet': (lambda: nn.Sequential(
            *conv_bn(3, 8, stride=2), *conv_bn(8, 8, groups=8),
            nn.Conv2d(8, 12, 1), nn.BatchNorm2d(12), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, CLASSES)), [3, 8, 8]),
        'nobias': (lambda: nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(6 * 4 * 4, CLASSES, bias=False)), [3, 8, 8]),
        # MobileNetV2-style: ReLU6 everywhere, an inverted residual block
        # (1x1 expansion, depthwise 3x3, linear 1x1 projection, identity),
        # its sum through a ReLU6 as ResNet's blocks do: a signed sum read by
        # z+ and gamma makes denominators cancel, and no draw of
        # MobileNetV2's own form passed the rounding check below.
        'mobilenetv2': (lambda: nn.Sequential(
            *conv_bn(3, 8, nn.ReLU6, stride=2),
            Residual(*conv_bn(8, 16, nn.ReLU6, kernel_size=1), *conv_bn(16, 16, nn.ReLU6, groups=16),
                     nn.Conv2d(16, 8, 1), nn.BatchNorm2d(8)), nn.ReLU6(),
            *conv_bn(8, 12, nn.ReLU6, kernel_size=1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, CLASSES)), [3, 8, 8]),
    }


def randomise_batchnorm(model, generator, gain=1.0):
    """Statistics and affine parameters away from the identity, so folding matters;
    `gain` scales the affine parameters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(0.3 * torch.randn(n, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(n, generator=generator))
                m.weight.copy_(gain * (0.5 + torch.rand(n, generator=generator)))
                m.bias.copy_(gain * 0.2 * torch.randn(n, generator=generator))


def fold_batchnorm(module):
    """A copy with each BatchNorm folded into the convolution before it and replaced by Identity."""
    module = copy.deepcopy(module)

    def fold(seq):
        children = list(seq)
        for i, child in enumerate(children):
            if isinstance(child, BATCHNORMS):
                conv = children[i - 1]
                assert isinstance(conv, CONVOLUTIONS)
                factor = child.weight / torch.sqrt(child.running_var + child.eps)
                bias = conv.bias if conv.bias is not None else torch.zeros_like(child.running_mean)
                with torch.no_grad():
                    conv.weight.mul_(factor.reshape((-1,) + (1,) * (conv.weight.dim() - 1)))
                    conv.bias = nn.Parameter((bias - child.running_mean) * factor + child.bias)
                seq[i] = nn.Identity()
            elif isinstance(child, nn.Sequential):
                fold(child)
            elif isinstance(child, Residual):
                fold(child.branch)
                if child.shortcut is not None:
                    fold(child.shortcut)

    fold(module)
    return module


def past_bounds(model, x):
    """For each ReLU6 (Hardtanh) in forward order: how many of its inputs lie above its upper bound, of how many."""
    counts = []
    hook = lambda m, i, o: counts.append((int((i[0] > m.max_val).sum()), i[0].numel()))  # noqa: E731
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Hardtanh)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return counts


def export(model, x, path, opset=17):
    torch.onnx.export(model, (x,), path, export_params=True, opset_version=opset, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.PRESERVE, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})


def text(values):
    return [float('%.8g' % v) for v in np.asarray(values, dtype=np.float64).ravel()]


def maps_of(model, x, targets):
    return {method: lrp(model, x, targets, method) for method in METHODS}


def rounding_worst(model, x, targets, m64):
    """The worst float32 map with every weight moved by about an ulp
    (relative 2^-23 normal noise, two draws) against the float64 one: what
    another runtime's rounding and evaluation order can do."""
    worst = 0.0
    for seed in (1, 2):
        moved, generator = copy.deepcopy(model), torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in moved.parameters():
                p.mul_(1 + 2.0 ** -23 * torch.randn(p.shape, generator=generator))
        worst = max(worst, worst_ratio(maps_of(moved, x, targets), m64))
    return worst


def worst_ratio(m32, m64):
    worst = 0.0
    for key, ref in m64.items():
        scale = ref.abs().max().item()
        if scale > 0:
            worst = max(worst, (m32[key].double() - ref).abs().max().item() / scale)
    return worst


def make(name, factory, example_shape, index):
    torch.manual_seed(SEED + 100 * index)
    model = factory()
    generator = torch.Generator().manual_seed(SEED + 100 * index + 1)
    randomise_batchnorm(model, generator, BATCHNORM_GAIN.get(name, 1.0))
    model.eval()
    model64 = copy.deepcopy(model).double()
    folded, folded64 = fold_batchnorm(model), fold_batchnorm(model64)
    for k in range(MAX_DRAWS):
        x32 = INPUT_SCALE.get(name, 1.0) * torch.randn([BATCH] + example_shape,
                                                       generator=torch.Generator().manual_seed(SEED + 500 + 10 * index + k))
        with torch.no_grad():
            logits = model64(x32.double())
            assert (folded64(x32.double()) - logits).abs().max().item() < 1e-10, 'folding changed the logits'
        targets = logits.argmax(dim=1)
        m64 = maps_of(folded64, x32.double(), targets)
        worst = worst_ratio(maps_of(folded, x32, targets), m64)
        if worst <= STABILITY_TOLERANCE and (name not in ROUNDING_CHECKED or rounding_worst(folded, x32, targets, m64) <= ROUNDING_TOLERANCE):
            break
    else:
        raise SystemExit('%s: no float32-stable batch in %d draws' % (name, MAX_DRAWS))
    export(model, x32, os.path.join(OUT, name + '.onnx'))
    if name in OPSET_10:
        export(model, x32, os.path.join(OUT, name + '-opset10.onnx'), opset=10)
    record = {'model': name, 'onnx': 'packages/backend-onnx/test/fixtures/lrp/%s.onnx' % name,
              'inputShape': list(x32.shape), 'redraws': k, 'float32Worst': float('%.3g' % worst),
              'input': text(x32), 'targets': targets.tolist(), 'logits': text(logits), 'maps': {}}
    for method, value in m64.items():
        record['maps'][method] = text(value)
    clipped = past_bounds(model64, x32.double())
    if clipped:
        # The rule for ReLU6 differs from its gradient only past the bound: it must be reached.
        if not all(above > 0 for above, _ in clipped):
            raise SystemExit('%s: a ReLU6 whose inputs never pass 6 (%s)' % (name, clipped))
        record['relu6Inputs'] = [{'above6': above, 'total': total} for above, total in clipped]
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(record, f, separators=(',', ':'))
        f.write('\n')
    print('%s: %d redraws, float32 worst %.2g' % (name, k, worst))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for index, (name, (model, shape)) in enumerate(make_models().items()):
        make(name, model, shape, index)


if __name__ == '__main__':
    main()
