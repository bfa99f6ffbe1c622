"""A convolutional autoencoder on random 8x8 images: Conv2d with stride, F.interpolate
(nearest) and nn.Upsample(bilinear) in the decoder, BCEWithLogits loss."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(23)
images = torch.tensor((rng.uniform(0, 1, (6, 1, 8, 8)) > 0.5).astype(np.float32))
enc = nn.Conv2d(1, 4, 3, stride=2, padding=1)
up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
dec = nn.Conv2d(4, 1, 3, padding=1)
params = list(enc.parameters()) + list(dec.parameters())
with torch.no_grad():
    for p in params:
        p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adam(params, lr=1e-2)
for step in range(10):
    optimizer.zero_grad()
    code = torch.relu(enc(images))
    logits = dec(up(code)) + dec(F.interpolate(code, scale_factor=2, mode="nearest"))
    loss = F.binary_cross_entropy_with_logits(logits, images)
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f}")
