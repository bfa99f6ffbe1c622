"""LPPool, max unpooling, 3-d max-pool indices, the *_with_indices forms, gumbel_softmax,
affine_grid/grid_sample, linear_cross_entropy, SyncBatchNorm, CrossMapLRN2d, NLLLoss2d and
AdaptiveLogSoftmaxWithLoss against PyTorch (values and gradients) and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd.gradcheck import gradcheck
from tests.helpers import check
from tests.test_nn_layers import compare_module, copy_weights, rand


@pytest.mark.parametrize("name,args,shape", [
    ("LPPool1d", (2, 3), (2, 3, 7)),
    ("LPPool1d", (1.5, 2, 1, True), (2, 3, 6)),
    ("LPPool2d", (2, 2), (2, 3, 4, 5)),
    ("LPPool2d", (3, (2, 3), (1, 2)), (2, 3, 4, 5)),
    ("LPPool3d", (2, 2), (1, 2, 4, 4, 4)),
])
def test_lp_pool(name, args, shape):
    t, e = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    compare_module(t, e, [np.abs(rand(*shape)) + 0.1])
    assert repr(e) == repr(t)


@pytest.mark.parametrize("nd,kw,shape", [
    (1, dict(kernel_size=2), (2, 3, 8)),
    (2, dict(kernel_size=2, stride=2, padding=1), (2, 3, 5, 6)),
    (3, dict(kernel_size=2), (1, 2, 4, 4, 4)),
    (3, dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=1), (1, 2, 4, 5, 4)),
])
def test_max_pool_indices_and_unpool(nd, kw, shape):
    x = rand(*shape)
    tp = getattr(torch.nn, f"MaxPool{nd}d")(return_indices=True, **kw)
    ep = getattr(nn, f"MaxPool{nd}d")(return_indices=True, **kw)
    t_out, t_idx = tp(torch.tensor(x))
    e_out, e_idx = ep(ember.tensor(x))
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy())
    tu = getattr(torch.nn, f"MaxUnpool{nd}d")(**kw)
    eu = getattr(nn, f"MaxUnpool{nd}d")(**kw)
    assert repr(eu) == repr(tu)
    if "padding" not in kw:  # with padding the default size can be too small for the indices
        compare_module(tu, eu, [t_out.numpy(), t_idx.numpy()], int_inputs=(1,))
    size = tuple(x.shape)
    compare_module(tu, eu, [t_out.numpy(), t_idx.numpy()], int_inputs=(1,),
                   call=lambda m, a, i: m(a, i, output_size=size))
    with_indices = getattr(F, f"max_pool{nd}d_with_indices")(ember.tensor(x), **kw)
    np.testing.assert_array_equal(with_indices[1].numpy(), t_idx.numpy())


def test_adaptive_with_indices():
    x = rand(2, 3, 7, 5)
    t = torch.nn.functional.adaptive_max_pool2d_with_indices(torch.tensor(x), (3, 2))
    e = F.adaptive_max_pool2d_with_indices(ember.tensor(x), (3, 2))
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    t = torch.nn.functional.adaptive_max_pool1d_with_indices(torch.tensor(x[0]), 3)
    e = F.adaptive_max_pool1d_with_indices(ember.tensor(x[0]), 3)
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    check(lambda m, th: m.nn.functional.affine_grid(th, [2, 3, 4, 5],
                                                    align_corners=align_corners), [(2, 2, 3)])
    check(lambda m, th: m.nn.functional.affine_grid(th, [1, 1, 3, 2, 4],
                                                    align_corners=align_corners), [(1, 3, 4)])


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    grid = rand(2, 3, 4, 2, seed=1, low=-1.3, high=1.3)
    if mode == "nearest":  # keep clear of rounding ties; no gradient flows to the grid
        check(lambda m, x: m.nn.functional.grid_sample(
            x, m.tensor(grid, dtype=x.dtype, device=x.device), mode, padding_mode,
            align_corners), [(2, 3, 5, 6)])
    else:
        check(lambda m, x, g: m.nn.functional.grid_sample(x, g, mode, padding_mode,
                                                          align_corners),
              [(2, 3, 5, 6), (2, 3, 4, 2)], low=-1.3, high=1.3)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d(mode, padding_mode):
    grid = rand(1, 2, 3, 2, 3, seed=1, low=-1.3, high=1.3)
    if mode == "nearest":
        check(lambda m, x: m.nn.functional.grid_sample(
            x, m.tensor(grid, dtype=x.dtype, device=x.device), mode, padding_mode, True),
            [(1, 2, 3, 4, 3)])
    else:
        check(lambda m, x, g: m.nn.functional.grid_sample(x, g, mode, padding_mode, False),
              [(1, 2, 3, 4, 3), (1, 2, 3, 2, 3)], low=-1.3, high=1.3)


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor(np.log(np.array([[0.1, 0.6, 0.3]] * 4000)), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1.0, atol=1e-12)
    hard = F.gumbel_softmax(logits, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and np.all(h.sum(1) == 1)
    np.testing.assert_allclose(h.mean(0), [0.1, 0.6, 0.3], atol=0.03)  # samples the categories
    (hard * ember.tensor(rand(4000, 3))).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0  # straight-through


def test_linear_cross_entropy_and_module():
    x, w, b = rand(5, 4), rand(3, 4, seed=1), rand(3, seed=2)
    y = np.array([0, 2, 1, 1, 0])
    results = []
    for fw in (torch, ember):
        xs = [fw.tensor(a, requires_grad=True) for a in (x, w, b)]
        loss = fw.nn.functional.linear_cross_entropy(xs[0], xs[1], fw.tensor(y),
                                                     linear_bias=xs[2], label_smoothing=0.1)
        loss.backward()
        results.append([loss] + [a.grad for a in xs])
    for t, e in zip(*results):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=1e-12)
    t, e = torch.nn.LinearCrossEntropyLoss(4, 3), nn.LinearCrossEntropyLoss(4, 3)
    compare_module(t, e, [x, y], int_inputs=(1,))
    assert repr(e) == repr(t)


def test_sync_batchnorm_crossmap_nllloss2d():
    t, e = torch.nn.SyncBatchNorm(3), nn.SyncBatchNorm(3)
    compare_module(t, e, [rand(4, 3, 2, 2)], train=False)
    assert repr(e) == repr(t)
    net = nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3))
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(conv[1], nn.SyncBatchNorm) and conv[1].weight is net[1].weight
    with pytest.raises(ValueError, match="expected at least 2D input"):
        nn.SyncBatchNorm(3)(ember.randn(3))
    # PyTorch's legacy CrossMapLRN2d backward is the plain-LRN formula, not the gradient of its
    # own forward (whose running window keeps channel 0 one step too long): values compared
    # with PyTorch, gradients by gradcheck
    for size, channels in ((3, 5), (5, 7), (2, 4)):
        t, e = torch.nn.CrossMapLRN2d(size, 0.1, 0.5, 2), nn.CrossMapLRN2d(size, 0.1, 0.5, 2)
        compare_module(t, e, [rand(2, channels, 3, 3)], grad=False)
        assert repr(e) == repr(t)
    x = ember.tensor(rand(1, 5, 2, 2), requires_grad=True)
    assert gradcheck(nn.CrossMapLRN2d(3, 0.1, 0.5, 2), (x,))
    with pytest.warns(FutureWarning):
        tl = torch.nn.NLLLoss2d()
    compare_module(tl, nn.NLLLoss2d(), [rand(2, 3, 2, 2), np.array([[[0, 1], [2, 0]]] * 2)],
                   int_inputs=(1,))


def test_adaptive_log_softmax_with_loss():
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6], div_value=2.0, head_bias=True)
    e = nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6], div_value=2.0, head_bias=True)
    t.double()
    e.double()
    copy_weights(t, e)
    x = rand(7, 16)
    y = np.array([0, 4, 9, 2, 6, 5, 8])
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    to, eo = t(tx, torch.tensor(y)), e(ex, ember.tensor(y))
    for a, b in zip(eo, to):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    to.loss.backward()
    eo.loss.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    for (name, tp), ep in zip(t.named_parameters(), e.parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), atol=1e-12, err_msg=name)
    np.testing.assert_allclose(e.log_prob(ember.tensor(x)).detach().numpy(),
                               t.log_prob(torch.tensor(x)).detach().numpy(), atol=1e-12)
    np.testing.assert_array_equal(e.predict(ember.tensor(x)).numpy(),
                                  t.predict(torch.tensor(x)).numpy())
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 20])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\]"):
        e(ember.tensor(x), ember.tensor([0, 1, 2, 3, 4, 5, 10]))


@pytest.mark.parametrize("out,shape", [((2, 3, 2), (2, 3, 5, 6, 5)), (3, (2, 4, 3, 5))])
def test_adaptive_max_pool3d_indices(out, shape):
    x = rand(*shape)
    t = torch.nn.AdaptiveMaxPool3d(out, return_indices=True)(torch.tensor(x))
    e = nn.AdaptiveMaxPool3d(out, return_indices=True)(ember.tensor(x))
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    e2 = F.adaptive_max_pool3d_with_indices(ember.tensor(x), out)
    np.testing.assert_array_equal(e2[1].numpy(), t[1].numpy())


@pytest.mark.parametrize("nd,kw,shape", [
    (2, dict(kernel_size=2, output_size=(3, 4)), (2, 3, 7, 9)),
    (2, dict(kernel_size=(3, 2), output_ratio=0.5), (2, 3, 8, 9)),
    (3, dict(kernel_size=2, output_size=(2, 3, 2)), (1, 2, 5, 6, 5)),
])
def test_fractional_max_pool(nd, kw, shape):
    samples = np.random.default_rng(3).random((shape[0], shape[1], nd))
    x = rand(*shape)
    results = []
    for fw, mod in ((torch, torch.nn), (ember, nn)):
        layer = getattr(mod, f"FractionalMaxPool{nd}d")(return_indices=True,
                                                         _random_samples=fw.tensor(samples),
                                                         **kw)
        xt = fw.tensor(x, requires_grad=True)
        out, idx = layer(xt)
        (out * fw.tensor(rand(*out.shape, seed=2))).sum().backward()
        results.append((out, idx, xt.grad))
    for a, b in zip(*results):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    ember.manual_seed(0)
    assert nn.FractionalMaxPool2d(2, output_size=3)(ember.randn(1, 2, 6, 6)).shape == (1, 2, 3, 3)
