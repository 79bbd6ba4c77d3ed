"""Kink margins: for every piecewise module (ReLU, ReLU6/Hardtanh, MaxPool, ...)
of a float64 model, how close each decision (which side of a kink an input
lies, which cell of a pooling window wins) is to going the other way."""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Recorded, not enforced: decisions whose float64 input lies within this
# fraction of its layer's max |z| of a kink are within reach of float32
# rounding (2e-6 to 2e-5 of max |z| at the kink inputs, measured with
# PyTorch float32).
KINK_NEAR = 1e-5


# Module types whose output is piecewise: each kink is a value of the input
# where the derivative jumps. Hardtanh covers ReLU6 (its subclass) and Clip.
def kinks_of(module):
    """The kinks of an elementwise piecewise module (input values where its
    derivative jumps), or None if the module is not one."""
    if isinstance(module, nn.ReLU):
        return (0.0,)
    if isinstance(module, nn.Hardtanh):  # ReLU6 = Hardtanh(0, 6): the Clip of the ONNX file
        return (float(module.min_val), float(module.max_val))
    if isinstance(module, (nn.Hardswish, nn.Hardsigmoid)):  # x * relu6(x + 3) / 6, relu6(x + 3) / 6
        return (-3.0, 3.0)
    return None


# Piecewise modules with no margin rule here: a model using one stops the
# script rather than getting an unchecked fixture.
UNHANDLED_KINKED = (nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.Threshold, nn.Hardshrink, nn.Softshrink,
                    nn.MaxPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
                    nn.FractionalMaxPool2d, nn.FractionalMaxPool3d, nn.LPPool1d, nn.LPPool2d, nn.MaxUnpool2d)


def _tuple(v, dims):
    """A pooling parameter as a tuple of one value per spatial axis."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * dims


def max_pool_windows(module, z):
    """The windows of MaxPool1d/2d `module` on z [B, C, *spatial] as
    [B, windows, cells] (windows in the order of the output, flattened per
    example), padding cells -inf as in PyTorch; differentiable in z."""
    if module.ceil_mode:
        sys.exit('max_pool_windows: ceil_mode is not handled')
    dims = z.dim() - 2
    kernel, stride, padding, dilation = (_tuple(module.kernel_size, dims),
                                         _tuple(module.stride or module.kernel_size, dims),
                                         _tuple(module.padding, dims), _tuple(module.dilation, dims))
    windows = F.pad(z, [p for p in reversed(padding) for _ in (0, 1)], value=float('-inf'))
    for d in range(dims):  # [B, C, *out, *window span]
        windows = windows.unfold(2 + d, dilation[d] * (kernel[d] - 1) + 1, stride[d])
    for d in range(dims):  # every dilation-th cell of each window axis
        axis = 2 + dims + d
        windows = windows.index_select(axis, torch.arange(0, windows.shape[axis], dilation[d]))
    return windows.reshape(z.shape[0], -1, int(np.prod(kernel)))


def max_pool_gaps(module, z):
    """Per window of MaxPool1d/2d `module` on z [B, C, *spatial]: top value minus
    runner-up (the window's tie margin), flattened per example -> [B, windows].
    Padding is -inf as in PyTorch (a padded cell is never picked; a window with
    one real cell has an infinite gap). A window whose top two are both exactly
    0 on an input >= 0 (every MaxPool here follows a ReLU) gets an infinite gap:
    those zeros are ReLUs in their flat region, kept away from their kink by the
    ReLU margin, so whichever one a runtime picks passes a zero gradient."""
    windows = max_pool_windows(module, z)
    top2 = windows.topk(2, dim=-1).values
    gap = top2[..., 0] - top2[..., 1]
    harmless = (top2[..., 0] == 0) & (top2[..., 1] == 0) & (z.min() >= 0)
    gap = torch.where(harmless | torch.isnan(gap), torch.full_like(gap, float('inf')), gap)
    return gap


def is_piecewise(module):
    """Whether `module` takes piecewise decisions that decision_margins measures."""
    return kinks_of(module) is not None or isinstance(module, (nn.MaxPool1d, nn.MaxPool2d))


def decision_margins(module, z):
    """|distance to the nearest kink| of every decision `module` takes on its
    input z, per example: [B, decisions]; None if the module takes none."""
    kinks = kinks_of(module)
    if kinks is not None:
        flat = z.reshape(z.shape[0], -1)
        return torch.stack([(flat - k).abs() for k in kinks]).min(dim=0).values
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)):
        return max_pool_gaps(module, z)
    return None


class KinkRecorder:
    """Forward pre-hooks on every piecewise module of a model: on each forward
    it records, per call, (module path, decision margins [B, decisions], input
    scale max|z| [B], the module). Pre-hooks, because ReLU(inplace=True)
    overwrites its input before a forward hook sees it. Only modules are seen:
    a functional F.relu / torch.clamp / F.max_pool2d call would go unchecked;
    none of the models here has one (torchvision 0.14's ResNet, VGG,
    MobileNetV2/V3 and EfficientNet use nn.ReLU, nn.ReLU6, nn.Hardswish,
    nn.Hardsigmoid, nn.MaxPool2d modules), and the float32-vs-float64 gradient
    check would still catch a flip PyTorch's float32 itself makes there."""

    def __init__(self, model):
        self.calls = []
        self.handles = []
        for path, module in model.named_modules():
            if isinstance(module, UNHANDLED_KINKED):
                sys.exit('%s (%s): no kink-margin rule for this module type' % (path, type(module).__name__))
            if is_piecewise(module):
                self.handles.append(module.register_forward_pre_hook(self._hook(path)))

    def _hook(self, path):
        def hook(module, inputs):
            z = inputs[0].detach()
            margins = decision_margins(module, z)
            scale = z.reshape(z.shape[0], -1).abs().max(dim=1).values
            self.calls.append((path, margins, scale, module))
        return hook

    def close(self):
        for h in self.handles:
            h.remove()



def recorded_forward(model64, x64):
    """A KinkRecorder holding every piecewise decision of one float64 forward pass of x64."""
    rec = KinkRecorder(model64)
    try:
        with torch.no_grad():
            model64(x64)
    finally:
        rec.close()
    return rec

def kink_margins(model64, x64):
    """Per example of x64: the smallest relative kink margin over every piecewise
    decision of the float64 forward pass, min |z - kink| / max |z| (MaxPool:
    top-2 gap / max |z|), z being that layer's input for that example; inf if
    the model takes no such decision. Also the layer where it occurs, and how
    many decisions have a relative margin below KINK_NEAR."""
    rec = recorded_forward(model64, x64)
    best = torch.full([len(x64)], float('inf'), dtype=torch.float64)
    where = [''] * len(x64)
    near = torch.zeros(len(x64), dtype=torch.long)
    for path, margins, scale, _ in rec.calls:
        near += (margins < KINK_NEAR * scale.unsqueeze(1)).sum(dim=1)
        rel = margins.min(dim=1).values / scale
        for b in range(len(x64)):
            if rel[b] < best[b]:
                best[b] = rel[b]
                where[b] = path
    return best, where, near
