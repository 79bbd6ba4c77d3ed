"""Float32 stability: how far PyTorch's float32 input gradient is from the
float64 one over several float32 evaluation orders, and the redraw loop that
keeps the first draw (of a batch, or of noise) whose samples are all stable."""

import copy
import sys

import torch

from .references import input_gradient

MAX_DRAWS = 50  # draws of the batch, and of the noise, before giving up


def float32_instability(model32, model64, x32, x64, targets):
    """Per sample, max |g32 - g64| / max |g64|: how far PyTorch's float32 input
    gradient of the target logit (model32 at the float32 values x32) is from
    the float64 one (model64 at x64), the largest over three float32
    evaluation orders -- the whole batch at once, one sample at a time, and
    (images) channels-last -- which round differently, as other float32
    implementations do. x64 is what the reference computes with; x32 is what
    a float32 implementation sees (for a noisy sample, the float32 sum of
    input and noise). A sample whose float64 gradient is all zero gets inf (it
    is of no use as a fixture)."""
    g64, _ = input_gradient(model64, x64, targets)
    g64 = g64.reshape(len(x64), -1)
    scale = g64.abs().max(dim=1).values
    variants = in_float32_orders(model32, x32, lambda m, x, rows: [input_gradient(m, x, targets[rows])[0]])
    ratio = torch.stack([(g32.double().reshape(len(x32), -1) - g64).abs().max(dim=1).values
                         for (g32,) in variants]).max(dim=0).values / scale
    return torch.where(scale > 0, ratio, torch.full_like(ratio, float('inf')))


def in_float32_orders(model32, x32, run):
    """run(model, x, rows) -> a list of tensors, batch axis first, for the
    examples x = x32[rows]; evaluated in the three float32 orders of the
    stability check: the whole batch at once, one sample at a time (results
    concatenated), and (images) channels-last. One such list per order."""
    results = [run(model32, x32, slice(None)),
               [torch.cat(parts) for parts in zip(*[run(model32, x32[i:i + 1], slice(i, i + 1))
                                                    for i in range(len(x32))])]]
    if x32.dim() == 4:
        model_cl = copy.deepcopy(model32).to(memory_format=torch.channels_last)
        results.append(run(model_cl, x32.contiguous(memory_format=torch.channels_last), slice(None)))
    return results


def stable_draw(what, name, tolerance, draw, first=0):
    """Calls draw(k) for k = first, first + 1, ... until its samples are
    float32-stable (every ratio from float32_instability at most tolerance),
    up to k = MAX_DRAWS - 1. draw(k) returns (result, per-sample ratios).
    Returns the first stable result, its worst ratio and its k (the number of
    redraws); exits if none of those draws is stable."""
    seen = []
    for k in range(first, MAX_DRAWS):
        result, ratios = draw(k)
        worst = ratios.max().item()
        if worst <= tolerance:
            return result, worst, k
        seen.append(worst)
    sys.exit('%s: no float32-stable %s in %d draws (worst ratio per draw, tolerance %g: %s)'
             % (name, what, MAX_DRAWS, tolerance, ' '.join('%.2g' % w for w in seen)))
