"""relu's fused gradient op (``relu_backward``, a mask from the output's bits) against PyTorch on
the layouts a network produces, at zeros and NaNs, and the NumPy guarantee it rests on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops.activation import relu_backward


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_maximum_never_gives_negative_zero(dtype):
    """The bit mask needs ``maximum(x, 0)`` to turn -0.0 into +0.0, in every loop NumPy picks."""
    for n in (1, 3, 7, 16, 33, 1000):
        a = np.full(n * 3, -0.0, dtype)
        for view in (a[:n], a[::3], a.reshape(3, n).T, a[1:n + 1], np.array(-0.0, dtype)):
            assert not np.signbit(np.maximum(view, 0)).any()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_relu_gradient_matches_torch(dtype, channels_last):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6, 5, 3)).astype(dtype)
    a[0, 0, 0] = 0.0
    a[0, 0, 1] = -0.0
    a[1, 1, 1, 1] = np.nan
    a[2, 2, 2, 2] = np.inf
    a[3, 3, 3, 2] = -np.inf
    g = rng.standard_normal(a.shape).astype(dtype)
    g[0, 0, 0, 0] = np.nan  # cut: the output is 0 there
    g[0, 0, 1, 0] = np.inf
    if channels_last:  # the (N, C, H, W) view of channels-last memory that convolutions return
        a, g = a.transpose(0, 3, 1, 2), g.transpose(0, 3, 1, 2)
    x = ember.tensor(a, requires_grad=True)
    ember.relu(x).backward(ember.tensor(g))
    t = torch.tensor(np.ascontiguousarray(a), requires_grad=True)
    torch.relu(t).backward(torch.tensor(np.ascontiguousarray(g)))
    assert x.grad.dtype == x.dtype
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_relu_double_backward_matches_torch():
    """The gradient is itself differentiable: through it, in the upstream weights."""
    rng = np.random.default_rng(1)
    a, w, c = (rng.standard_normal((5, 7)) for _ in range(3))
    results = []
    for m, make in ((ember, ember.tensor), (torch, torch.tensor)):
        x, wt = make(a, requires_grad=True), make(w, requires_grad=True)
        (gx,) = m.autograd.grad((m.relu(x) * wt).sum(), x, create_graph=True)
        (gw,) = m.autograd.grad((gx * make(c)).sum(), wt)
        results.append((gx.detach().numpy(), gw.detach().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_relu_backward_op_is_differentiable_in_its_gradient():
    y = ember.tensor(np.array([0.0, 2.0, 0.5, 0.0], np.float32))
    g = ember.tensor(np.array([1.0, -3.0, 4.0, 5.0], np.float32), requires_grad=True)
    out = relu_backward(g, y)
    np.testing.assert_array_equal(out.detach().numpy(), [0.0, -3.0, 4.0, 0.0])
    out.backward(ember.tensor(np.array([7.0, 8.0, 9.0, 10.0], np.float32)))
    np.testing.assert_array_equal(g.grad.numpy(), [0.0, 8.0, 9.0, 0.0])
