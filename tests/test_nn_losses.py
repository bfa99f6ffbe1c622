"""Loss modules and functions against PyTorch: values and input gradients for every reduction,
plus the shape checks (broadcast warning, BCE range errors)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from test_nn_layers import compare_module, rand

REDUCTIONS = ["mean", "sum", "none"]


def _loss(name, kwargs, x, y, **kw):
    compare_module(getattr(torch.nn, name)(**kwargs), getattr(nn, name)(**kwargs), [x, y], **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,extra", [
    ("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {"delta": 0.5}), ("HuberLoss", {}),
    ("SmoothL1Loss", {"beta": 0.3}), ("SmoothL1Loss", {"beta": 0.0}),
])
def test_regression_losses(name, extra, reduction):
    _loss(name, dict(extra, reduction=reduction), rand(4, 3, low=-2, high=2),
          rand(4, 3, seed=1, low=-2, high=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p = rand(5, 3, low=0.05, high=0.95)
    t = (rand(5, 3, seed=1) > 0).astype(np.float64)
    _loss("BCELoss", dict(reduction=reduction), p, t)
    w = torch.tensor(rand(3, seed=2, low=0.5, high=2))
    compare_module(torch.nn.BCELoss(weight=w, reduction=reduction),
                   nn.BCELoss(weight=ember.tensor(w.numpy()), reduction=reduction), [p, t])


def test_bce_clamps_log_like_torch():
    p = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    got = F.binary_cross_entropy(ember.tensor(p), ember.tensor(t), reduction="none")
    want = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x = rand(5, 3, low=-30, high=30)  # large logits: must stay finite
    t = rand(5, 3, seed=1, low=0, high=1)
    _loss("BCEWithLogitsLoss", dict(reduction=reduction), x, t)
    pw = rand(3, seed=3, low=0.5, high=3)
    w = rand(5, 1, seed=4, low=0.5, high=2)
    compare_module(
        torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                   reduction=reduction),
        nn.BCEWithLogitsLoss(weight=ember.tensor(w), pos_weight=ember.tensor(pw),
                             reduction=reduction),
        [x, t])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = torch.log_softmax(torch.tensor(rand(4, 5)), 1).numpy()
    t = torch.softmax(torch.tensor(rand(4, 5, seed=1) * 3), 1).numpy()
    t[0, 0] = 0.0  # zero targets contribute nothing (0 log 0 = 0)
    if log_target:
        t = np.log(t + 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the target's gradient is nan in torch where t = 0; only the input's is compared
        _loss("KLDivLoss", dict(reduction=reduction, log_target=log_target), x, t,
              int_inputs=(1,))


@pytest.mark.parametrize("kwargs", [
    dict(), dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.1),
    dict(ignore_index=1), dict(weight="w"), dict(weight="w", label_smoothing=0.2),
])
def test_cross_entropy_and_nll(kwargs):
    logits = rand(6, 4, low=-3, high=3)
    target = np.array([0, 1, 3, 2, 1, 0])
    w = rand(4, seed=5, low=0.5, high=2)
    tk = {k: (torch.tensor(w) if v == "w" else v) for k, v in kwargs.items()}
    ek = {k: (ember.tensor(w) if v == "w" else v) for k, v in kwargs.items()}
    compare_module(torch.nn.CrossEntropyLoss(**tk), nn.CrossEntropyLoss(**ek), [logits, target])
    nk = {k: v for k, v in tk.items() if k != "label_smoothing"}
    ne = {k: v for k, v in ek.items() if k != "label_smoothing"}
    logp = torch.log_softmax(torch.tensor(logits), 1).numpy()
    compare_module(torch.nn.NLLLoss(**nk), nn.NLLLoss(**ne), [logp, target])


def test_cross_entropy_probability_targets():
    logits = rand(3, 4)
    probs = torch.softmax(torch.tensor(rand(3, 4, seed=1)), 1).numpy()
    compare_module(torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss(), [logits, probs])


def test_mse_warns_on_broadcasting_shapes_like_torch():
    x, y = ember.zeros(3), ember.zeros(3, 1)
    with pytest.warns(UserWarning, match=r"target size \(3, 1\).*input size \(3,\)"):
        F.mse_loss(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(x, ember.zeros(3))  # same shapes: no warning


def test_bce_rejects_bad_values_and_shapes():
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([2.0, 0.0]))
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5, 0.5]), ember.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([[1.0], [0.0]]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.zeros(2), ember.zeros(2, 1))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


def test_loss_double_backward_through_mse():
    x = ember.tensor(rand(3), requires_grad=True)
    (g,) = ember.autograd.grad(F.mse_loss(x * x, ember.zeros(3)), [x], create_graph=True)
    g.sum().backward()
    tx = torch.tensor(rand(3), requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.mse_loss(tx * tx, torch.zeros(3, dtype=torch.float64)),
                                [tx], create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
