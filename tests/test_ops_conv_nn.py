"""Convolution, pooling and the fused nn ops, each compared with torch.nn.functional
(values and gradients) and checked with ember's finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import ember
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from helpers import check

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def F(m):
    """``torch.nn.functional`` for torch, the ember op namespace for ember."""
    return TF if m is torch else ember


def distinct(shape, seed=0):
    """Values without ties (a permutation scaled), so max pooling has one winner per window."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n * 4 - 2).astype(np.float64)


# ----------------------------------------------------------------------------------- convolution

CONV2D_CASES = [
    # (x shape, w shape, kwargs)
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), dict(stride=2)),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ((1, 3, 8, 7), (2, 3, 3, 3), dict(padding=(2, 1), stride=(2, 3))),
    ((2, 2, 9, 8), (3, 2, 3, 2), dict(dilation=2, padding=1)),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2)),
    ((2, 4, 6, 5), (4, 1, 2, 3), dict(groups=4, stride=2, padding=1)),
    ((1, 2, 6, 6), (3, 2, 4, 3), dict(padding="same")),
    ((1, 2, 6, 6), (3, 2, 2, 2), dict(padding="same", dilation=(2, 1))),
    ((1, 2, 5, 6), (3, 2, 3, 3), dict(padding="valid")),
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_conv2d(xs, ws, kw, bias):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda m, x, w, *b: F(m).conv2d(x, w, *b, **kw), shapes)


def test_conv2d_unbatched():
    check(lambda m, x, w: F(m).conv2d(x, w, padding=1), [(2, 5, 4), (3, 2, 3, 3)])


@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=1), dict(dilation=2), dict(groups=2),
                                dict(padding="same")])
def test_conv1d(kw):
    check(lambda m, x, w, b: F(m).conv1d(x, w, b, **kw), [(2, 4, 9), (6, 4 // kw.get("groups", 1), 3),
                                                          (6,)])


CONVT_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 3, 4, 4), (3, 2, 3, 2), dict(stride=2)),
    ((2, 3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 3, 4), (4, 1, 3, 3), dict(stride=(2, 3), output_padding=(1, 2), groups=2)),
    ((2, 2, 4, 3), (2, 3, 2, 3), dict(dilation=2, padding=1)),
    ((1, 2, 3, 3), (2, 2, 3, 3), dict(stride=2, dilation=3, output_padding=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT_CASES)
def test_conv_transpose2d(xs, ws, kw):
    b = (ws[1] * kw.get("groups", 1),)
    check(lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, **kw), [xs, ws, b])


def test_conv_transpose1d():
    check(lambda m, x, w: F(m).conv_transpose1d(x, w, stride=2, padding=1, output_padding=1),
          [(2, 3, 5), (3, 2, 3)])


def test_conv2d_float32_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 10, 10)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    e = ember.conv2d(ember.tensor(x), ember.tensor(w), stride=2, padding=1)
    t = TF.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    assert e.dtype == ember.float32
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_double_backward():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((2,)), requires_grad=True)
    assert gradgradcheck(lambda x, w, b: ember.conv2d(x, w, b, stride=1, padding=1), (x, w, b))
    wg = ember.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, w: ember.conv2d(x, w, stride=2, groups=2), (x, wg))


def test_conv_transpose2d_double_backward():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, w: ember.conv_transpose2d(x, w, stride=2), (x, w))


def test_conv2d_second_derivative_matches_torch():
    rng = np.random.default_rng(3)
    xa, wa = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    res = []
    for m in (torch, ember):
        x = m.tensor(xa, requires_grad=True)
        w = m.tensor(wa, requires_grad=True)
        y = F(m).conv2d(x, w, padding=1, stride=2)
        gx, = m.autograd.grad((y * y).sum(), [x], create_graph=True)
        (gx * gx).sum().backward()
        res.append((np.asarray(x.grad.detach()), np.asarray(w.grad.detach())))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("call,exc,words", [
    (lambda e: e.conv2d(e.zeros(3, 28), e.zeros(4, 3, 3, 3)), RuntimeError, ["4 dims", "(3, 28)"]),
    (lambda e: e.conv2d(e.zeros(1, 3, 8, 8), e.zeros(4, 2, 3, 3)), RuntimeError, ["3 channels", "4"]),
    (lambda e: e.conv2d(e.zeros(1, 4, 8, 8), e.zeros(4, 2, 3, 3), groups=3), RuntimeError,
     ["divisible by groups"]),
    (lambda e: e.conv2d(e.zeros(1, 3, 2, 2), e.zeros(4, 3, 3, 3)), RuntimeError, ["smaller"]),
    (lambda e: e.conv2d(e.zeros(1, 3, 8, 8), e.zeros(4, 3, 3, 3), e.zeros(3)), RuntimeError,
     ["bias", "(4,)"]),
    (lambda e: e.conv2d(e.zeros(1, 3, 8, 8), e.zeros(4, 3, 3, 3), stride=2, padding="same"),
     RuntimeError, ["same"]),
    (lambda e: e.conv_transpose2d(e.zeros(1, 3, 4, 4), e.zeros(3, 2, 3, 3), stride=2,
                                  output_padding=2), RuntimeError, ["output_padding"]),
])
def test_conv_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call(ember)
    for w in words:
        assert w in str(info.value)


