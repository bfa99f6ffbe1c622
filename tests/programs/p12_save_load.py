"""Saving and loading: a model's state_dict and an optimizer's, through torch.save/torch.load
to a temporary folder; the reloaded model gives the same outputs and training resumes
identically."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(12)
X = torch.tensor(rng.standard_normal((32, 5)).astype(np.float32))
Y = torch.tensor(rng.standard_normal((32, 2)).astype(np.float32))


def make_model():
    model = nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 2))
    with torch.no_grad():
        for _name, p in sorted(model.named_parameters()):
            p.copy_(torch.tensor(np.full(tuple(p.shape), 0.1, dtype=np.float32)))
    return model


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
    return loss.item()


model = make_model()
with torch.no_grad():
    model[0].weight.copy_(torch.tensor(rng.uniform(-1, 1, (8, 5)).astype(np.float32)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print("loss after 10", train(model, optimizer, 10))
print("state_dict keys", sorted(model.state_dict().keys()))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.pt")
    torch.save(model.state_dict(), path)
    opt_path = os.path.join(folder, "optimizer.pt")
    torch.save(optimizer.state_dict(), opt_path)
    restored = make_model()
    restored.load_state_dict(torch.load(path))
    restored_opt = torch.optim.Adam(restored.parameters(), lr=0.01)
    restored_opt.load_state_dict(torch.load(opt_path))

with torch.no_grad():
    same = torch.equal(model(X), restored(X))
print("same outputs", same)
print("original continues", train(model, optimizer, 5))
print("restored continues", train(restored, restored_opt, 5))
print("step count", optimizer.state_dict()["state"][0]["step"].item() if torch.is_tensor(
    optimizer.state_dict()["state"][0]["step"]) else optimizer.state_dict()["state"][0]["step"])
