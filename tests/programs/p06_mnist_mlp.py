"""An MLP on a 1,000-image MNIST subset (EMBER_DATA): TensorDataset, DataLoader, Adam,
CrossEntropyLoss, evaluation under no_grad. The IDX files are read with NumPy, so both
frameworks get the same arrays."""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

root = os.path.join(os.environ["EMBER_DATA"], "mnist")


def read_idx(name, count):
    with gzip.open(os.path.join(root, name)) as f:
        data = f.read()
    offset = 16 if "images" in name else 8
    return np.frombuffer(data, dtype=np.uint8, offset=offset)


images = read_idx("train-images-idx3-ubyte.gz", 0).reshape(-1, 784)[:1200]
labels = read_idx("train-labels-idx1-ubyte.gz", 0)[:1200]
x = (images.astype(np.float32) / 255.0 - 0.1307) / 0.3081
train = TensorDataset(torch.tensor(x[:1000]), torch.tensor(labels[:1000].astype(np.int64)))
test_x, test_y = torch.tensor(x[1000:]), torch.tensor(labels[1000:].astype(np.int64))
loader = DataLoader(train, batch_size=100, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


model = Net()
rng = np.random.default_rng(6)
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.05, 0.05, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
for epoch in range(2):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    model.eval()
    with torch.no_grad():
        out = model(test_x)
        test_loss = criterion(out, test_y).item()
        correct = (out.argmax(1) == test_y).sum().item()
    model.train()
    print(f"epoch {epoch} train loss {total / len(train):.5f} test loss {test_loss:.5f} "
          f"correct {correct}")
