#!/usr/bin/python3
"""Train the bundled time-series example: a small 1-D CNN on synthetic 12-lead ECGs.

The data are SYNTHETIC, generated here from a published kind of model, not
recorded: no 12-lead ECG data set with labels ships in an npm or Debian
package that this project can use, so the script makes its own, faithfully
to the textbook picture of an ECG and fully reproducibly (seeded).

How a record is made
--------------------
- Every wave of a beat (P, Q, R, S, T) is a 3-D "heart vector" d_w (x: to
  the patient's left, y: down, z: to the front; millivolts) with a Gaussian
  time course g_w(t) = exp(-(t - mu_w)^2 / (2 sigma_w^2)) around the beat's R
  peak -- the sum-of-Gaussians beat of McSharry et al.'s dynamical ECG model
  (IEEE Trans. Biomed. Eng. 50(3), 2003), projected onto leads as in
  vectorcardiography.
- Lead k sees the projection onto its lead vector l_k:
  v_k(t) = sum_w (l_k . d_w) g_w(t). Limb leads lie in the frontal plane at
  the usual hexaxial angles (I 0, II 60, III 120, aVR -150, aVL -30,
  aVF 90 degrees, the augmented ones scaled by sqrt(3)/2); V1..V6 in the
  horizontal plane from 115 degrees (front, right of the sternum) to 0
  (left side).
- Per record: heart rate 55-110 bpm with 4% beat-to-beat jitter, a random
  start phase, the QRS/T axis rotated by up to +-20 degrees in the frontal
  plane, amplitudes scaled by 0.7-1.3, T wave delayed with sqrt(RR) (Bazett),
  per-lead baseline wander (0.1-0.4 Hz, up to 0.15 mV), 50 Hz mains hum
  (0.01 mV) and white noise (sigma 0.02 mV).
- Classes (what the model must find):
    0 normal;
    1 anterior ST elevation: an injury current pointing to the front (+z),
      0.1-0.35 mV, raises the ST segment (between S and T) in V1-V4;
    2 inferior ST elevation: the injury current points down (+y): ST up in
      II, III, aVF and down (reciprocally) in aVR and aVL.
  So a right answer depends on the ST segments of particular leads, which is
  what an attribution map should show.
- 128 Hz, 256 samples (2 s) per lead: input [batch, 12, 256], millivolts,
  no further preprocessing.

The model
---------
    input  [B, 12, 256]
    conv1  Conv1d(12 -> 16, k 7, pad 3) + ReLU, MaxPool 2   [B, 16, 128]
    conv2  Conv1d(16 -> 32, k 5, pad 2) + ReLU, MaxPool 2   [B, 32, 64]
    conv3  Conv1d(32 -> 32, k 5, pad 2) + ReLU               [B, 32, 64]
    mean over time                                           [B, 32]
    fc     Linear(32 -> 3)                                   logits

Outputs (overwritten): model/ecg.onnx (opset 17, input "input"
[batch, 12, 256], output "logits" [batch, 3], dynamic batch axis),
model/samples.json (each sample's file, label and PyTorch logits), and
records/<class>.npy / .csv: one correctly classified test record per class
([12, 256] float32; the CSV has one row per time step and one column per
lead under a header of lead names, 6 significant digits).

Rerun from the repository root: /usr/bin/python3 examples/ecg/train.py
(Debian's python3-torch, python3-numpy, python3-onnx; about a minute on 2
cores). Deterministic on one machine.
"""

import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, 'model')
RECORDS_DIR = os.path.join(HERE, 'records')

# The training loop both examples share: python/saliency_reference at the repository root.
sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))
from saliency_reference.training import train_classifier  # noqa: E402

SEED = 0
FS = 128
LENGTH = 256
LEADS = ('I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6')
CLASSES = ('normal', 'anterior-ste', 'inferior-ste')
TRAIN_PER_CLASS = 2000
TEST_PER_CLASS = 500
EPOCHS = 8
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
OPSET = 17


def lead_vectors():
    """[12, 3] unit-ish lead vectors (x left, y down, z front)."""
    rows = []
    for name, angle in (('I', 0), ('II', 60), ('III', 120), ('aVR', -150), ('aVL', -30), ('aVF', 90)):
        scale = 1.0 if name in ('I', 'II', 'III') else np.sqrt(3) / 2
        a = np.radians(angle)
        rows.append((scale * np.cos(a), scale * np.sin(a), 0.0))
    for angle in (115, 95, 75, 60, 30, 0):
        a = np.radians(angle)
        rows.append((np.cos(a), 0.0, np.sin(a)))
    return np.asarray(rows)


# wave: (heart vector in mV, time of its peak relative to R in s, width sigma in s)
WAVES = {
    'P': (np.array([0.5, 0.8, 0.2]) * 0.15, -0.16, 0.025),
    'Q': (np.array([-0.5, 0.0, 0.8]) * 0.15, -0.03, 0.010),
    'R': (np.array([0.55, 0.8, -0.25]) * 1.2, 0.0, 0.012),
    'S': (np.array([-0.3, -0.5, -0.8]) * 0.4, 0.03, 0.012),
    'T': (np.array([0.5, 0.7, 0.3]) * 0.3, 0.28, 0.05),
}
INJURY = {1: np.array([0.0, 0.0, 1.0]), 2: np.array([0.0, 1.0, 0.0])}


