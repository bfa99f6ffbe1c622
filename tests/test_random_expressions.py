"""Random programs of 20+ ops, run in ember and in PyTorch: the value and the gradient of every
input must agree. Catches what per-op tests miss: gradients meeting at shared nodes, broadcasting
between ops, shape ops between math ops."""

import numpy as np
import pytest
import torch

import ember

N = 4  # every tensor in the pool is (N, N), (N,) or (1, N), so any two can meet in an op

UNARY = [
    lambda m, a: a.tanh(),
    lambda m, a: a.sigmoid(),
    lambda m, a: a.sin(),
    lambda m, a: a.cos() * 2,
    lambda m, a: (a * 0.3).exp(),
    lambda m, a: (a * a + 1).log(),
    lambda m, a: (a * a + 0.5).sqrt(),
    lambda m, a: -a,
    lambda m, a: a ** 2 * 0.5,
    lambda m, a: m.nn.functional.softplus(a),
    lambda m, a: m.nn.functional.gelu(a),
    lambda m, a: a.sum(-1, keepdim=True),
    lambda m, a: a.mean(0, keepdim=True) if a.dim() == 2 else a.mean(),
    lambda m, a: a.logsumexp(-1, keepdim=True),
    lambda m, a: m.softmax(a, dim=-1),
    lambda m, a: a.flip(0),
    lambda m, a: a.roll(1, 0),
    lambda m, a: a.t() if a.dim() == 2 else a,
    lambda m, a: a.reshape(-1).reshape(a.shape),
    lambda m, a: a.clamp(-1.5, 1.5),
    lambda m, a: a.var(-1, keepdim=True) if a.dim() and a.shape[-1] > 1 else a,
    lambda m, a: a.unsqueeze(0).squeeze(0),
]

BINARY = [
    lambda m, a, b: a + b,
    lambda m, a, b: a - b,
    lambda m, a, b: a * b,
    lambda m, a, b: a / (b * b + 1),
    lambda m, a, b: m.maximum(a, b),
    lambda m, a, b: m.where(a > b, a, b * 2),
    lambda m, a, b: a.expand(N, N) @ b.expand(N, N) / N,
    lambda m, a, b: m.cat([a.expand(N, N), b.expand(N, N)], 0)[2:6],
    lambda m, a, b: m.stack([a.expand(N, N), b.expand(N, N)]).sum(0),
]


def make_program(seed, n_ops=24):
    rng = np.random.default_rng(seed)
    steps = []
    pool = 3
    for _ in range(n_ops):
        if rng.random() < 0.5:
            steps.append(("u", int(rng.integers(len(UNARY))), int(pool - 1 - rng.integers(min(pool, 4)))))
        else:
            i = int(pool - 1 - rng.integers(min(pool, 4)))
            j = int(rng.integers(pool))
            steps.append(("b", int(rng.integers(len(BINARY))), i, j))
        pool += 1
    weights = rng.standard_normal(4)
    return steps, weights


def run_program(m, program, leaves):
    steps, weights = program
    pool = list(leaves)
    for step in steps:
        if step[0] == "u":
            pool.append(UNARY[step[1]](m, pool[step[2]]))
        else:
            pool.append(BINARY[step[1]](m, pool[step[2]], pool[step[3]]))
    out = 0
    for w, t in zip(weights, pool[-4:]):
        out = out + t.sum() * float(w)
    return out


@pytest.mark.parametrize("seed", range(25))
def test_random_expression_matches_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    arrays = [rng.uniform(-1.5, 1.5, (N, N)), rng.uniform(-1.5, 1.5, (N,)), rng.uniform(-1.5, 1.5, (1, N))]
    program = make_program(seed)
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    oe = run_program(ember, program, te)
    ot = run_program(torch, program, tt)
    np.testing.assert_allclose(oe.item(), ot.item(), rtol=1e-9, atol=1e-9)
    oe.backward()
    ot.backward()
    for e, t in zip(te, tt):
        ge = np.zeros(t.shape) if e.grad is None else e.grad.numpy()
        gt = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(ge, gt, rtol=1e-8, atol=1e-9)
