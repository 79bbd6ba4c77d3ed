#!/usr/bin/python3
"""Fixtures for models of several inputs and for attribution at a tensor
(docs/methods.md, "Attribution at a tensor"), with PyTorch autograd references
in float64.

What it makes (paths relative to packages/backend-onnx/test/fixtures/text/)
--------------------------------------------------------------------------
  two_input.onnx, two_input.json
      an image [B, 3, 8, 8] and a float vector [B, 4] into 3 logits (conv,
      tanh, mean over positions, concatenated with tanh(linear(vector)),
      linear). Explained at "image" with "vector" fed; the batch of 2 has a
      different vector per example. Reference: logits, the gradient and
      SmoothGrad (NUM_SAMPLES samples of the library's seeded noise) of the
      image, each example with its own vector; the last feature map
      tanh(conv(image)) and the gradient there (layer methods).
  bert.onnx, bert.json
      a small BERT-style classifier (word + position + token-type embeddings,
      LayerNorm, 2 encoder layers of 2 heads with the attention mask added to
      the scores, GELU feed-forward, tanh pooler on the first token, 3
      classes), inputs input_ids, attention_mask, token_type_ids (int64,
      dynamic batch and length). A batch of 2 sentences of 8 tokens, the
      second padded with [PAD] (id 0). References with respect to the
      word-embedding Gather's output a = E[input_ids]: logits, targets, the
      gradient, Gradient x Input, SmoothGrad and VarGrad (the library's
      seeded noise added to a), Integrated Gradients from the zero embedding
      and from the embedding of all-[PAD] ids, and per-token maps (sum and L2
      over the embedding axis) of Gradient x Input and both IGs.
  bert_int8_dynamic.onnx, bert_int8_dynamic.json
      bert.onnx with every MatMul on a weight rewritten as ONNX Runtime's
      dynamic quantizer writes it: DynamicQuantizeLinear on the activation,
      MatMulInteger with the weight per-tensor symmetric int8, Cast, and a Mul
      by the product of the scales. Reference: the same as bert.json, from
      float64 PyTorch on the dequantized weights (dynamic quantization of the
      activations taken as the identity, the model the backend differentiates).

Noise: eps[b, i] = SIGMA * z(seed, b, i, .) in float32, z from @saliency/core's
fillStandardNormal (Philox4x32-10 + Box-Muller), run in Node, as
apps/parity/fixtures/make-parity-fixtures.py gets it; the noisy rows are
a + eps in float32, as the library forms them. The JSON stores the seed and
SIGMA, and the tests pass them to explain. The models are smooth (tanh, GELU,
softmax, LayerNorm): no kink makes float32 and float64 differ beyond rounding.

How to run
----------
    /usr/bin/python3 packages/backend-onnx/scripts/make-text-fixtures.py

Needs Debian's python3-torch (1.13 tested), python3-onnx, numpy, Node with the
workspace's node_modules and a built @saliency/core (packages/core/dist).
A few seconds on 2 CPU cores. The outputs are small and committed.
"""

import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'text')
OPSET = 13
NUM_SAMPLES = 6
IG_STEPS = 16
SIGMA = 0.1
NOISE_SEED = 31
PAD = 0
VOCAB, HIDDEN, HEADS, LAYERS, MAX_LEN, TYPES, CLASSES = 100, 16, 2, 2, 16, 2, 3

torch.manual_seed(1207)
torch.use_deterministic_algorithms(True)

# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


class TwoInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.vec = nn.Linear(4, 5)
        self.out = nn.Linear(11, 3)

    def forward(self, image, vector):
        return self.from_feature_map(torch.tanh(self.conv(image)), vector)

    def from_feature_map(self, feature_map, vector):
        """The model after its last feature map, tanh(conv(image)), the default layer of a layer method."""
        return self.out(torch.cat([feature_map.mean(dim=(2, 3)), torch.tanh(self.vec(vector))], dim=1))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)
        self.ff1, self.ff2 = nn.Linear(HIDDEN, 2 * HIDDEN), nn.Linear(2 * HIDDEN, HIDDEN)

    def heads(self, h):
        return h.view(h.shape[0], h.shape[1], HEADS, HIDDEN // HEADS).transpose(1, 2)

    def forward(self, h, mask_bias):
        q, k, v = self.heads(self.q(h)), self.heads(self.k(h)), self.heads(self.v(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + mask_bias
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(h.shape[0], h.shape[1], HIDDEN)
        h = self.ln1(h + self.o(context))
        return self.ln2(h + self.ff2(nn.functional.gelu(self.ff1(h))))


class TinyBert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_LEN, HIDDEN)
        self.token_type = nn.Embedding(TYPES, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN)
        self.layers = nn.ModuleList(Encoder() for _ in range(LAYERS))
        self.pool = nn.Linear(HIDDEN, HIDDEN)
        self.classifier = nn.Linear(HIDDEN, CLASSES)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.from_embeddings(self.word(input_ids), attention_mask, token_type_ids)

    def from_embeddings(self, a, attention_mask, token_type_ids):
        """The model's remainder h after the word-embedding lookup a = E[input_ids]."""
        length = a.shape[1]
        h = self.ln(a + self.position.weight[:length].unsqueeze(0) + self.token_type(token_type_ids))
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(a.dtype)) * -10000.0
        for layer in self.layers:
            h = layer(h, mask_bias)
        return self.classifier(torch.tanh(self.pool(h[:, 0])))


# ---------------------------------------------------------------------------
# Noise and references
# ---------------------------------------------------------------------------

NOISE_JS = r"""
import { fillStandardNormal } from '@saliency/core';
const [seed, batch, samples, size] = process.argv.slice(1).map(Number);
const out = new Float32Array(batch * samples * size);
for (let b = 0; b < batch; b++)
  for (let i = 0; i < samples; i++)
    fillStandardNormal(out.subarray((b * samples + i) * size, (b * samples + i + 1) * size), seed, b, i);
process.stdout.write(Buffer.from(out.buffer));
"""


def library_noise(batch, example_shape):
    """float32 [batch, NUM_SAMPLES, *example_shape]: SIGMA * z(NOISE_SEED, b, i, .)
    in float32, z from @saliency/core's fillStandardNormal, run in Node."""
    size = int(np.prod(example_shape))
    run = subprocess.run(['node', '--input-type=module', '-e', NOISE_JS, '--', str(NOISE_SEED), str(batch),
                          str(NUM_SAMPLES), str(size)], cwd=HERE, capture_output=True, check=False)
    if run.returncode != 0:
        sys.exit('could not run @saliency/core fillStandardNormal in Node (is packages/core built?):\n'
                 + run.stderr.decode())
    z = np.frombuffer(run.stdout, dtype='<f4').reshape([batch, NUM_SAMPLES] + list(example_shape))
    return torch.from_numpy((z * np.float32(SIGMA)).astype(np.float32))


def gradient_at(f, x64, targets):
    """d f(x)[b, targets[b]] / d x[b] in float64, rows of x64 each with its target."""
    x = x64.detach().clone().requires_grad_(True)
    f(x).gather(1, targets[:, None]).sum().backward()
    return x.grad.detach()


def noisy_references(f, x32, targets, rows_of):
    """SmoothGrad and VarGrad (variance over N) at x + eps, the noisy rows formed in
    float32 as the library forms them; rows_of(b) repeats example b's other inputs."""
    eps = library_noise(x32.shape[0], list(x32.shape[1:]))
    mean, var = [], []
    for b in range(x32.shape[0]):
        noisy = (x32[b:b + 1] + eps[b]).double()
        g = gradient_at(lambda t: f(t, *rows_of(b, NUM_SAMPLES)), noisy, targets[b:b + 1].repeat(NUM_SAMPLES))
        mean.append(g.mean(dim=0))
        var.append(g.var(dim=0, unbiased=False))
    return torch.stack(mean), torch.stack(var)


def integrated_gradients(f, x32, baseline32, targets, rows_of):
    """IG with IG_STEPS right-Riemann points x' + (k/m)(x - x'), k = 1..m, formed in
    float32 as the library forms them, times (x - x') in float64."""
    maps = []
    for b in range(x32.shape[0]):
        x, x0 = x32[b:b + 1], baseline32[b:b + 1]
        alphas = (torch.arange(1, IG_STEPS + 1, dtype=torch.float64) / IG_STEPS).float().view(-1, *[1] * (x.dim() - 1))
        points = (x0 + alphas * (x - x0)).double()
        g = gradient_at(lambda t: f(t, *rows_of(b, IG_STEPS)), points, targets[b:b + 1].repeat(IG_STEPS))
        maps.append(g.mean(dim=0) * (x.double() - x0.double())[0])
    return torch.stack(maps)


def flat(t):
    return [float(v) for v in t.detach().double().flatten().tolist()]


def write(name, payload):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(payload, f, separators=(',', ':'))
        f.write('\n')


def export(model, args, names, dynamic, path):
    f = io.BytesIO()
    torch.onnx.export(model, args, f, opset_version=OPSET, do_constant_folding=True, input_names=names,
                      output_names=['logits'], dynamic_axes=dynamic)
    model_proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(model_proto)
    onnx.save(model_proto, path)
    return model_proto


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


def make_two_input():
    model = TwoInput().eval()
    image = torch.randn(2, 3, 8, 8)
    vector = torch.randn(2, 4)
    export(model, (image, vector), ['image', 'vector'],
           {'image': {0: 'batch'}, 'vector': {0: 'batch'}, 'logits': {0: 'batch'}}, os.path.join(OUT, 'two_input.onnx'))
    m64 = TwoInput().double().eval()
    m64.load_state_dict(model.state_dict())
    v64 = vector.double()
    with torch.no_grad():
        logits = m64(image.double(), v64)
    targets = logits.argmin(dim=1)
    gradient = gradient_at(lambda t: m64(t, v64), image.double(), targets)
    smooth, _ = noisy_references(m64, image, targets, lambda b, n: (v64[b:b + 1].repeat(n, 1),))
    with torch.no_grad():
        feature_map = torch.tanh(m64.conv(image.double()))
    feature_gradient = gradient_at(lambda t: m64.from_feature_map(t, v64), feature_map, targets)
    write('two_input.json', {
        'model': 'two_input.onnx', 'reference': 'PyTorch autograd in float64',
        'imageShape': list(image.shape), 'image': flat(image), 'vectorShape': list(vector.shape), 'vector': flat(vector),
        'targets': targets.tolist(), 'logits': flat(logits), 'gradient': flat(gradient),
        'smoothgrad': {'numSamples': NUM_SAMPLES, 'noiseScale': SIGMA, 'seed': NOISE_SEED, 'map': flat(smooth)},
        'layer': {'shape': list(feature_map.shape), 'activation': flat(feature_map), 'gradient': flat(feature_gradient)},
    })


def bert_batch():
    ids = torch.randint(1, VOCAB, (2, 8))
    mask = torch.ones(2, 8, dtype=torch.int64)
    ids[1, 5:] = PAD
    mask[1, 5:] = 0
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0]], dtype=torch.int64)
    return ids, mask, types


