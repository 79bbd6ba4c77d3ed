"""The training loop of the bundled example classifiers (examples/mnist/train.py, examples/ecg/train.py)."""
import torch
from torch import nn


def train_classifier(model, x, y, *, seed, epochs, batch_size, learning_rate):
    """Adam on the cross-entropy for `epochs` passes over (x, y), in batches of `batch_size`, shuffled
    each epoch by a generator seeded with `seed` (so a run repeats exactly); prints the mean loss per epoch."""
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        print(f'epoch {epoch + 1}/{epochs}: train loss {total / len(x):.4f}')
