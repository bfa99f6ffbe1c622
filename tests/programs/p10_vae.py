"""A variational autoencoder on synthetic 2-cluster data: encoder to (mu, logvar), the
reparameterisation trick with noise drawn by NumPy, BCE reconstruction + KL divergence."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(10)
centres = rng.uniform(0, 1, (2, 20))
data = np.clip(centres[rng.integers(0, 2, 64)] + 0.05 * rng.standard_normal((64, 20)), 0, 1)
data = torch.tensor(data.astype(np.float32))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.fc_mu = nn.Linear(16, 2)
        self.fc_logvar = nn.Linear(16, 2)
        self.fc3 = nn.Linear(2, 16)
        self.fc4 = nn.Linear(16, 20)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar, eps):
        return mu + eps * torch.exp(0.5 * logvar)

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar, eps)), mu, logvar


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld, bce, kld


model = VAE()
with torch.no_grad():
    for _name, p in sorted(model.named_parameters()):
        p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(25):
    eps = torch.tensor(rng.standard_normal((64, 2)).astype(np.float32))
    optimizer.zero_grad()
    recon, mu, logvar = model(data, eps)
    loss, bce, kld = loss_function(recon, data, mu, logvar)
    loss.backward()
    optimizer.step()
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1} loss {loss.item() / 64:.5f} bce {bce.item() / 64:.5f} "
              f"kld {kld.item() / 64:.5f}")
model.eval()
with torch.no_grad():
    sample = model.decode(torch.tensor([[0.0, 0.0], [1.0, -1.0]]))
print("samples", [round(v, 4) for v in sample[:, :5].flatten().tolist()])
