"""An MLP classifying two interleaved spirals: Sequential, ReLU, CrossEntropyLoss, Adam,
train/eval modes and accuracy."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(1)
n = 100
t = np.linspace(0.3, 3 * np.pi, n)
spiral = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10
X = np.concatenate([spiral, -spiral]).astype(np.float32)
X += 0.02 * rng.standard_normal(X.shape).astype(np.float32)
y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.int64)

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
inputs, labels = torch.tensor(X), torch.tensor(y)
for step in range(90):
    model.train()
    optimizer.zero_grad()
    logits = model(inputs)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    if step % 30 == 29:
        model.eval()
        with torch.no_grad():
            acc = (model(inputs).argmax(dim=1) == labels).float().mean().item()
        print(f"step {step + 1} loss {loss.item():.5f} accuracy {acc:.3f}")

with torch.no_grad():
    probs = F.softmax(model(inputs[:3]), dim=1)
print("probabilities", [round(v, 4) for v in probs.flatten().tolist()])
