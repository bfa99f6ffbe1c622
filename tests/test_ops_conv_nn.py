"""Convolution, pooling and the fused nn ops, each compared with torch.nn.functional
(values and gradients) and checked with ember's finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import ember
from ember.autograd.gradcheck import gradgradcheck
from helpers import F, check

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")



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


@pytest.mark.parametrize("cin, cout, groups, kw", [
    (1, 16, 1, dict(padding=1)),          # single channel: channel-form patches
    (16, 24, 1, dict(padding=1)),         # channels-last input: row-form patches
    (16, 24, 1, dict(stride=2)),
    (16, 24, 4, dict(padding=(1, 2))),    # grouped: channel form, one product per group
])
def test_conv2d_blocked_channels_last_chain_matches_torch(cin, cout, groups, kw):
    """A conv -> relu -> conv chain on a batch large enough that the products run over several
    blocks of images, the second convolution reading the first's channels-last output: values and
    every gradient against PyTorch."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((48, cin, 24, 24)).astype(np.float32)
    w1 = (rng.standard_normal((cin, cin, 3, 3)) / 3).astype(np.float32)
    w2 = (rng.standard_normal((cout, cin // groups, 3, 3)) / 3).astype(np.float32)
    b2 = rng.standard_normal(cout).astype(np.float32)
    outs = {}
    for m in (ember, torch):
        xs, w1s, w2s, b2s = (m.tensor(a, requires_grad=True) for a in (x, w1, w2, b2))
        h = F(m).relu(F(m).conv2d(xs, w1s, padding=1))
        y = F(m).conv2d(h, w2s, b2s, groups=groups, **kw)
        (y * y).sum().backward()
        outs[m] = [np.asarray(t.detach().numpy()) for t in (y, xs.grad, w1s.grad, w2s.grad, b2s.grad)]
    assert x.size * 9 * x.itemsize > 1 << 19  # the patches span more than one block
    for e, t in zip(outs[ember], outs[torch]):
        np.testing.assert_allclose(e, t, rtol=2e-3, atol=2e-3 * max(1.0, float(np.abs(t).max())))


@pytest.mark.parametrize("pool, kw", [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=2)),
])
def test_pooling_blocked_channels_last_matches_torch(pool, kw):
    """Pooling of a convolution's channels-last, relu'd output (ties at 0 included) over a batch
    that spans several blocks of images: values and input gradients against PyTorch."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((48, 3, 27, 27)).astype(np.float32)
    w = (rng.standard_normal((16, 3, 3, 3)) / 3).astype(np.float32)
    outs = {}
    for m in (ember, torch):
        xs, ws = m.tensor(x), m.tensor(w, requires_grad=True)
        h = F(m).relu(F(m).conv2d(xs, ws))
        y = getattr(F(m), pool)(h, **kw)
        (y * y).sum().backward()
        outs[m] = [np.asarray(t.detach().numpy()) for t in (y, ws.grad)]
    assert 48 * 16 * 25 * 25 * 4 > 1 << 19  # the pooled input spans more than one block
    for e, t in zip(outs[ember], outs[torch]):
        np.testing.assert_allclose(e, t, rtol=2e-3, atol=2e-3 * max(1.0, float(np.abs(t).max())))


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


# ------------------------------------------------------------------------------ softmax family

@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1),
                                       ((2, 3, 4), 1)])
def test_softmax_family(fn, shape, dim):
    check(lambda m, x: getattr(F(m), fn)(x, dim), [shape], low=-5, high=5)
    check(lambda m, x: getattr(x, fn)(dim), [shape], gradcheck_=False)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_is_stable(fn):
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 3.0, 1.0]])
    check(lambda m, x: getattr(F(m), fn)(x, 1), [x.shape], inputs=[x], gradcheck_=False)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_double_backward(fn):
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: getattr(ember, fn)(x, 1), (x,))


# ------------------------------------------------------------------------------------- losses

def _targets(shape, classes, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, classes, size=shape)
    if ignore is not None:
        t.flat[::3] = ignore
    return t


def _weights(classes):
    return np.linspace(0.5, 2.0, classes)


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=True),
    dict(weight=True, reduction="none"),
    dict(ignore_index=2),
    dict(ignore_index=-100, ignore=-100, weight=True),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.2, weight=True),
    dict(label_smoothing=0.3, weight=True, ignore=1, ignore_index=1),
    dict(label_smoothing=0.3, weight=True, ignore=1, ignore_index=1, reduction="sum"),
    dict(label_smoothing=0.25, ignore=-1, ignore_index=-1, reduction="none"),
]


def _ce_call(kw, classes):
    kw = dict(kw)
    ignore = kw.pop("ignore", None)
    use_w = kw.pop("weight", False)
    return kw, ignore, use_w


@pytest.mark.parametrize("kw", CE_CASES)
@pytest.mark.parametrize("xshape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_class_indices(kw, xshape):
    kw, ignore, use_w = _ce_call(kw, xshape[1])
    tshape = (xshape[0],) + xshape[2:]
    t = _targets(tshape, xshape[1], ignore=ignore)
    x = np.random.default_rng(5).uniform(-3, 3, xshape)
    if use_w:
        check(lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w, **kw), None,
              inputs=[x, t, _weights(xshape[1])], grad_inputs=[True, False, False])
    else:
        check(lambda m, x, t: F(m).cross_entropy(x, t, **kw), None, inputs=[x, t])


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"),
                                dict(label_smoothing=0.2), dict(weight=True),
                                dict(weight=True, label_smoothing=0.1, reduction="none")])
@pytest.mark.parametrize("xshape", [(5, 3), (2, 3, 4)])
def test_cross_entropy_probabilities(kw, xshape):
    kw, _, use_w = _ce_call(kw, xshape[1])
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, xshape)
    p = rng.uniform(0, 1, xshape)
    p /= p.sum(1, keepdims=True)
    extra = [_weights(xshape[1])] if use_w else []
    # both the logits and the probability targets are differentiated, as in torch
    check(lambda m, x, p, *w: F(m).cross_entropy(x, p, *(w and [w[0]]), **kw), None,
          inputs=[x, p] + extra, grad_inputs=[True, True] + [False] * len(extra))


def test_cross_entropy_unbatched():
    x = np.random.default_rng(1).uniform(-2, 2, (5,))
    for red in ("mean", "none"):
        check(lambda m, x, t, red=red: F(m).cross_entropy(x, t, reduction=red), None,
              inputs=[x, np.array(3)])


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = ember.zeros(2, 3, requires_grad=True)
    loss = ember.cross_entropy(x, ember.tensor([-100, -100]))
    assert np.isnan(loss.item())


def test_cross_entropy_float32_fast_path():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    t = rng.integers(0, 10, 64)
    e = ember.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    le = ember.cross_entropy(e, ember.tensor(t), label_smoothing=0.1)
    lt = TF.cross_entropy(tt, torch.tensor(t), label_smoothing=0.1)
    le.backward()
    lt.backward()
    assert le.dtype == ember.float32 and e.grad.dtype == ember.float32
    np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(e.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("kw", [dict(), dict(label_smoothing=0.2, weight=True),
                                dict(reduction="none", ignore=0, ignore_index=0)])
def test_cross_entropy_double_backward(kw):
    kw, ignore, use_w = _ce_call(kw, 4)
    t = ember.tensor(_targets((3,), 4, ignore=ignore))
    w = ember.tensor(_weights(4)) if use_w else None
    x = ember.tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: ember.cross_entropy(x, t, weight=w, **kw), (x,))


def test_cross_entropy_probabilities_and_nll_double_backward():
    rng = np.random.default_rng(9)
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    p = ember.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    w = ember.tensor(_weights(4))
    assert gradgradcheck(lambda x, p: ember.cross_entropy(x, p, weight=w, label_smoothing=0.1),
                         (x, p))
    t = ember.tensor([0, 3, 1])
    assert gradgradcheck(lambda x: ember.nll_loss(ember.log_softmax(x, 1), t, weight=w), (x,))


def test_cross_entropy_double_backward_matches_torch():
    rng = np.random.default_rng(4)
    xa, t = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    res = []
    for m in (torch, ember):
        x = m.tensor(xa, requires_grad=True)
        loss = F(m).cross_entropy(x, m.tensor(t), label_smoothing=0.1)
        g, = m.autograd.grad(loss, [x], create_graph=True)
        (g * g).sum().backward()
        res.append(np.asarray(x.grad.detach()))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-6, atol=1e-10)


NLL_CASES = [dict(), dict(reduction="sum"), dict(reduction="none"), dict(weight=True),
             dict(weight=True, ignore=2, ignore_index=2), dict(ignore=-100, reduction="none"),
             dict(weight=True, ignore=-100, reduction="sum")]


@pytest.mark.parametrize("kw", NLL_CASES)
@pytest.mark.parametrize("xshape", [(6, 4), (3, 4, 5)])
def test_nll_loss(kw, xshape):
    kw, ignore, use_w = _ce_call(kw, xshape[1])
    t = _targets((xshape[0],) + xshape[2:], xshape[1], ignore=ignore)
    x = np.random.default_rng(6).uniform(-3, 0, xshape)
    extra = [_weights(xshape[1])] if use_w else []
    check(lambda m, x, t, *w: F(m).nll_loss(x, t, *(w and [w[0]]), **kw), None,
          inputs=[x, t] + extra, grad_inputs=[True, False] + [False] * len(extra))


def test_nll_of_log_softmax_equals_cross_entropy():
    x = ember.tensor(np.random.default_rng(8).standard_normal((4, 3)), requires_grad=True)
    t = ember.tensor([0, 2, 1, 2])
    a = ember.nll_loss(ember.log_softmax(x, 1), t)
    b = ember.cross_entropy(x, t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


@pytest.mark.parametrize("call,exc,words", [
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, 5, 2])), IndexError, ["5", "5 classes"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, -3, 2])), IndexError, ["-3"]),
    (lambda m: F(m).nll_loss(m.zeros(3, 5), m.tensor([1, 7, 2])), IndexError, ["7"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, 2])), ValueError, ["(3)", "(2)"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5, 4), m.zeros(3, 3, dtype=m.int64)), RuntimeError,
     ["[3, 4]", "[3, 3]"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.zeros(3, 4)), RuntimeError, []),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, 2, 2]), weight=m.ones(4)),
     RuntimeError, ["5 classes", "[4]"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, 2, 2]), label_smoothing=1.5),
     RuntimeError, ["1.5"]),
    (lambda m: F(m).cross_entropy(m.zeros(3, 5), m.tensor([1, 2, 2]), reduction="avg"),
     ValueError, ["avg"]),
    (lambda m: F(m).nll_loss(m.zeros(3, 5), m.zeros(3)), RuntimeError, []),
])
def test_loss_errors_like_torch(call, exc, words):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc) as info:
        call(ember)
    for w in words:
        assert w in str(info.value)


# ------------------------------------------------------------------------------------- dropout

def test_dropout_identity_cases():
    x = ember.randn(4, 5, requires_grad=True)
    assert ember.dropout(x, 0.0) is x
    assert ember.dropout(x, 0.7, training=False) is x
    assert ember.dropout2d(x.reshape(1, 4, 5, 1), 0.5, training=False).shape == (1, 4, 5, 1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ember.dropout(x, 1.5)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_statistics_and_gradient(p):
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = ember.dropout(x, p)
    a = y.detach().numpy()
    kept = a != 0
    # survivors are scaled by exactly 1/(1-p); the drop rate and the mean match within 4 sigma
    np.testing.assert_allclose(a[kept], 1.0 / (1.0 - p), rtol=1e-6)
    n = a.size
    assert abs((~kept).mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert abs(a.mean() - 1.0) < 4 * np.sqrt(p / (1 - p) / n)
    g = np.random.default_rng(0).standard_normal(a.shape).astype(np.float32)
    y.backward(ember.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * a, rtol=1e-6)


def test_dropout_is_reproducible_and_p1_zeroes():
    ember.manual_seed(3)
    a = ember.dropout(ember.ones(50), 0.5).numpy()
    ember.manual_seed(3)
    b = ember.dropout(ember.ones(50), 0.5).numpy()
    assert np.array_equal(a, b)
    assert not ember.dropout(ember.ones(50), 1.0).numpy().any()


def test_dropout_inplace():
    ember.manual_seed(1)
    x = ember.ones(100)
    y = ember.dropout(x, 0.5, inplace=True)
    # both outcomes occur (an all-zero or all-2 result would pass a subset check alone)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    assert 30 <= int((x.numpy() == 0).sum()) <= 70  # Binomial(100, 0.5): ~6 sigma either side
    # in place on a non-leaf: the gradient is the same mask, scaled
    ember.manual_seed(2)
    w = ember.ones(200, requires_grad=True)
    h = w * 1.0
    out = ember.dropout(h, 0.25, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), h.detach().numpy())
    assert set(np.unique(w.grad.numpy())) == {0.0, np.float32(1 / 0.75)}


def test_dropout2d_drops_whole_channels():
    ember.manual_seed(0)
    x = ember.ones(8, 16, 5, 5, requires_grad=True)
    y = ember.dropout2d(x, 0.5)
    a = y.detach().numpy()
    per_channel = a.reshape(8, 16, 25)
    assert (per_channel.min(2) == per_channel.max(2)).all()  # each channel all-kept or all-dropped
    assert set(np.unique(a)) <= {0.0, 2.0} and 0.25 < (a == 0).mean() < 0.75
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a)


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(0)
    x = ember.randn(400, 500)
    y = ember.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    assert ember.alpha_dropout(x, 0.3) is x  # training defaults to False, as in torch
