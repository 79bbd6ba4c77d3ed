"""Single-flip effects: which decisions float32 rounding could take the other
way, and how much one such flipped decision changes a gradient or VarGrad map
(computed in float64 by giving that decision the derivative of the other
side of its kink)."""

import copy
import sys

import numpy as np
import torch
import torch.nn as nn

from .kinks import is_piecewise, kinks_of, max_pool_windows, recorded_forward
from .references import input_gradient
from .stability import MAX_DRAWS, in_float32_orders

# A decision is a candidate when its kink margin is below FLIP_REACH times how
# far PyTorch's float32 moves that layer's input (the largest over its three
# evaluation orders). 3, because other float32 kernels round differently:
# onnxruntime-node and -web's wasm flipped mobilenet_v2 ReLU6s at 0.01 to 0.19
# of that reach, PyTorch none.
FLIP_REACH = 3
# search_flip_free keeps the first draw whose largest single-flip effect is at
# most this fraction of the map's max |value|: with float32 rounding (up to
# 4e-5 on efficientnet_b0's VarGrad) it stays inside the tests' 1e-4.
FLIP_FREE = 3e-5


def piecewise_inputs(model, x):
    """The input z of every call of a piecewise module in one forward pass of
    x, in call order (a module called twice, like ResNet's BasicBlock.relu,
    gives two entries)."""
    zs = []
    handles = [m.register_forward_pre_hook(lambda module, inputs: zs.append(inputs[0].detach().clone()))
               for m in model.modules() if is_piecewise(m)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return zs


def float32_reach(model32, model64, x32, x64):
    """Per call of a piecewise module, how far float32 rounding moves its input:
    the largest |z32 - z64| / max |z64| over the samples (max |z64| per sample)
    and the three float32 orders of the stability check. It grows with depth
    (mobilenet_v2: 2.5e-7 at the first ReLU6, 1.5e-5 at the last)."""
    z64 = piecewise_inputs(model64, x64)
    orders = in_float32_orders(model32, x32, lambda m, x, rows: piecewise_inputs(m, x))
    reach = []
    for call, z in enumerate(z64):
        flat = z.reshape(len(z), -1)
        scale = flat.abs().max(dim=1).values.clamp(min=torch.finfo(z.dtype).tiny)
        reach.append(max(((zs[call].double().reshape(len(z), -1) - flat).abs().max(dim=1).values / scale)
                         .max().item() for zs in orders))
    return reach


def flip_candidates(model64, x64, reach):
    """The decisions a float32 implementation could take the other way: (sample,
    call, decision) whose kink margin is below FLIP_REACH times that call's
    float32 reach (relative to the sample's max |z|, as the reach is). A
    MaxPool gap is a difference of two rounded inputs, so its reach is twice."""
    rec = recorded_forward(model64, x64)
    found = []
    for call, (_, margins, scale, module) in enumerate(rec.calls):
        pool = 2 if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)) else 1
        limit = FLIP_REACH * pool * reach[call] * scale
        found += [(sample, call, decision)
                  for sample, decision in (margins < limit.unsqueeze(1)).nonzero().tolist()]
    return found


def elementwise_derivative(module, v):
    """d module(v) / d v, elementwise, by autograd of the module itself."""
    v = v.detach().requires_grad_(True)
    with torch.enable_grad():
        (d,) = torch.autograd.grad(module.forward(v).sum(), v)
    return d


class DerivativeFlips:
    """Forward hooks on every piecewise module of a float64 model (no in-place
    modules) that give chosen decisions the derivative of the other side of
    their kink, leaving every forward value as it is: picks[call] lists (row,
    decision) pairs. For an elementwise module the output gains (d_other -
    d_here) * (z - z.detach()) at the decision, which is 0 but has that
    derivative; for a MaxPool window the derivative moves from its top cell to
    the runner-up. Flipping one decision per row of a batch gives, row by row,
    the input gradient a float32 run that took that one decision the other way
    would approach."""

    def __init__(self, model):
        self.picks = {}
        self.calls = 0
        self.handles = [m.register_forward_hook(self._hook) for m in model.modules() if is_piecewise(m)]

    def _hook(self, module, inputs, output):
        call = self.calls
        self.calls += 1
        picks = self.picks.get(call)
        if not picks:
            return None
        z = inputs[0]
        if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)):
            windows = max_pool_windows(module, z)
            order = windows.detach().topk(2, dim=-1).indices
            top = windows.gather(-1, order[..., :1]).squeeze(-1)
            second = windows.gather(-1, order[..., 1:]).squeeze(-1)
            shift = (second - second.detach()) - (top - top.detach())
        else:
            flat = z.detach().reshape(len(z), -1)
            kinks = torch.tensor(kinks_of(module), dtype=z.dtype)
            kink = kinks[(flat.unsqueeze(-1) - kinks).abs().argmin(dim=-1)]
            step = 1e-9 * kink.abs().clamp(min=1)
            here = elementwise_derivative(module, flat)
            below = elementwise_derivative(module, kink - step)
            above = elementwise_derivative(module, kink + step)
            other = torch.where(flat < kink, above,
                                torch.where(flat > kink, below, torch.where(here == below, above, below)))
            shift = (other - here) * (z - z.detach()).reshape(len(z), -1)
        mask = torch.zeros(shift.shape, dtype=torch.bool)
        rows, decisions = zip(*picks)
        mask[list(rows), list(decisions)] = True
        return output + torch.where(mask, shift, torch.zeros_like(shift)).reshape(output.shape)

    def close(self):
        for h in self.handles:
            h.remove()


