"""PyTorch reference tooling shared by the fixture generators, the parity
fixtures and the benchmark's PyTorch timings.

Modules:
  models          the reference networks and how each is built from its seed
  references      the reference batch and float64 input gradients
  stability       float32-stability of a draw and the redraw loop
  kinks           kink margins of piecewise modules (ReLU, MaxPool, ...)
  flips           single-flip effects: what one decision taken the other way
                  by float32 rounding changes in a map
  export          the ONNX export every fixture uses, and a file summary
  reference_json  the reference files' number formatting and layout
  library_noise   @saliency/core's seeded standard normals, run in Node
  training        the training loop of the bundled example classifiers (examples/*/train.py)

Scripts add this folder's parent (the repository's python/) to sys.path and
import from here. The names most scripts need are re-exported below.
"""

from .models import calibrate_batchnorm
from .reference_json import float32_text, float64_text
from .references import BATCH, input_gradient, pick_batch
from .stability import float32_instability, stable_draw

__all__ = ['BATCH', 'calibrate_batchnorm', 'float32_instability', 'float32_text', 'float64_text', 'input_gradient',
           'pick_batch', 'stable_draw']
