"""Linear regression: nn.Linear, MSELoss, SGD, the training loop of the PyTorch basics."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(64, 3)).astype(np.float32)
true_w = np.array([[2.0], [-3.0], [0.5]], dtype=np.float32)
Y = X @ true_w + 0.7 + 0.05 * rng.standard_normal((64, 1)).astype(np.float32)

inputs, targets = torch.from_numpy(X), torch.from_numpy(Y)
model = nn.Linear(3, 1)
with torch.no_grad():
    model.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32)))
    model.bias.fill_(0.0)

criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(60):
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 10 == 0:
        print(f"epoch {epoch + 1} loss {loss.item():.6f}")

print("weight", [round(v, 5) for v in model.weight.detach().flatten().tolist()])
print("bias", round(model.bias.item(), 5))
with torch.no_grad():
    print("prediction", model(torch.tensor([[1.0, 1.0, 1.0]])).item())
