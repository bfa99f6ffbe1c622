"""Gradient clipping in a training loop: clip_grad_norm_ (its returned total norm),
clip_grad_value_, and the gradients and weights they leave."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(15)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-2, 2, tuple(p.shape)).astype(np.float32)))
X = torch.tensor(rng.standard_normal((16, 4)).astype(np.float32) * 3)
Y = torch.tensor(rng.standard_normal((16, 1)).astype(np.float32) * 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(6):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y)
    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    after = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    optimizer.step()
    print(f"step {step} loss {loss.item():.5f} norm before {total.item():.5f} after {after.item():.5f}")

optimizer.zero_grad()
nn.functional.mse_loss(model(X), Y).backward()
nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
print("max |grad| after clip_grad_value_", max(p.grad.abs().max().item() for p in model.parameters()))
print("inf-norm", nn.utils.clip_grad_norm_(model.parameters(), 0.05, norm_type=float("inf")).item())
print("weights", round(sum(p.sum().item() for p in model.parameters()), 5))