def bert_references(m64, ids, mask, types, word32):
    """Every reference at the word embeddings a = E[ids] (float32 table rows)."""
    a32 = word32[ids]
    pad32 = word32[torch.full_like(ids, PAD)]

    def f(a, mask_rows, type_rows):
        return m64.from_embeddings(a, mask_rows, type_rows)

    def rows_of(b, n):
        return mask[b:b + 1].repeat(n, 1), types[b:b + 1].repeat(n, 1)

    with torch.no_grad():
        logits = f(a32.double(), mask, types)
    targets = logits.argmax(dim=1)
    gradient = gradient_at(lambda t: f(t, mask, types), a32.double(), targets)
    smooth, var = noisy_references(f, a32, targets, rows_of)
    ig_zero = integrated_gradients(f, a32, torch.zeros_like(a32), targets, rows_of)
    ig_pad = integrated_gradients(f, a32, pad32, targets, rows_of)
    gxi = gradient * a32.double()
    return {
        'inputIds': ids.flatten().tolist(), 'attentionMask': mask.flatten().tolist(), 'tokenTypeIds': types.flatten().tolist(),
        'idsShape': list(ids.shape), 'embeddingShape': list(a32.shape), 'embeddings': flat(a32), 'pad': PAD,
        'targets': targets.tolist(), 'logits': flat(logits),
        'noise': {'numSamples': NUM_SAMPLES, 'noiseScale': SIGMA, 'seed': NOISE_SEED}, 'steps': IG_STEPS,
        'maps': {
            'gradient': flat(gradient), 'gradient_x_input': flat(gxi), 'smoothgrad': flat(smooth), 'vargrad': flat(var),
            'integrated_gradients': flat(ig_zero), 'integrated_gradients_pad': flat(ig_pad),
        },
        'tokenMaps': {
            'gradient_x_input': {'sum': flat(gxi.sum(-1)), 'l2': flat(gxi.norm(dim=-1))},
            'integrated_gradients': {'sum': flat(ig_zero.sum(-1)), 'l2': flat(ig_zero.norm(dim=-1))},
            'integrated_gradients_pad': {'sum': flat(ig_pad.sum(-1)), 'l2': flat(ig_pad.norm(dim=-1))},
        },
    }


