"""3-d convolution, transposed convolution, pooling (plain and adaptive), batch and instance
norm against PyTorch with identical weights and inputs (values and every gradient), and
gradcheck of the functional forms."""

from __future__ import annotations

import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import check
from tests.test_nn_layers import compare_module, rand


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 1), stride=(2, 1, 2), padding=(1, 0, 1)),
    dict(kernel_size=2, dilation=(2, 1, 1), groups=2, bias=False),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(2, 3, 2), padding=1, padding_mode="reflect"),
    dict(kernel_size=2, padding=1, padding_mode="circular"),
])
def test_conv3d(kwargs):
    t, e = torch.nn.Conv3d(4, 6, **kwargs), nn.Conv3d(4, 6, **kwargs)
    compare_module(t, e, [rand(2, 4, 5, 4, 5)])
    compare_module(t, e, [rand(4, 4, 4, 4)])  # unbatched
    assert repr(e) == repr(t)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1)),
    dict(kernel_size=2, stride=2, dilation=(2, 1, 1), groups=2, bias=False),
])
def test_conv_transpose3d(kwargs):
    t, e = torch.nn.ConvTranspose3d(4, 6, **kwargs), nn.ConvTranspose3d(4, 6, **kwargs)
    compare_module(t, e, [rand(2, 4, 3, 4, 3)])
    assert repr(e) == repr(t)


def test_conv_transpose3d_output_size_and_1d():
    t = torch.nn.ConvTranspose3d(2, 3, 3, stride=2)
    e = nn.ConvTranspose3d(2, 3, 3, stride=2)
    compare_module(t, e, [rand(1, 2, 3, 3, 3)], call=lambda m, x: m(x, output_size=(8, 7, 8)))
    t1, e1 = torch.nn.ConvTranspose1d(2, 3, 3, stride=2), nn.ConvTranspose1d(2, 3, 3, stride=2)
    compare_module(t1, e1, [rand(2, 2, 5)])


def test_functional_gradcheck():
    check(lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, (1, 2, 1), 1),
          [(1, 2, 3, 4, 3), (3, 2, 2, 2, 2), (3,)])
    check(lambda m, x, w: m.nn.functional.conv_transpose3d(x, w, None, 2, 1, 1),
          [(1, 2, 2, 3, 2), (2, 1, 2, 3, 2)])


POOLS = [
    ("MaxPool3d", (2,), (2, 3, 4, 5, 4)),
    ("MaxPool3d", ((3, 2, 2), (2, 1, 2), (1, 0, 1), (1, 2, 1), False, True), (2, 3, 5, 6, 5)),
    ("AvgPool3d", (2,), (2, 3, 4, 5, 4)),
    ("AvgPool3d", ((3, 2, 3), 2, (1, 1, 0), True, False), (2, 3, 5, 6, 5)),
    ("AvgPool3d", ((3, 2, 3), 2, 1, True, True), (2, 3, 5, 6, 5)),
    ("AvgPool3d", (2, 1, 0, False, True, 3), (3, 4, 3, 4)),
    ("AdaptiveAvgPool3d", ((2, 3, 2),), (2, 3, 5, 6, 5)),
    ("AdaptiveAvgPool3d", ((None, 2, 1),), (3, 5, 4, 5)),
    ("AdaptiveMaxPool3d", ((2, 3, 2),), (2, 3, 5, 6, 5)),
    ("AdaptiveMaxPool3d", (2,), (3, 5, 4, 5)),
    ("AdaptiveMaxPool1d", (3,), (2, 3, 7)),
]


@pytest.mark.parametrize("name,args,shape", POOLS)
def test_pools(name, args, shape):
    t, e = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    compare_module(t, e, [rand(*shape)])
    assert repr(e) == repr(t)


def test_pool_gradcheck():
    check(lambda m, x: m.nn.functional.max_pool3d(x, 2, 1, 1), [(1, 2, 3, 3, 3)])
    check(lambda m, x: m.nn.functional.avg_pool3d(x, 2, 1, 1, count_include_pad=False),
          [(1, 2, 3, 3, 3)])
    check(lambda m, x: m.nn.functional.adaptive_avg_pool3d(x, (2, 1, 2)), [(1, 2, 3, 3, 4)])


def test_norms_3d():
    for kw in ({}, {"affine": False}, {"momentum": None}):
        t, e = torch.nn.BatchNorm3d(3, **kw), nn.BatchNorm3d(3, **kw)
        compare_module(t, e, [rand(2, 3, 2, 3, 2)])
        compare_module(t, e, [rand(2, 3, 2, 3, 2, seed=1)], train=False)
        assert repr(e) == repr(t)
    for kw in ({}, {"affine": True, "track_running_stats": True}):
        t, e = torch.nn.InstanceNorm3d(3, **kw), nn.InstanceNorm3d(3, **kw)
        compare_module(t, e, [rand(2, 3, 2, 3, 2)])
        compare_module(t, e, [rand(3, 2, 3, 2, seed=1)])
        assert repr(e) == repr(t)


def test_errors():
    with pytest.raises(RuntimeError, match=r"Conv3d\(2, 3, kernel_size=\(2, 2, 2\)\): expected "
                                           r"input of shape \(N, 2, D, H, W\)"):
        nn.Conv3d(2, 3, 2)(ember.randn(1, 3, 4, 4, 4))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv3d(ember.randn(1, 2, 1, 4, 4), ember.randn(3, 2, 2, 2, 2))
    with pytest.raises(ValueError, match=r"BatchNorm3d\(3\): expected 5D input"):
        nn.BatchNorm3d(3)(ember.randn(2, 3, 4, 4))
    with pytest.raises(RuntimeError, match="max_pool3d: Expected 4D .unbatched. or 5D"):
        F.max_pool3d(ember.randn(2, 3, 4), 2)
