"""Lazy layers (shapes read from the first input, then the ordinary layer, equal to PyTorch's
with copied weights) and DataParallel on one device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.test_nn_layers import compare_module, rand

LAZY = [
    ("LazyLinear", (3,), (4, 5), "Linear"),
    ("LazyLinear", (3, False), (2, 4, 5), "Linear"),
    ("LazyConv1d", (4, 2), (2, 3, 6), "Conv1d"),
    ("LazyConv2d", (4, 3), (2, 3, 5, 5), "Conv2d"),
    ("LazyConv2d", (4, 3, 1, 1, 1, 1, False), (3, 5, 5), "Conv2d"),
    ("LazyConv3d", (2, 2), (1, 3, 3, 3, 3), "Conv3d"),
    ("LazyConvTranspose1d", (4, 2), (2, 3, 6), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (4, 2, 2), (2, 3, 3, 3), "ConvTranspose2d"),
    ("LazyConvTranspose3d", (2, 2), (1, 3, 2, 2, 2), "ConvTranspose3d"),
    ("LazyBatchNorm1d", (), (4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", (1e-3, 0.2), (4, 3, 2, 2), "BatchNorm2d"),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2), "BatchNorm3d"),
    ("LazyInstanceNorm1d", (), (2, 3, 5), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (1e-5, 0.1, True, True), (2, 3, 4, 4), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), (2, 3, 2, 3, 2), "InstanceNorm3d"),
]


@pytest.mark.parametrize("name,args,shape,becomes", LAZY)
def test_lazy_layers(name, args, shape, becomes):
    t, e = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert e.has_uninitialized_params()
    assert "<uninitialized>" in repr(e)
    x = rand(*shape)
    t(torch.tensor(x, dtype=torch.float32))
    e(ember.tensor(x, dtype=ember.float32))
    assert type(e) is getattr(nn, becomes)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for (k, tv), ev in zip(t.state_dict().items(), e.state_dict().values()):
        assert tuple(ev.shape) == tuple(tv.shape), k
    compare_module(t, e, [x])


def test_lazy_keeps_hooks_and_mode_and_initialises_like_the_layer():
    m = nn.LazyLinear(50)
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    m.eval()
    m(ember.randn(2, 400))
    assert calls == [(2, 50)] and not m.training
    bound = 1 / np.sqrt(400)
    w = m.weight.detach().numpy()
    assert w.shape == (50, 400) and np.abs(w).max() <= bound and w.std() > 0.4 * bound
    d = nn.LazyLinear(3).double()
    assert d(ember.randn(2, 4, dtype=ember.float64)).dtype == ember.float64


def test_data_parallel_passes_through(monkeypatch):
    inner_t, inner_e = torch.nn.Linear(4, 2), nn.Linear(4, 2)
    # torch's wrapper as on a machine without a GPU: with one, it would move the module there
    # (ember's leaves devices to the caller)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    t = torch.nn.DataParallel(inner_t)
    monkeypatch.undo()
    e = nn.DataParallel(inner_e)
    compare_module(t, e, [rand(3, 4)])
    assert list(e.state_dict()) == ["module.weight", "module.bias"]
    assert e.module is inner_e
