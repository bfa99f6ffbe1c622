"""The common optimizers on the same problem (a small regression), with parameter groups and
per-group options: SGD (momentum, Nesterov, weight decay), Adam, AdamW, RMSprop, Adagrad."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(17)
X = torch.tensor(rng.standard_normal((20, 3)).astype(np.float32))
Y = torch.tensor(rng.standard_normal((20, 1)).astype(np.float32))
W0 = rng.uniform(-1, 1, (1, 3)).astype(np.float32)


def run(make_optimizer):
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(W0))
        model.bias.fill_(0.5)
    optimizer = make_optimizer(model)
    for _ in range(15):
        optimizer.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return round(loss.item(), 6), [round(v, 6) for v in model.weight.detach().flatten().tolist()]


print("SGD", run(lambda m: torch.optim.SGD(m.parameters(), lr=0.1)))
print("SGD momentum nesterov", run(lambda m: torch.optim.SGD(
    m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)))
print("Adam", run(lambda m: torch.optim.Adam(m.parameters(), lr=0.05)))
print("Adam amsgrad", run(lambda m: torch.optim.Adam(m.parameters(), lr=0.05, amsgrad=True)))
print("AdamW", run(lambda m: torch.optim.AdamW(m.parameters(), lr=0.05, weight_decay=0.1)))
print("RMSprop", run(lambda m: torch.optim.RMSprop(m.parameters(), lr=0.01, momentum=0.5)))
print("Adagrad", run(lambda m: torch.optim.Adagrad(m.parameters(), lr=0.2)))
print("groups", run(lambda m: torch.optim.SGD(
    [{"params": [m.weight]}, {"params": [m.bias], "lr": 0.01}], lr=0.1, momentum=0.5)))