# --------------------------------------------------------------------------------------- pooling

MAXPOOL2D_CASES = [
    ((2, 3, 6, 6), dict(kernel_size=2)),
    ((2, 2, 7, 5), dict(kernel_size=2)),  # sizes not divisible by the kernel: the tail is dropped
    ((1, 2, 7, 7), dict(kernel_size=3, stride=2)),
    ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 8, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1))),
    ((1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((1, 2, 8, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 1, 5, 5), dict(kernel_size=3, stride=1, padding=1)),  # overlapping windows
]


@pytest.mark.parametrize("shape,kw", MAXPOOL2D_CASES)
def test_max_pool2d(shape, kw):
    check(lambda m, x: F(m).max_pool2d(x, **kw), [shape], inputs=[distinct(shape)])
    check(lambda m, x: F(m).max_pool2d(x, return_indices=True, **kw)[1].float(), [shape],
          inputs=[distinct(shape, 1)], grad=False)


def test_max_pool2d_unbatched_and_indices_dtype():
    x = distinct((2, 6, 6))
    e, ei = ember.max_pool2d(ember.tensor(x), 3, 2, 1, return_indices=True)
    t, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_allclose(e.numpy(), t.numpy())
    assert ei.dtype == ember.int64 and np.array_equal(ei.numpy(), ti.numpy())


def test_max_pool2d_ties_pick_the_first_like_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = 1.0
    check(lambda m, x: F(m).max_pool2d(x, 2), [(1, 1, 4, 4)], inputs=[x], gradcheck_=False)
    check(lambda m, x: F(m).max_pool2d(x, 3, 1, 1), [(1, 1, 4, 4)], inputs=[x], gradcheck_=False)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True)])
def test_max_pool1d(kw):
    check(lambda m, x: F(m).max_pool1d(x, **kw), [(2, 3, 11)], inputs=[distinct((2, 3, 11))])


AVGPOOL2D_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=1, divisor_override=3),
]


@pytest.mark.parametrize("kw", AVGPOOL2D_CASES)
def test_avg_pool2d(kw):
    check(lambda m, x: F(m).avg_pool2d(x, **kw), [(2, 2, 7, 6)])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False)])
def test_avg_pool1d(kw):
    check(lambda m, x: F(m).avg_pool1d(x, **kw), [(2, 3, 10)])


@pytest.mark.parametrize("size", [1, 3, (2, 5), (None, 2), (4, 7), (3, None)])
def test_adaptive_avg_pool2d(size):
    check(lambda m, x: F(m).adaptive_avg_pool2d(x, size), [(2, 3, 7, 5)])


@pytest.mark.parametrize("size", [1, 3, 4, 6])
def test_adaptive_avg_pool1d(size):
    check(lambda m, x: F(m).adaptive_avg_pool1d(x, size), [(2, 3, 7)])


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (5, 4)])
def test_adaptive_max_pool2d(size):
    shape = (2, 2, 7, 5)
    check(lambda m, x: F(m).adaptive_max_pool2d(x, size), [shape], inputs=[distinct(shape)])
    check(lambda m, x: F(m).adaptive_max_pool2d(x, size, return_indices=True)[1].float(), [shape],
          inputs=[distinct(shape, 1)], grad=False)


def test_adaptive_max_pool1d():
    check(lambda m, x: F(m).adaptive_max_pool1d(x, 3), [(2, 3, 7)], inputs=[distinct((2, 3, 7))])


@pytest.mark.parametrize("fn", [
    lambda x: ember.max_pool2d(x, 3, 2, 1),
    lambda x: ember.max_pool2d(x, 2),
    lambda x: ember.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda x: ember.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: ember.adaptive_max_pool2d(x, 3),
])
def test_pool_double_backward(fn):
    x = ember.tensor(distinct((1, 2, 5, 5)), requires_grad=True)
    assert gradgradcheck(fn, (x,))


def test_pool_errors():
    x = ember.zeros(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="half of kernel size"):
        ember.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        ember.avg_pool2d(x, 5)
    with pytest.raises(RuntimeError, match=r"4 dims .* \(4, 4\)"):
        ember.max_pool2d(ember.zeros(4, 4), 2)


# ---------------------------------------------------------------------------------- unfold / fold

@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1),
                                dict(kernel_size=2, dilation=2)])
def test_unfold_fold(kw):
    check(lambda m, x: F(m).unfold(x, **kw), [(2, 3, 6, 5)])
    cols = TF.unfold(torch.zeros(2, 3, 6, 5), **kw).shape
    check(lambda m, x: F(m).fold(x, (6, 5), **kw), [tuple(cols)])
