"""The added activation layers, distances, RMSNorm, LocalResponseNorm, EmbeddingBag and the
alpha/3-d dropouts against PyTorch with identical weights and inputs (values and gradients),
and gradcheck of the new functional forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import check
from tests.test_nn_layers import compare_module, rand

ACTIVATIONS = [
    ("SELU", ()), ("CELU", (0.7,)), ("GLU", ()), ("GLU", (1,)), ("Hardswish", ()),
    ("Hardsigmoid", ()), ("Hardshrink", (0.3,)), ("Softshrink", (0.3,)), ("Softsign", ()),
    ("Tanhshrink", ()), ("LogSigmoid", ()), ("Threshold", (0.1, 20.0)), ("PReLU", ()),
    ("PReLU", (4, 0.1)), ("Softmax2d", ()),
]


@pytest.mark.parametrize("name,args", ACTIVATIONS)
def test_activation_modules(name, args):
    t, e = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    compare_module(t, e, [rand(3, 4, 2, 2, low=-3, high=3)])
    assert repr(e) == repr(t)


def test_rrelu():
    t, e = torch.nn.RReLU(0.1, 0.3), nn.RReLU(0.1, 0.3)
    compare_module(t, e, [rand(3, 4)], train=False)
    assert repr(e) == repr(t)
    x = ember.tensor(rand(200), requires_grad=True)
    y = e.train()(x)
    neg = x.detach().numpy() < 0
    ratio = y.detach().numpy()[neg] / x.detach().numpy()[neg]
    assert ratio.min() >= 0.1 and ratio.max() <= 0.3 and ratio.std() > 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[neg], ratio)


@pytest.mark.parametrize("fn,shapes", [
    (lambda m, x: m.nn.functional.glu(x, 0), [(4, 3)]),
    (lambda m, x, y: m.nn.functional.pairwise_distance(x, y), [(3, 5), (3, 5)]),
    (lambda m, x, y: m.nn.functional.pairwise_distance(x, y, 1.5, 1e-3, True), [(3, 5), (5,)]),
    (lambda m, x, y: m.nn.functional.pairwise_distance(x, y, float("inf")), [(3, 5), (3, 5)]),
    (lambda m, x: m.nn.functional.pdist(x), [(4, 3)]),
    (lambda m, x, w: m.nn.functional.rms_norm(x, (3,), w, 1e-5), [(2, 4, 3), (3,)]),
    (lambda m, x: m.nn.functional.rms_norm(x, (4, 3)), [(2, 4, 3)]),
    (lambda m, x: m.nn.functional.local_response_norm(x, 3, 1e-2, 0.75, 2.0), [(2, 5, 3)]),
    (lambda m, x: m.nn.functional.local_response_norm(x, 2), [(2, 4, 3, 2)]),
])
def test_functional_forms(fn, shapes):
    check(fn, shapes)


def test_distance_and_norm_modules():
    compare_module(torch.nn.CosineSimilarity(1), nn.CosineSimilarity(1),
                   [rand(3, 4), rand(3, 4, seed=1)])
    compare_module(torch.nn.PairwiseDistance(3.0, keepdim=True),
                   nn.PairwiseDistance(3.0, keepdim=True), [rand(3, 4), rand(3, 4, seed=1)])
    for kw in ({}, {"eps": 1e-3}, {"elementwise_affine": False}):
        t, e = torch.nn.RMSNorm([2, 3], **kw), nn.RMSNorm([2, 3], **kw)
        if t.weight is not None:
            with torch.no_grad():
                t.weight.uniform_(0.5, 1.5)
        compare_module(t, e, [rand(4, 2, 3)])
        assert repr(e) == repr(t)
    t, e = torch.nn.LocalResponseNorm(3, 0.1, 0.5, 1.5), nn.LocalResponseNorm(3, 0.1, 0.5, 1.5)
    compare_module(t, e, [rand(2, 6, 3, 3)])
    assert repr(e) == repr(t)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*4\], but got input of size\[3, 5\]"):
        F.rms_norm(ember.randn(3, 5), (4,))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 5"):
        F.glu(ember.randn(3, 5))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag(mode, padding_idx):
    t = torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    e = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    idx2 = np.array([[0, 2, 1], [5, 5, 3], [2, 2, 4]])
    compare_module(t, e, [idx2])
    flat = np.array([1, 2, 4, 5, 4, 3, 2, 0])
    offsets = np.array([0, 2, 2, 5])  # the second bag is empty
    compare_module(t, e, [flat, offsets])
    tl = torch.nn.EmbeddingBag(6, 3, mode=mode, include_last_offset=True,
                               padding_idx=padding_idx)
    el = nn.EmbeddingBag(6, 3, mode=mode, include_last_offset=True, padding_idx=padding_idx)
    compare_module(tl, el, [flat, np.array([0, 3, 3, 8])])
    assert repr(e) == repr(t)


def test_embedding_bag_per_sample_weights_and_errors():
    t, e = torch.nn.EmbeddingBag(5, 2, mode="sum"), nn.EmbeddingBag(5, 2, mode="sum")
    compare_module(t, e, [np.array([1, 2, 4, 0]), np.array([0, 1]), rand(4)],
                   call=lambda m, i, o, w: m(i, o, per_sample_weights=w))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        nn.EmbeddingBag(3, 2)(ember.tensor([0, 1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        nn.EmbeddingBag(3, 2)(ember.tensor([[0, 1]]), per_sample_weights=ember.ones(1, 2))
    w = ember.randn(4, 2)
    bag = nn.EmbeddingBag.from_pretrained(w)
    assert not bag.weight.requires_grad and bag(ember.tensor([[0, 1]])).shape == (1, 2)


def test_alpha_and_3d_dropout():
    x = ember.tensor(rand(4, 6, 3, 3))
    for cls in (nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Dropout3d):
        m = cls(0.3)
        assert repr(m) == repr(getattr(torch.nn, cls.__name__)(0.3))
        assert m.eval()(x) is x
    ember.manual_seed(0)
    big = ember.randn(200, 50, 4, 4)
    y = nn.FeatureAlphaDropout(0.2).train()(big).numpy()
    per_channel = y.reshape(200, 50, -1)
    dropped = np.all(per_channel == per_channel[..., :1], axis=-1)
    assert 0.15 < dropped.mean() < 0.25  # whole channels dropped at rate p
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05  # mean and variance kept
    y3 = nn.Dropout3d(0.5).train()(ember.ones(20, 30, 2, 2, 2)).numpy()
    assert set(np.unique(y3)) <= {0.0, 2.0}
    assert np.all(y3.reshape(20, 30, -1).std(-1) == 0)
