"""Numerical helpers in a small data analysis: torch.cov / corrcoef, histogram, trapezoid and
cumulative_trapezoid integration, torch.special functions (erf, ndtr, gammaln, digamma,
xlogy), matrix_exp of a rotation generator, lstsq, and a gradient through them."""
import math

import numpy as np
import torch

rng = np.random.default_rng(25)
samples = torch.tensor(rng.standard_normal((3, 200)))
samples[1] += 0.8 * samples[0]
print("cov", [round(v, 6) for v in torch.cov(samples).flatten().tolist()])
print("corrcoef", [round(v, 6) for v in torch.corrcoef(samples)[0].tolist()])
hist, edges = torch.histogram(samples[0], bins=6, range=(-3.0, 3.0))
print("histogram", hist.tolist(), [round(e, 3) for e in edges.tolist()])

x = torch.linspace(0, math.pi, 101)
print("integral of sin", round(torch.trapezoid(torch.sin(x), x).item(), 8))
print("running integral", [round(v, 6) for v in torch.cumulative_trapezoid(torch.sin(x), x)[::25].tolist()])

z = torch.tensor([-1.5, 0.0, 0.5, 2.0])
print("erf", [round(v, 6) for v in torch.erf(z).tolist()])
print("ndtr", [round(v, 6) for v in torch.special.ndtr(z).tolist()])
print("gammaln", [round(v, 6) for v in torch.special.gammaln(z.abs() + 1).tolist()])
print("digamma", [round(v, 6) for v in torch.digamma(z.abs() + 1).tolist()])
p = torch.tensor([0.1, 0.2, 0.3, 0.4])
print("entropy", round(-torch.special.xlogy(p, p).sum().item(), 6))

theta = torch.tensor(0.3, requires_grad=True)
generator = torch.stack([torch.stack([torch.zeros(()), -theta]), torch.stack([theta, torch.zeros(())])])
rotation = torch.linalg.matrix_exp(generator)
print("rotation", [round(v, 6) for v in rotation.flatten().tolist()])
rotation[1, 0].backward()
print("d sin / d theta", round(theta.grad.item(), 6))

A = torch.tensor(rng.standard_normal((10, 3)))
true_x = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
b = A @ true_x + 0.01 * torch.tensor(rng.standard_normal((10, 1)))
solution = torch.linalg.lstsq(A, b).solution
print("lstsq", [round(v, 5) for v in solution.flatten().tolist()])
