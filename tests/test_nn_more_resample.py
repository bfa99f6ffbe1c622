"""F.interpolate and Upsample (every mode, align_corners, size/scale_factor), the padding layers
(zero, constant, reflection, replication, circular; 1-3 d), PixelShuffle/Unshuffle,
ChannelShuffle and Fold/Unfold against PyTorch: values, gradients and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import check
from tests.test_nn_layers import compare_module, rand

CASES = [
    ("nearest", (1, 2, 5), dict(size=8)),
    ("nearest", (1, 2, 5), dict(scale_factor=1.7)),
    ("nearest", (2, 1, 4, 5), dict(size=(7, 3))),
    ("nearest", (1, 1, 3, 2, 4), dict(scale_factor=(2, 1.5, 0.5))),
    ("nearest-exact", (2, 1, 4, 5), dict(size=(7, 3))),
    ("nearest-exact", (1, 2, 5), dict(scale_factor=2.5)),
    ("area", (2, 1, 7, 5), dict(size=(3, 4))),
    ("linear", (2, 3, 5), dict(size=9)),
    ("linear", (2, 3, 5), dict(scale_factor=0.6)),
    ("bilinear", (1, 2, 4, 5), dict(size=(7, 3))),
    ("bilinear", (1, 2, 4, 5), dict(scale_factor=2.3)),
    ("bilinear", (1, 2, 4, 5), dict(scale_factor=(1.5, 0.7), recompute_scale_factor=True)),
    ("bicubic", (1, 2, 4, 5), dict(size=(8, 9))),
    ("bicubic", (1, 2, 6, 5), dict(scale_factor=0.5)),
    ("trilinear", (1, 1, 3, 4, 2), dict(size=(5, 3, 4))),
]


@pytest.mark.parametrize("mode,shape,kw", CASES)
@pytest.mark.parametrize("align_corners", [None, False, True])
def test_interpolate(mode, shape, kw, align_corners):
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        return
    check(lambda m, x: m.nn.functional.interpolate(x, mode=mode, align_corners=align_corners,
                                                   **kw), [shape])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [dict(size=(3, 4)), dict(scale_factor=0.4), dict(size=(9, 5)),
                                dict(size=(3, 7), align_corners=True)])
def test_interpolate_antialias(mode, kw):
    check(lambda m, x: m.nn.functional.interpolate(x, mode=mode, antialias=True, **kw),
          [(1, 2, 8, 7)])


def test_upsample_modules():
    x = rand(1, 2, 3, 4)
    for t, e in ((torch.nn.Upsample(scale_factor=2, mode="bilinear"),
                  nn.Upsample(scale_factor=2, mode="bilinear")),
                 (torch.nn.Upsample(size=(5, 6), mode="bicubic", align_corners=True),
                  nn.Upsample(size=(5, 6), mode="bicubic", align_corners=True)),
                 (torch.nn.UpsamplingNearest2d(scale_factor=3), nn.UpsamplingNearest2d(None, 3)),
                 (torch.nn.UpsamplingBilinear2d(size=7), nn.UpsamplingBilinear2d(size=7))):
        compare_module(t, e, [x])
        assert repr(e) == repr(t)


def test_interpolate_errors():
    x = ember.randn(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x, mode="bilinear")
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=(2, 2), scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=(3, 3), align_corners=True)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(3, 3, 3))
    with pytest.raises(NotImplementedError, match="got foo"):
        F.interpolate(x, size=(3, 3), mode="foo")


PADS = [(kind, d) for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
        for d in (1, 2, 3)]


@pytest.mark.parametrize("kind,d", PADS)
@pytest.mark.parametrize("batched", [True, False])
def test_padding_modules(kind, d, batched):
    padding = (2, 1, 0, 2, 1, 1)[:2 * d]
    args = (padding, 1.5) if kind == "Constant" else (padding,)
    t = getattr(torch.nn, f"{kind}Pad{d}d")(*args)
    e = getattr(nn, f"{kind}Pad{d}d")(*args)
    shape = (2, 3, 4, 3, 5)[3 - d:] if batched else (3, 4, 3, 5)[4 - d - 1:]
    compare_module(t, e, [rand(*shape)])
    assert repr(e) == repr(t)
    if kind != "Constant":
        int_pad = getattr(nn, f"{kind}Pad{d}d")(1)
        assert int_pad.padding == getattr(torch.nn, f"{kind}Pad{d}d")(1).padding


def test_padding_errors():
    with pytest.raises(ValueError, match=r"ReflectionPad2d: expected 3D or 4D input, got 2D"):
        nn.ReflectionPad2d(1)(ember.randn(3, 3))
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or a tuple of 4"):
        nn.ZeroPad2d((1, 2))


@pytest.mark.parametrize("shape,r", [((1, 8, 2, 3), 2), ((2, 3, 9, 1, 2), 3), ((18, 2, 2), 3)])
def test_pixel_shuffle(shape, r):
    check(lambda m, x: m.nn.functional.pixel_shuffle(x, r), [shape])
    compare_module(torch.nn.PixelShuffle(r), nn.PixelShuffle(r), [rand(*shape)])
    out = (*shape[:-3], shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)
    check(lambda m, x: m.nn.functional.pixel_unshuffle(x, r), [out])
    compare_module(torch.nn.PixelUnshuffle(r), nn.PixelUnshuffle(r), [rand(*out)])


def test_shuffle_errors_and_channel_shuffle():
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor, but "
                                           r"input.size\(-3\)=3 is not divisible by 4"):
        F.pixel_shuffle(ember.randn(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle expects height to be divisible"):
        F.pixel_unshuffle(ember.randn(1, 3, 3, 2), 2)
    compare_module(torch.nn.ChannelShuffle(3), nn.ChannelShuffle(3), [rand(2, 6, 2, 2)],
                   grad=False)
    x = ember.tensor(rand(2, 6, 2, 2), requires_grad=True)
    nn.ChannelShuffle(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 6, 2, 2)))


def test_fold_unfold_modules():
    t, e = torch.nn.Unfold(2, dilation=1, padding=1, stride=2), nn.Unfold(2, 1, 1, 2)
    compare_module(t, e, [rand(2, 3, 5, 4)])
    assert repr(e) == repr(t)
    t, e = torch.nn.Fold((4, 5), 2, padding=1, stride=1), nn.Fold((4, 5), 2, padding=1, stride=1)
    compare_module(t, e, [rand(2, 12, 30)])
    assert repr(e) == repr(t)
