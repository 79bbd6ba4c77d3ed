#!/usr/bin/python3
"""VarGrad in PyTorch, timed the two ways the benchmark compares against.

  loop     one forward and one backward per noisy sample, the parameters
           requiring gradients (so each backward also computes every weight
           gradient): what SignXAI's PyTorch VarGrad does;
  batched  all N noisy samples in one batch, parameters frozen, input
           gradients only (torch.autograd.grad of the summed target logits).

VarGrad(x) = (1/N) sum_i (g_i - mean g)^2, g_i the input gradient of the
target logit at x + eps_i, eps_i ~ N(0, 1); the target is the argmax of the
clean input's logits (one forward, in both ways, as in ours).

The models are those of packages/backend-onnx/scripts/make-fixtures.py,
built by python/saliency_reference.models with the same seeds, so they are
the networks of the ONNX files (BatchNorm stays a layer here, where the exporter folded it into the
Conv: a little more work for PyTorch).

On a GPU ("device": "cuda") every timed call ends with torch.cuda.synchronize().

Usage (prints one line "RESULT <json>"):
  /usr/bin/python3 vargrad_torch.py '{"model": "resnet18", "kind": "time", "numSamples": [16, 64], "threads": 2}'
  /usr/bin/python3 vargrad_torch.py '{"model": "mlp", "kind": "memory", "numSamples": 1024, "batchSize": 16, "threads": 2}'
"""
import importlib.util
import json
import os
import resource
import statistics
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The shared reference tooling: python/saliency_reference at the repository root.
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', '..', 'python'))

from saliency_reference.models import fixture_model as seeded_fixture_model  # noqa: E402
from saliency_reference.models import calibrate_batchnorm  # noqa: E402

SHAPES = {'mlp': [20], 'cnn1d': [12, 128], 'resnet18': [3, 224, 224], 'depthwise_separable': [3, 64, 64]}
# Models defined by the parity fixtures rather than by make-fixtures.py.
PARITY_SCRIPT = os.path.join(HERE, '..', '..', '..', 'parity', 'fixtures', 'make-parity-fixtures.py')
PARITY_MODELS = {'depthwise_separable'}


def parity_fixtures():
    """apps/parity/fixtures/make-parity-fixtures.py as a module (a script, not a package: its models are its own)."""
    spec = importlib.util.spec_from_file_location('make_parity_fixtures', PARITY_SCRIPT)
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    return fixtures


def fixture_model(name):
    """The fixture model `name`, made as its fixture script makes it (same seed, same BatchNorm calibration)."""
    if name not in PARITY_MODELS:
        return seeded_fixture_model(name)[0]
    fixtures = parity_fixtures()
    make_model, example_shape, _ = fixtures.MODELS[name]
    seed = fixtures.SEED + 1000 * list(fixtures.MODELS).index(name)
    torch.manual_seed(seed)
    model = make_model()
    calibrate_batchnorm(model, example_shape, torch.Generator().manual_seed(seed + 1))
    return model.eval()


def example(shape, device):
    size = 1
    for d in shape:
        size *= d
    i = torch.arange(size, dtype=torch.float64)
    return torch.sin(0.37 * i + 0.1).float().reshape([1] + shape).to(device)


def target_of(model, x):
    with torch.no_grad():
        return int(model(x).argmax(dim=1)[0])


def vargrad_loop(model, x, n, generator):
    """SignXAI's way: per sample a forward and a backward with weight gradients."""
    for p in model.parameters():
        p.requires_grad_(True)
    target = target_of(model, x)
    grads = []
    for _ in range(n):
        noisy = (x + torch.randn(x.shape, generator=generator, device=x.device)).requires_grad_(True)
        model.zero_grad()
        out = model(noisy)
        out[0, target].backward()
        grads.append(noisy.grad.detach())
    return torch.cat(grads).var(dim=0, unbiased=False)


