"""Reference batches and float64 autograd: which examples a fixture holds and the
input gradient of a target logit."""

import copy

import torch

BATCH = 2  # examples per reference batch


def pick_batch(model, example_shape, generator, candidates=32):
    """BATCH examples out of `candidates` seeded normal draws: first the one whose
    top logit leads the runner-up by the widest margin (relative to its largest
    |logit|), then, in the same order, ones whose argmax differs from those
    already picked (so that the batch has different targets) while there are
    any. A wide margin keeps the argmax the same in float32 and float64."""
    pool = torch.randn([candidates] + example_shape, generator=generator)
    with torch.no_grad():
        logits = copy.deepcopy(model).double()(pool.double())
    top2 = logits.topk(2, dim=1).values
    margin = (top2[:, 0] - top2[:, 1]) / logits.abs().max(dim=1).values
    order = margin.argsort(descending=True).tolist()
    classes = logits.argmax(dim=1).tolist()
    picked = []
    for i in order:
        if len(picked) < BATCH and classes[i] not in {classes[j] for j in picked}:
            picked.append(i)
    for i in order:
        if len(picked) < BATCH and i not in picked:
            picked.append(i)
    return pool[picked].clone()


def input_gradient(model, x, targets):
    """d model(x)[b, targets[b]] / d x[b] for every b, and the logits."""
    x = x.detach().clone().requires_grad_(True)
    logits = model(x)
    selected = logits.gather(1, targets.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(selected, x)
    return grad.detach(), logits.detach()
