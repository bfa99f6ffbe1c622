"""weight_norm / spectral_norm (hook and parametrization forms) and nn.utils.parametrize against
PyTorch: state-dict keys, outputs and every gradient with copied weights; registering, chaining,
right_inverse, caching and removing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn.utils import parametrizations, parametrize
from tests.test_nn_layers import compare_module, rand


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook(dim):
    t = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=dim)
    e = nn.utils.weight_norm(nn.Linear(4, 3), dim=dim)
    compare_module(t, e, [rand(5, 4)])
    t2 = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 2))
    e2 = nn.utils.weight_norm(nn.Conv2d(2, 3, 2))
    compare_module(t2, e2, [rand(2, 2, 4, 4)])
    nn.utils.remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-12)


def test_spectral_norm_hook():
    t = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4), n_power_iterations=2)
    e = nn.utils.spectral_norm(nn.Linear(5, 4), n_power_iterations=2)
    compare_module(t, e, [rand(3, 5)])  # training: one more power iteration each call
    for name in ("weight_u", "weight_v"):
        np.testing.assert_allclose(getattr(e, name).numpy(), getattr(t, name).detach().numpy(),
                                   atol=1e-12)
    compare_module(t, e, [rand(3, 5)], train=False)
    tc = torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(3, 2, 2))
    ec = nn.utils.spectral_norm(nn.ConvTranspose2d(3, 2, 2))
    compare_module(tc, ec, [rand(1, 3, 3, 3)])
    nn.utils.remove_spectral_norm(e)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-12)


def test_parametrizations_weight_and_spectral_norm():
    t = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3))
    e = parametrizations.weight_norm(nn.Linear(4, 3))
    compare_module(t, e, [rand(5, 4)])
    assert list(e.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    t = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(4, 3))
    e = parametrizations.spectral_norm(nn.Linear(4, 3))
    compare_module(t, e, [rand(5, 4)])
    compare_module(t, e, [rand(5, 4)], train=False)


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, a):
        return a.triu()


class TSymmetric(torch.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, a):
        return a.triu()


class Double(nn.Module):
    def forward(self, x):
        return 2 * x


class TDouble(torch.nn.Module):
    def forward(self, x):
        return 2 * x


def test_register_parametrization_chain_and_remove():
    tm, em = torch.nn.Linear(3, 3), nn.Linear(3, 3)
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TSymmetric())
    parametrize.register_parametrization(em, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TDouble())
    parametrize.register_parametrization(em, "weight", Double())
    assert type(em).__name__ == "ParametrizedLinear" and isinstance(em, nn.Linear)
    assert parametrize.is_parametrized(em) and parametrize.is_parametrized(em, "weight")
    assert not parametrize.is_parametrized(em, "bias")
    compare_module(tm, em, [rand(4, 3)])
    w = em.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    with parametrize.cached():
        assert em.weight is em.weight
    assert em.weight is not em.weight
    parametrize.remove_parametrizations(em, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight")
    assert type(em) is nn.Linear and list(em.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(em.weight.detach().numpy(), w)


def test_right_inverse_assignment_and_errors():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    target = ember.tensor(rand(3, 3) + rand(3, 3).T)
    m.weight = target
    np.testing.assert_allclose(m.weight.detach().numpy(), target.numpy(), atol=1e-7)
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), np.triu(target.numpy()), atol=1e-7)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
