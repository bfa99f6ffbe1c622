"""GAN training steps on a 1-D Gaussian: a generator and a discriminator with their own Adam
optimizers, BCEWithLogitsLoss, detach() for the discriminator step, LeakyReLU."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(11)
G = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
D = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
with torch.no_grad():
    for net in (G, D):
        for _name, p in sorted(net.named_parameters()):
            p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
criterion = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
for step in range(30):
    real = torch.tensor((3.0 + 0.5 * rng.standard_normal((32, 1))).astype(np.float32))
    noise = torch.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    fake = G(noise)
    # discriminator: real -> 1, fake -> 0 (no gradient into G)
    opt_d.zero_grad()
    loss_d = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
    loss_d.backward()
    opt_d.step()
    # generator: make D say 1
    opt_g.zero_grad()
    loss_g = criterion(D(fake), ones)
    loss_g.backward()
    opt_g.step()
    if step % 10 == 9:
        print(f"step {step + 1} loss_d {loss_d.item():.5f} loss_g {loss_g.item():.5f} "
              f"fake mean {fake.mean().item():.5f}")