def vargrad_batched(model, x, n, generator, batch_size=None):
    """All samples in batches of batch_size (default: one batch), input gradients only.
    Across batches the moments are merged as running sums (float64)."""
    for p in model.parameters():
        p.requires_grad_(False)
    target = target_of(model, x)
    batch_size = batch_size or n
    total = torch.zeros(x.shape[1:], dtype=torch.float64, device=x.device)
    total_sq = torch.zeros(x.shape[1:], dtype=torch.float64, device=x.device)
    for start in range(0, n, batch_size):
        rows = min(batch_size, n - start)
        noisy = (x + torch.randn((rows,) + tuple(x.shape[1:]), generator=generator, device=x.device)).requires_grad_(True)
        (grad,) = torch.autograd.grad(model(noisy)[:, target].sum(), noisy)
        total += grad.double().sum(dim=0)
        total_sq += (grad.double() ** 2).sum(dim=0)
    mean = total / n
    return (total_sq / n - mean ** 2).float()


def timed(call, max_repeats=30, budget_s=3.0, device='cpu'):
    """One warm-up call, then repeats until max_repeats or budget_s (at least one); median and min in ms."""
    def run():
        call()
        if device != 'cpu':
            torch.cuda.synchronize()

    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    times = []
    begin = time.perf_counter()
    while not times or (len(times) < max_repeats and time.perf_counter() - begin + statistics.median(times) < budget_s):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {'medianMs': statistics.median(times) * 1e3, 'minMs': min(times) * 1e3, 'repeats': len(times), 'firstMs': first * 1e3}


def transfers(call, device):
    """Host<->device bytes of one call. On a GPU: the memcpy records (Memcpy HtoD / DtoH, with
    their byte counts) of PyTorch's profiler trace. On the CPU there is no device: None."""
    if device == 'cpu':
        return None
    counts = {'uploadBytes': 0, 'uploads': 0, 'downloadBytes': 0, 'downloads': 0}
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        call()
        torch.cuda.synchronize()
    with tempfile.TemporaryDirectory() as folder:
        trace = os.path.join(folder, 'trace.json')
        prof.export_chrome_trace(trace)
        with open(trace) as f:
            loaded = json.load(f)
    # a list of events in older PyTorch releases, an object with traceEvents in newer ones
    events = loaded['traceEvents'] if isinstance(loaded, dict) else loaded
    for event in events:
        if event.get('cat') != 'gpu_memcpy':
            continue
        kind = 'upload' if 'HtoD' in event.get('name', '') else 'download' if 'DtoH' in event.get('name', '') else None
        if kind:
            counts[kind + 'Bytes'] += int(event.get('args', {}).get('bytes', 0))
            counts[kind + 's'] += 1
    return counts


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main(spec):
    threads = spec.get('threads', 2)
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    name, kind = spec['model'], spec['kind']
    device = spec.get('device', 'cpu')
    timing = dict(spec.get('timing', {}), device=device)
    model = fixture_model(name).to(device)
    x = example(SHAPES[name], device)
    where = 'CUDA, %s' % torch.cuda.get_device_name() if device != 'cpu' else 'CPU'
    result = {'engine': 'pytorch', 'model': name, 'kind': kind, 'threads': torch.get_num_threads(),
              'runtime': 'PyTorch %s (%s)' % (torch.__version__, where), 'exampleShape': SHAPES[name]}
    generator = torch.Generator(device=device).manual_seed(1)
    if kind == 'memory':
        setup = peak_mib()
        start = time.perf_counter()
        vargrad_batched(model, x, spec['numSamples'], generator, spec['batchSize'])
        result.update({'numSamples': spec['numSamples'], 'batchSize': spec['batchSize'], 'ms': (time.perf_counter() - start) * 1e3,
                       'setupPeakMiB': setup, 'peakMiB': peak_mib()})
    else:
        result['cases'] = []
        for n in spec['numSamples']:
            rows = x.repeat(n, *([1] * (x.dim() - 1)))
            entry = {'numSamples': n}
            entry['loop'] = timed(lambda: vargrad_loop(model, x, n, generator), **timing)
            entry['vargrad'] = timed(lambda: vargrad_batched(model, x, n, generator), **timing)

            def forward():
                with torch.no_grad():
                    model(rows)

            def gradient():
                noisy = rows.clone().requires_grad_(True)
                torch.autograd.grad(model(noisy)[:, 0].sum(), noisy)

            entry['forward'] = timed(forward, **timing)
            entry['gradient'] = timed(gradient, **timing)
            entry['transfers'] = transfers(lambda: vargrad_batched(model, x, n, generator), device)
            result['cases'].append(entry)
        result['peakMiB'] = peak_mib()
    print('RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    main(json.loads(sys.argv[1]))