def make_record(rng, label):
    """One [12, 256] record of class `label`, in mV."""
    t = np.arange(LENGTH) / FS
    leads = lead_vectors()
    rr_mean = 60.0 / rng.uniform(55, 110)
    angle = np.radians(rng.uniform(-20, 20))
    rotate = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    scale = rng.uniform(0.7, 1.3)
    injury = 0.0 if label == 0 else rng.uniform(0.1, 0.35)
    signal = np.zeros((len(LEADS), LENGTH))
    beat = -rng.uniform(0, rr_mean)  # R peak of the first beat, before the window
    while beat < t[-1] + 0.5:
        rr = rr_mean * rng.uniform(0.96, 1.04)
        for name, (vector, offset, sigma) in WAVES.items():
            if name == 'T':
                offset *= np.sqrt(rr)
            course = np.exp(-((t - beat - offset) ** 2) / (2 * sigma ** 2))
            direction = rotate @ vector if name in ('Q', 'R', 'S', 'T') else vector
            signal += scale * np.outer(leads @ direction, course)
        if injury > 0:
            # the ST segment: a plateau from just after S into the T wave
            centre = 0.06 + 0.10 * np.sqrt(rr)
            course = np.exp(-((t - beat - centre) ** 4) / (2 * (0.07 * np.sqrt(rr)) ** 4))
            signal += injury * np.outer(leads @ INJURY[label], course)
        beat += rr
    for k in range(len(LEADS)):
        wander = rng.uniform(0, 0.15) * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * np.pi))
        signal[k] += wander + 0.01 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 2 * np.pi))
    signal += rng.normal(0, 0.02, signal.shape)
    return signal.astype(np.float32)


def make_set(rng, per_class):
    xs, ys = [], []
    for label in range(len(CLASSES)):
        for _ in range(per_class):
            xs.append(make_record(rng, label))
            ys.append(label)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


class EcgCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(len(LEADS), 16, 7, padding=3)
        self.conv2 = nn.Conv1d(16, 32, 5, padding=2)
        self.conv3 = nn.Conv1d(32, 32, 5, padding=2)
        self.fc = nn.Linear(32, len(CLASSES))

    def forward(self, x):
        x = nn.functional.max_pool1d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool1d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.conv3(x))
        return self.fc(x.mean(dim=2))


def main():
    started = time.time()
    torch.manual_seed(SEED)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)
    x_train, y_train = make_set(rng, TRAIN_PER_CLASS)
    x_test, y_test = make_set(rng, TEST_PER_CLASS)
    print(f'{len(x_train)} train, {len(x_test)} test records of shape {tuple(x_train.shape[1:])}')

    model = EcgCnn()
    train_classifier(model, x_train, y_train, seed=SEED, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE)
    model.eval()
    with torch.no_grad():
        predictions = model(x_test).argmax(1)
    accuracy = (predictions == y_test).float().mean().item()
    print(f'test accuracy: {accuracy * 100:.2f}% ({int((predictions == y_test).sum())}/{len(y_test)})')

    os.makedirs(MODEL_DIR, exist_ok=True)
    path = os.path.join(MODEL_DIR, 'ecg.onnx')
    torch.onnx.export(model, torch.zeros(1, len(LEADS), LENGTH), path, opset_version=OPSET,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))

    os.makedirs(RECORDS_DIR, exist_ok=True)
    samples = []
    for label, name in enumerate(CLASSES):
        i = next(int(i) for i in range(len(y_test)) if y_test[i] == label and predictions[i] == label)
        record = x_test[i].numpy()
        np.save(os.path.join(RECORDS_DIR, f'{name}.npy'), record.astype('<f4'))
        with open(os.path.join(RECORDS_DIR, f'{name}.csv'), 'w') as f:
            f.write(','.join(LEADS) + '\n')
            for row in record.T:
                f.write(','.join(f'{v:.6g}' for v in row) + '\n')
        with torch.no_grad():
            logits = model(torch.from_numpy(record)[None])[0]
        samples.append({'file': f'records/{name}.npy', 'csv': f'records/{name}.csv', 'label': label, 'class': name,
                        'logits': [float(v) for v in logits]})
    with open(os.path.join(MODEL_DIR, 'samples.json'), 'w') as f:
        json.dump({'description': 'One correctly classified synthetic test record per class and its float32 '
                                  'PyTorch logits; written by train.py.',
                   'leads': list(LEADS), 'classes': list(CLASSES), 'sampleRate': FS,
                   'testAccuracy': accuracy, 'samples': samples}, f, indent=1)
        f.write('\n')
    print(f'model/ecg.onnx: {os.path.getsize(path)} bytes; done in {time.time() - started:.1f} s')


if __name__ == '__main__':
    main()