def quantize_dynamic(model_proto):
    """Each MatMul on a 2-D float weight as ONNX Runtime's dynamic quantizer writes
    it (per-tensor symmetric int8 weight); returns the model and, per weight name,
    its dequantized float64 values."""
    graph = model_proto.graph
    weights = {t.name: t for t in graph.initializer}
    dequantized = {}
    nodes = []
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == 'MatMul' else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight)
        scale = np.float32(np.abs(w).max() / 127.0)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        dequantized[weight.name] = q.astype(np.float64) * float(scale)
        base = node.name.replace('/', '_') or weight.name
        graph.initializer.extend([numpy_helper.from_array(q, base + '_w_q'),
                                  numpy_helper.from_array(np.int8(0), base + '_w_zero'),
                                  numpy_helper.from_array(scale, base + '_w_scale')])
        a, out = node.input[0], node.output[0]
        nodes += [
            helper.make_node('DynamicQuantizeLinear', [a], [base + '_a_q', base + '_a_scale', base + '_a_zero'], name=base + '_quant'),
            helper.make_node('MatMulInteger', [base + '_a_q', base + '_w_q', base + '_a_zero', base + '_w_zero'], [base + '_int'],
                             name=base + '_matmul_integer'),
            helper.make_node('Cast', [base + '_int'], [base + '_float'], to=TensorProto.FLOAT, name=base + '_cast'),
            helper.make_node('Mul', [base + '_a_scale', base + '_w_scale'], [base + '_scale'], name=base + '_scales'),
            helper.make_node('Mul', [base + '_float', base + '_scale'], [out], name=base + '_dequant'),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for n in graph.node for name in n.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model_proto)
    return model_proto, dequantized


def make_bert():
    model = TinyBert().eval()
    ids, mask, types = bert_batch()
    proto = export(model, (ids, mask, types), ['input_ids', 'attention_mask', 'token_type_ids'],
                   {name: {0: 'batch', 1: 'sequence'} for name in ['input_ids', 'attention_mask', 'token_type_ids']}
                   | {'logits': {0: 'batch'}}, os.path.join(OUT, 'bert.onnx'))
    m64 = TinyBert().double().eval()
    m64.load_state_dict(model.state_dict())
    word32 = model.word.weight.detach()
    write('bert.json', {'model': 'bert.onnx', 'reference': 'PyTorch autograd in float64 at the word embeddings',
                        **bert_references(m64, ids, mask, types, word32)})

    quantized, dequantized = quantize_dynamic(onnx.load_from_string(proto.SerializeToString()))
    onnx.save(quantized, os.path.join(OUT, 'bert_int8_dynamic.onnx'))
    # The dequantized weights into the float64 model: each Linear whose transposed weight is a quantized MatMul's.
    by_value = {np.ascontiguousarray(numpy_helper.to_array(t)).tobytes(): t.name for t in proto.graph.initializer}
    replaced = 0
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            key = np.ascontiguousarray(module.weight.detach().numpy().T).tobytes()
            if by_value.get(key) in dequantized:
                m64.get_submodule(name).weight.data = torch.from_numpy(dequantized[by_value[key]].T.copy())
                replaced += 1
    if replaced != len(dequantized):
        sys.exit(f'matched {replaced} of {len(dequantized)} quantized weights to Linear modules')
    write('bert_int8_dynamic.json', {'model': 'bert_int8_dynamic.onnx',
                                     'reference': 'PyTorch autograd in float64 on the dequantized weights, at the word embeddings',
                                     **bert_references(m64, ids, mask, types, word32)})


def main():
    os.makedirs(OUT, exist_ok=True)
    make_two_input()
    make_bert()
    print('wrote', ', '.join(sorted(os.listdir(OUT))))


if __name__ == '__main__':
    main()
