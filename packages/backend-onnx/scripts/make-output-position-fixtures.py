#!/usr/bin/python3
"""Fixtures for the option outputPosition: two small models whose output is not
[B, K] logits, with PyTorch float64 autograd references at positions of it.

What it makes
-------------
Under test/fixtures/output-position/ (models/ is git-ignored, the reference
JSON is committed):

  sequence   a recogniser-like model, input [B, 3, 8, 16]: Conv 3x3 -> Tanh ->
             Conv with an 8x1 kernel (the height folded away) -> Tanh ->
             [B, T = 16, 6] -> Linear to K = 5 -> Softmax over K: output
             [B, T, K] of probabilities, as PaddleOCR's recogniser gives.
  dense      a detector-like model, input [B, 3, 12, 12]: Conv 3x3 -> ReLU ->
             Conv 1x1 to 2 channels -> Sigmoid: output [B, 2, 12, 12].

The references are of the logits (the input of the final Softmax or Sigmoid,
which the backend leaves out by default), at each position in POSITIONS (one
fixed index, one range averaged), in float64 on the float32 weights: inputShape,
input (float32 values), and per position: position (as the option takes it),
targets, logits ([B, K] at the position), gradient (of each row's target logit
at the position, with respect to the input).

How to run
----------
    /usr/bin/python3 packages/backend-onnx/scripts/make-output-position-fixtures.py
    /usr/bin/python3 packages/backend-onnx/scripts/make-output-position-fixtures.py --models-only

--models-only (what scripts/ensure-fixtures.mjs runs on a fresh clone) makes
only the models, after checking that the model built now gives the committed
reference's logits. Needs Debian's python3-torch (1.13) and python3-onnx;
seconds on 2 CPU cores.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'python'))
from saliency_reference.export import export_onnx  # noqa: E402
from saliency_reference.reference_json import float32_text, float64_text  # noqa: E402

OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'output-position')
MODELS_DIR = os.path.join(OUT, 'models')
SEED = 20261205
MODELS_ONLY = '--models-only' in sys.argv


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 6, (8, 1))
        self.fc = nn.Linear(6, 5)

    def logits(self, x):
        h = torch.tanh(self.c2(torch.tanh(self.c1(x))))  # [B, 6, 1, T]
        return self.fc(h.squeeze(2).transpose(1, 2))  # [B, T, K]

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=2)


class Dense(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 2, 1)

    def logits(self, x):
        return self.c2(torch.relu(self.c1(x)))  # [B, 2, H, W]

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


# name -> (model class, input shape, positions); a position as the option takes it.
CASES = {
    'sequence': (Sequence, [2, 3, 8, 16], [[3, None], [[4, 9], None]]),
    'dense': (Dense, [2, 3, 12, 12], [[None, 5, 7], [None, [2, 6], [3, 11]]]),
}


def at_position(logits, position):
    """[B, K] from the logits: each fixed axis at its index, each range averaged."""
    for axis in range(len(position), 0, -1):
        entry = position[axis - 1]
        if entry is None:
            continue
        start, end = (entry, entry + 1) if isinstance(entry, int) else entry
        logits = logits.narrow(axis, start, end - start).mean(dim=axis)
    return logits


def make(name):
    make_model, shape, positions = CASES[name]
    torch.manual_seed(SEED)
    model32 = make_model().eval()
    model64 = make_model().double().eval()
    model64.load_state_dict({k: v.double() for k, v in model32.state_dict().items()})
    path = os.path.join(OUT, '%s.json' % name)
    if MODELS_ONLY:
        ref = json.load(open(path))
        x32 = torch.tensor(np.asarray(ref['input'], dtype=np.float32)).reshape(ref['inputShape'])
        for committed in ref['positions']:
            with torch.no_grad():
                logits = at_position(model64.logits(x32.double()), committed['position']).ravel()
            expected = torch.tensor(committed['logits'], dtype=torch.float64)
            deviation = ((logits - expected).abs().max() / expected.abs().max()).item()
            if deviation > 1e-8:
                sys.exit('%s: the model built here is not the committed reference\'s (logits at %s %.2g off, relative): '
                         'run without --models-only' % (name, committed['position'], deviation))
            print('%-9s committed reference at %s: float64 logits within %.2g' % (name, committed['position'], deviation))
    else:
        x32 = torch.randn(shape, generator=torch.Generator().manual_seed(SEED + 1))
        entries = []
        for position in positions:
            x = x32.double().requires_grad_(True)
            logits = at_position(model64.logits(x), position)
            targets = logits.argmax(dim=1)
            (gradient,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), x)
            entries.append('{ "position": %s, "targets": %s, "logits": [%s], "gradient": [%s] }' % (
                json.dumps(position), json.dumps(targets.tolist()), float64_text(logits.detach()), float64_text(gradient)))
        with open(path, 'w') as f:
            f.write('{\n  "model": "%s.onnx",\n  "inputShape": %s,\n  "input": [%s],\n  "positions": [\n    %s\n  ]\n}\n' % (
                name, json.dumps(shape), float32_text(x32), ',\n    '.join(entries)))
    export_onnx(model32, x32, os.path.join(MODELS_DIR, '%s.onnx' % name))


if __name__ == '__main__':
    torch.use_deterministic_algorithms(True)
    os.makedirs(MODELS_DIR, exist_ok=True)
    for name in CASES:
        make(name)
