"""A sequence classifier with PyTorch's built-in nn.TransformerEncoder / TransformerEncoderLayer
(batch_first, no dropout, a source key padding mask)."""
import numpy as np
import torch
import torch.nn as nn

# tolerance: rtol=2e-4 atol=2e-5
rng = np.random.default_rng(20)
tokens = rng.integers(1, 10, (8, 6))
tokens[::2, 4:] = 0
labels = torch.tensor((tokens[:, 0] > 5).astype(np.int64))
layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0,
                                   batch_first=True)
model = nn.ModuleDict({"embed": nn.Embedding(10, 16), "encoder": nn.TransformerEncoder(layer, 2),
                       "head": nn.Linear(16, 2)})
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
x = torch.tensor(tokens)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(10):
    optimizer.zero_grad()
    h = model["encoder"](model["embed"](x), src_key_padding_mask=x == 0)
    loss = nn.functional.cross_entropy(model["head"](h[:, 0]), labels)
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f}")
