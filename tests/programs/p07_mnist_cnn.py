"""A small CNN on a 300-image MNIST subset (EMBER_DATA): Conv2d, MaxPool2d, Flatten,
log_softmax + nll_loss, SGD with momentum, as in the PyTorch MNIST example."""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# tolerance: rtol=2e-4 atol=2e-5
root = os.path.join(os.environ["EMBER_DATA"], "mnist")


def read_idx(name):
    with gzip.open(os.path.join(root, name)) as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=16 if "images" in name else 8)


images = read_idx("t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28)[:300]
labels = read_idx("t10k-labels-idx1-ubyte.gz")[:300].astype(np.int64)
x = torch.tensor(images.astype(np.float32) / 255.0)
y = torch.tensor(labels)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return F.log_softmax(self.fc(self.flatten(x)), dim=1)


model = CNN()
rng = np.random.default_rng(7)
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.15, 0.15, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(2):
    for i in range(0, 300, 50):
        optimizer.zero_grad()
        loss = F.nll_loss(model(x[i:i + 50]), y[i:i + 50])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        out = model(x)
        print(f"epoch {epoch} loss {F.nll_loss(out, y).item():.5f} "
              f"correct {(out.argmax(1) == y).sum().item()}")
