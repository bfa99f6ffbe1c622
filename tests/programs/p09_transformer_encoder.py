"""A small transformer encoder classifying token sequences, built from nn.MultiheadAttention,
nn.LayerNorm and a feed-forward block (post-norm, as nn.TransformerEncoderLayer), with
nn.Embedding, a learned position table, a key padding mask and mean pooling."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# tolerance: rtol=2e-4 atol=2e-5
rng = np.random.default_rng(9)
vocab, seq_len, d_model = 12, 7, 16
tokens = rng.integers(1, vocab, (24, seq_len))
tokens[::3, 5:] = 0  # padding
labels = (tokens[:, 0] > tokens[:, 1]).astype(np.int64)


class EncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_ff):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, nhead, batch_first=True)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, dim_ff), nn.GELU(), nn.Linear(dim_ff, d_model))

    def forward(self, x, padding_mask):
        attended, weights = self.attn(x, x, x, key_padding_mask=padding_mask)
        x = self.norm1(x + attended)
        return self.norm2(x + self.ff(x)), weights


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.pos = nn.Parameter(torch.zeros(seq_len, d_model))
        self.layers = nn.ModuleList([EncoderLayer(d_model, 4, 32) for _ in range(2)])
        self.out = nn.Linear(d_model, 2)

    def forward(self, tokens):
        mask = tokens == 0
        x = self.embed(tokens) + self.pos
        for layer in self.layers:
            x, weights = layer(x, mask)
        keep = (~mask).unsqueeze(-1).float()
        pooled = (x * keep).sum(1) / keep.sum(1)
        return self.out(pooled), weights


model = Classifier()
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
    model.embed.weight[0].zero_()
print("parameters", sum(p.numel() for p in model.parameters()))
x, y = torch.tensor(tokens), torch.tensor(labels)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
for step in range(30):
    optimizer.zero_grad()
    logits, weights = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        print(f"step {step + 1} loss {loss.item():.5f}")
print("attention weights", list(weights.shape), round(weights[0, 0].sum().item(), 5))
print("padded keys get no attention", weights[0, :, 5:].abs().max().item())
