"""Modules with state and modes: BatchNorm1d (running statistics, train vs eval), Dropout in
eval mode, Embedding with padding_idx, a GRU, buffers in the state_dict, requires_grad_(False)
to freeze a layer."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(18)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6, padding_idx=0)
        self.gru = nn.GRU(6, 8, batch_first=True)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 3)

    def forward(self, tokens):
        out, h = self.gru(self.embed(tokens))
        return self.fc(self.drop(self.bn(h[-1])))


model = Model()
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    model.embed.weight[0].zero_()
print("buffers", sorted(name for name, _ in model.named_buffers()))
model.embed.requires_grad_(False)
trainable = [p for p in model.parameters() if p.requires_grad]
print("trainable tensors", len(trainable), "of", len(list(model.parameters())))
tokens = torch.tensor(rng.integers(0, 10, (12, 5)))
targets = torch.tensor(rng.integers(0, 3, 12))
optimizer = torch.optim.SGD(trainable, lr=0.1)
for step in range(5):
    model.eval()  # dropout off, so both frameworks see the same network
    model.bn.train()
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(tokens), targets)
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f}")
print("running mean", [round(v, 6) for v in model.bn.running_mean.tolist()])
print("running var", [round(v, 6) for v in model.bn.running_var.tolist()])
print("batches tracked", model.bn.num_batches_tracked.item())
model.eval()
with torch.no_grad():
    print("eval output", [round(v, 5) for v in model(tokens[:2]).flatten().tolist()])
print("embedding unchanged at padding", model.embed.weight[0].abs().sum().item())
