"""Zero-size batches through the added functional forms: the same output shape as PyTorch and
gradients of the inputs' shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

CASES = [
    (lambda m, x: m.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
     [(0, 2, 3, 3)]),
    (lambda m, x: m.nn.functional.interpolate(x, size=5), [(0, 2, 3)]),
    # (pixel_shuffle is left out: PyTorch's own backward fails on an empty batch)
    (lambda m, x, w: m.nn.functional.conv3d(x, w), [(0, 2, 3, 3, 3), (3, 2, 2, 2, 2)]),
    (lambda m, x, w: m.nn.functional.conv_transpose3d(x, w), [(0, 2, 3, 3, 3), (2, 3, 2, 2, 2)]),
    (lambda m, x: m.nn.functional.max_pool3d(x, 2), [(0, 2, 4, 4, 4)]),
    (lambda m, x: m.nn.functional.avg_pool3d(x, 2), [(0, 2, 4, 4, 4)]),
    (lambda m, x: m.nn.functional.glu(x), [(0, 4)]),
    (lambda m, x, y: m.nn.functional.pairwise_distance(x, y), [(0, 4), (0, 4)]),
    (lambda m, x: m.nn.functional.rms_norm(x, (4,)), [(0, 4)]),
    (lambda m, x: m.nn.functional.local_response_norm(x, 2), [(0, 3, 4)]),
    (lambda m, x, y: m.nn.functional.margin_ranking_loss(x, y, m.ones_like(x),
                                                         reduction="sum"), [(0,), (0,)]),
    (lambda m, a, p, n: m.nn.functional.triplet_margin_loss(a, p, n, reduction="sum"),
     [(0, 3), (0, 3), (0, 3)]),
    (lambda m, x: m.nn.functional.multi_margin_loss(x, m.zeros(0, dtype=m.int64),
                                                    reduction="sum"), [(0, 3)]),
    (lambda m, x, v: m.nn.functional.gaussian_nll_loss(x, x.detach(), v.abs(), reduction="sum"),
     [(0, 3), (0, 3)]),
    (lambda m, x: m.nn.functional.poisson_nll_loss(x, x.detach(), reduction="sum"), [(0, 3)]),
    (lambda m, x, g: m.nn.functional.grid_sample(x, g, align_corners=False),
     [(0, 2, 3, 3), (0, 2, 2, 2)]),
    (lambda m, x: m.nn.functional.lp_pool2d(x.abs() + 1, 2, 2), [(0, 2, 4, 4)]),
]


@pytest.mark.parametrize("fn,shapes", CASES)
def test_zero_size(fn, shapes):
    arrays = [np.random.default_rng(0).uniform(-1, 1, s) for s in shapes]
    results = []
    for fw in (torch, ember):
        xs = [fw.tensor(a, requires_grad=True) for a in arrays]
        out = fn(fw, *xs)
        out.sum().backward()
        results.append([out] + [x.grad for x in xs])
    for t, e in zip(*results):
        assert e is not None and tuple(e.shape) == tuple(t.shape)
        # atol: PyTorch's multi_margin_loss sums an empty batch to an uninitialised denormal
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=0, atol=1e-300)
