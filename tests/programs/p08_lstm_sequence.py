"""An LSTM predicting the next value of noisy sine waves: nn.LSTM(batch_first=True), a Linear
head on the last step, Adam, MSELoss."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(8)
phase = rng.uniform(0, 2 * np.pi, (16, 1))
steps = np.arange(21)[None, :] * 0.3
waves = np.sin(steps + phase).astype(np.float32)
x = torch.tensor(waves[:, :20, None])
y = torch.tensor(waves[:, 20:])


class SequenceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=12, num_layers=2, batch_first=True)
        self.head = nn.Linear(12, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1, :])


model = SequenceModel()
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
print("parameters", sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
loss_fn = nn.MSELoss()
for step in range(40):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        print(f"step {step + 1} loss {loss.item():.6f}")
with torch.no_grad():
    out, (h, c) = model.lstm(x[:2])
print("state shapes", list(h.shape), list(c.shape), list(out.shape))
print("prediction", [round(v, 5) for v in model(x[:4]).flatten().tolist()])
