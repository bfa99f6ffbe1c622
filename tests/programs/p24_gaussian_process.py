"""Gaussian-process regression fitted by gradient descent on the log marginal likelihood: an
RBF kernel, torch.linalg.cholesky, torch.cholesky_solve, torch.linalg.solve_triangular, the
log-determinant from the Cholesky diagonal, and a Gamma prior on the length scale through
torch.lgamma."""
import math

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(24)
x_train = torch.tensor(np.sort(rng.uniform(-3, 3, 20)))
y_train = torch.sin(x_train) + 0.1 * torch.tensor(rng.standard_normal(20))
x_test = torch.linspace(-3, 3, 7)

log_length = torch.tensor(0.0, requires_grad=True)
log_scale = torch.tensor(0.0, requires_grad=True)
log_noise = torch.tensor(-1.0, requires_grad=True)


def kernel(a, b):
    d = (a.unsqueeze(-1) - b.unsqueeze(0)) / log_length.exp()
    return log_scale.exp() ** 2 * torch.exp(-0.5 * d ** 2)


def gamma_log_prior(value, concentration=2.0, rate=1.0):
    return (concentration * math.log(rate) + (concentration - 1) * torch.log(value)
            - rate * value - torch.lgamma(torch.tensor(concentration)))


optimizer = torch.optim.Adam([log_length, log_scale, log_noise], lr=0.05)
for step in range(40):
    optimizer.zero_grad()
    K = kernel(x_train, x_train) + (log_noise.exp() ** 2 + 1e-6) * torch.eye(20)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(y_train.unsqueeze(-1), L)
    nll = (0.5 * (y_train.unsqueeze(-1) * alpha).sum() + L.diagonal().log().sum()
           + 10 * math.log(2 * math.pi) - gamma_log_prior(log_length.exp()))
    nll.backward()
    optimizer.step()
    if step % 10 == 9:
        print(f"step {step + 1} nll {nll.item():.8f} length {log_length.exp().item():.6f} "
              f"noise {log_noise.exp().item():.6f}")

with torch.no_grad():
    K = kernel(x_train, x_train) + log_noise.exp() ** 2 * torch.eye(20)
    L = torch.linalg.cholesky(K)
    Ks = kernel(x_test, x_train)
    mean = Ks @ torch.cholesky_solve(y_train.unsqueeze(-1), L)
    v = torch.linalg.solve_triangular(L, Ks.T, upper=False)
    var = kernel(x_test, x_test).diagonal() - (v ** 2).sum(0)
print("mean", [round(m, 6) for m in mean.flatten().tolist()])
print("std", [round(s, 6) for s in var.clamp(min=0).sqrt().tolist()])
