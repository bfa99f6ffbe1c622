"""nn.init distributions (bounds and statistics, the same as PyTorch's formulas), default layer
initialisation, and nn.utils gradient clipping against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn import init
from ember.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, \
    vector_to_parameters


def _w(*shape):
    return nn.Parameter(ember.empty(*shape))


def _a(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name,param", [("linear", None), ("relu", None), ("tanh", None),
                                        ("leaky_relu", 0.2), ("selu", None), ("sigmoid", None),
                                        ("conv2d", None)])
def test_calculate_gain(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_uniform_normal_constant_eye():
    ember.manual_seed(0)
    w = _w(200, 300)
    p = w
    assert init.uniform_(w, -2, 3) is p
    a = _a(w)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    init.normal_(w, 1.0, 2.0)
    assert abs(_a(w).mean() - 1.0) < 0.05 and abs(_a(w).std() - 2.0) < 0.05
    init.constant_(w, 0.3)
    assert np.all(_a(w) == np.float32(0.3))
    init.ones_(w)
    assert np.all(_a(w) == 1)
    init.zeros_(w)
    assert not np.any(_a(w))
    init.eye_(w)
    np.testing.assert_array_equal(_a(w), np.eye(200, 300))
    assert w.requires_grad and w.grad_fn is None  # still a leaf: nothing recorded


def test_xavier_and_kaiming_match_torch_formulas():
    ember.manual_seed(1)
    w = _w(256, 128, 3, 3)
    fan_in, fan_out = 128 * 9, 256 * 9
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(_a(w)).max() <= bound and np.abs(_a(w)).max() > 0.99 * bound
    init.xavier_normal_(w)
    assert abs(_a(w).std() - math.sqrt(2 / (fan_in + fan_out))) < 0.02 * math.sqrt(2 / (fan_in + fan_out))
    init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = math.sqrt(6 / ((1 + 5) * fan_in))
    assert np.abs(_a(w)).max() <= bound and np.abs(_a(w)).max() > 0.99 * bound
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    std = math.sqrt(2) / math.sqrt(fan_out)
    assert abs(_a(w).std() - std) < 0.02 * std and abs(_a(w).mean()) < 0.01 * std * 10


def test_orthogonal_and_trunc_normal():
    ember.manual_seed(2)
    w = _w(20, 50)
    init.orthogonal_(w, gain=1.5)
    np.testing.assert_allclose(_a(w) @ _a(w).T, 2.25 * np.eye(20), atol=1e-4)
    w = _w(60, 20)
    init.orthogonal_(w)
    np.testing.assert_allclose(_a(w).T @ _a(w), np.eye(20), atol=1e-4)
    w = _w(300, 300)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.5)
    a = _a(w)
    assert a.min() >= -1.0 and a.max() <= 1.5
    # the truncated normal's mean: mu + sigma (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha))
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    al, be = -1.5, 1.0
    want = 0.5 + (phi(al) - phi(be)) / (Phi(be) - Phi(al))
    assert abs(a.mean() - want) < 0.01


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_w(5))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("make", [
    lambda m: m.Linear(400, 300), lambda m: m.Conv2d(64, 128, 3), lambda m: m.Conv1d(32, 64, 5),
    lambda m: m.ConvTranspose2d(64, 32, 3),
])
def test_default_layer_init_bounds_like_torch(make):
    ember.manual_seed(3)
    torch.manual_seed(3)
    e, t = make(nn), make(torch.nn)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(t.weight)
    bound = 1 / math.sqrt(fan_in)  # torch's bound for both weight (a=sqrt(5)) and bias
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        ea, ta = _a(ep), tp.detach().numpy()
        assert ea.shape == ta.shape
        assert np.abs(ta).max() <= bound * 1.0001  # the formula is torch's
        assert np.abs(ea).max() <= bound * 1.0001 and np.abs(ea).max() > 0.8 * bound, name
        if ea.size >= 1000:  # uniform(-b, b) has std b / sqrt(3)
            assert abs(ea.std() - bound / math.sqrt(3)) < 0.05 * bound, name


def test_default_init_embedding_batchnorm():
    ember.manual_seed(4)
    e = nn.Embedding(1000, 50)
    assert abs(_a(e.weight).std() - 1) < 0.02
    bn = nn.BatchNorm2d(8)
    assert np.all(_a(bn.weight) == 1) and not np.any(_a(bn.bias))


def _grads_pair(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2)]
    arrays = [rng.standard_normal(s) * 3 for s in shapes]
    ep = [nn.Parameter(ember.zeros(*s, dtype=ember.float64)) for s in shapes]
    tp = [torch.nn.Parameter(torch.zeros(*s, dtype=torch.float64)) for s in shapes]
    for e, t, a in zip(ep, tp, arrays):
        e.grad = ember.tensor(a.copy())
        t.grad = torch.tensor(a.copy())
    return ep, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ep, tp = _grads_pair()
    en = clip_grad_norm_(ep, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert float(en) == pytest.approx(float(tn), rel=1e-10)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_clip_grad_norm_nonfinite_and_value():
    ep, tp = _grads_pair()
    ep[0].grad.numpy()[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    ep, tp = _grads_pair(1)
    clip_grad_value_(ep, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for e, t in zip(ep, tp):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert float(clip_grad_norm_([nn.Parameter(ember.zeros(2))], 1.0)) == 0.0


def test_parameters_to_vector_round_trip():
    m = nn.Linear(3, 2)
    v = parameters_to_vector(m.parameters())
    assert v.shape == (8,)
    vector_to_parameters(v * 0 + 1, m.parameters())
    assert np.all(_a(m.weight) == 1) and np.all(_a(m.bias) == 1)