def single_flip_changes(model_flip, x64, targets, candidates, chunk=32):
    """The float64 input gradients of x64 (target logits), and for each
    candidate (sample, call, decision) how that sample's gradient changes when
    that decision alone takes the other side's derivative: [candidates, ...].
    The candidates are the rows of batches of `chunk`."""
    base, _ = input_gradient(model_flip, x64, targets)
    changes = [torch.zeros((0,) + tuple(x64.shape[1:]), dtype=x64.dtype)]
    for start in range(0, len(candidates), chunk):
        part = candidates[start:start + chunk]
        rows = torch.tensor([sample for sample, _, _ in part])
        flips = DerivativeFlips(model_flip)
        for row, (_, call, decision) in enumerate(part):
            flips.picks.setdefault(call, []).append((row, decision))
        try:
            flipped, _ = input_gradient(model_flip, x64[rows], targets[rows])
        finally:
            flips.close()
        changes.append(flipped - base[rows])
    return base, torch.cat(changes)


def flip_effect_on_gradient(model32, model64, model_flip, x32, x64, targets):
    """(the largest single-flip change of the gradient map of x64, relative to
    the map's max |value|; the number of candidate decisions)."""
    candidates = flip_candidates(model64, x64, float32_reach(model32, model64, x32, x64))
    if not candidates:
        return 0.0, 0
    base, changes = single_flip_changes(model_flip, x64, targets, candidates)
    return (changes.abs().max() / base.abs().max()).item(), len(candidates)


def flip_effect_on_vargrad(model32, model64, model_flip, noisy32, noisy64, targets, num_samples,
                           sample_gradient=False):
    """(the largest change of the VarGrad map that one flipped decision in one
    noisy sample makes, relative to the map's max |value|; the number of
    candidate decisions). noisy* are [B * N, ...] (N = num_samples), targets per sample. With
    sample_gradient, also the largest change of that sample's gradient,
    relative to the max |value| of the noisy gradients' mean (the bound the
    test puts on a one-sample correction)."""
    candidates = flip_candidates(model64, noisy64, float32_reach(model32, model64, noisy32, noisy64))
    base, changes = single_flip_changes(model_flip, noisy64, targets, candidates)
    grads = base.reshape((-1, num_samples) + tuple(noisy64.shape[1:]))
    vargrad = grads.var(dim=1, unbiased=False)
    scale = vargrad.abs().max()
    largest = 0.0
    for (sample, _, _), change in zip(candidates, changes):
        example, n = divmod(sample, num_samples)
        flipped = grads[example].clone()
        flipped[n] += change
        largest = max(largest, ((flipped.var(dim=0, unbiased=False) - vargrad[example]).abs().max() / scale).item())
    if not sample_gradient:
        return largest, len(candidates)
    gradient_change = (changes.abs().max() / grads.mean(dim=1).abs().max()).item() if candidates else 0.0
    return largest, len(candidates), gradient_change


def without_inplace(model64):
    """A copy of model64 whose modules do not overwrite their inputs (the same
    values; DerivativeFlips' forward hooks need each module's input)."""
    model = copy.deepcopy(model64)
    for m in model.modules():
        if getattr(m, 'inplace', False):
            m.inplace = False
    return model


def search_flip_free(what, name, tolerance, draw, effect_of):
    """make-fixtures.py's --search-flip-free mode: draws k = 0, 1, ... as stable_draw does and,
    for each float32-stable one, effect_of(result) -> (largest single-flip
    effect, candidates); prints them and returns (k, True) for the first k
    whose effect is at most FLIP_FREE. If none of the MAX_DRAWS draws is,
    prints the distribution of the effects and returns (k, False) for the
    stable draw with the smallest effect (the smallest flipAllowance)."""
    effects = {}
    for k in range(MAX_DRAWS):
        result, ratios = draw(k)
        if ratios.max().item() > tolerance:
            print('  %s %s draw %2d: not float32-stable' % (name, what, k), flush=True)
            continue
        effect, candidates = effect_of(result)
        effects[k] = effect
        print('  %s %s draw %2d: %3d candidates, largest single-flip effect %.2g'
              % (name, what, k, candidates, effect), flush=True)
        if effect <= FLIP_FREE:
            return k, True
    if not effects:
        sys.exit('%s: no float32-stable %s in %d draws' % (name, what, MAX_DRAWS))
    q = np.quantile(list(effects.values()), [0, 0.25, 0.5, 0.75, 1])
    print('  %s: no flip-free %s in %d draws; largest single-flip effect over the %d stable ones: '
          'min %.2g, quartiles %s, max %.2g' % (name, what, MAX_DRAWS, len(effects), q[0],
                                                  '/'.join('%.2g' % v for v in q[1:4]), q[4]), flush=True)
    return min(effects, key=effects.get), False
