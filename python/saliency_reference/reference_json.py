"""The reference JSON files' number formatting and layout."""

import json
import math

import numpy as np


def round_up(v):
    """v rounded up to 2 significant digits (an allowance must not shrink)."""
    if v <= 0:
        return 0.0
    unit = 10.0 ** (math.floor(math.log10(v)) - 1)
    return float('%.2g' % (math.ceil(v / unit - 1e-9) * unit))


def three_digits(v):
    """v with 3 significant digits for the JSON, None for inf (no decision)."""
    return None if v == float('inf') else float('%.3g' % v)


def float32_text(values):
    """The shortest decimal of each float32 that reads back as that float32."""
    return ','.join(np.format_float_positional(v, unique=True, trim='-')
                    if 1e-4 <= abs(v) < 1e4 or v == 0
                    else np.format_float_scientific(v, unique=True, trim='-')
                    for v in np.asarray(values, dtype=np.float32).ravel())


def float64_text(values):
    """Each value with 9 significant digits."""
    return ','.join('%.9g' % v for v in np.asarray(values, dtype=np.float64).ravel())


def write_reference(path, ref):
    """JSON with one key per line and every array on a single line."""
    lines = []
    for key, value in ref.items():
        if key == 'noise':
            inner = ', '.join('%s: %s' % (json.dumps(k), v if k == 'values' else json.dumps(v))
                              for k, v in value.items())
            text = '{ %s }' % inner
        elif key in ('input', 'logits', 'gradient', 'vargrad', 'noisyMean'):
            text = value
        else:
            text = json.dumps(value)
        lines.append('  %s: %s' % (json.dumps(key), text))
    with open(path, 'w') as f:
        f.write('{\n' + ',\n'.join(lines) + '\n}\n')
