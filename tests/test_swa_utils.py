"""ember.optim.swa_utils against torch.optim.swa_utils: averaged weights (SWA and EMA),
batch-norm statistics from update_bn, and the SWALR schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember.optim import swa_utils
from tests.test_optim import _assert_lrs, _sched_opts

pytestmark = pytest.mark.filterwarnings("ignore:Detected call of", "ignore:To get the last")


def _models(seed=0):
    torch.manual_seed(seed)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                             torch.nn.Linear(6, 2))
    em = ember.nn.Sequential(ember.nn.Linear(4, 6), ember.nn.BatchNorm1d(6), ember.nn.ReLU(),
                             ember.nn.Linear(6, 2))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def _train_a_bit(tm, em, opt_t, opt_e, rng):
    x = rng.standard_normal((8, 4)).astype(np.float32)
    for model, opt, mod in ((tm, opt_t, torch), (em, opt_e, ember)):
        opt.zero_grad()
        model(mod.tensor(x)).pow(2).mean().backward()
        opt.step()


@pytest.mark.parametrize("kind", ["swa", "ema-multi", "ema-avg_fn", "swa-buffers"])
def test_averaged_model_matches_torch(kind):
    tm, em = _models()
    kw_t, kw_e = {}, {}
    if kind == "ema-multi":
        kw_t["multi_avg_fn"] = torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)
        kw_e["multi_avg_fn"] = swa_utils.get_ema_multi_avg_fn(0.9)
    elif kind == "ema-avg_fn":
        kw_t["avg_fn"] = torch.optim.swa_utils.get_ema_avg_fn(0.8)
        kw_e["avg_fn"] = swa_utils.get_ema_avg_fn(0.8)
    elif kind == "swa-buffers":
        kw_t["use_buffers"] = kw_e["use_buffers"] = True
    t_avg = torch.optim.swa_utils.AveragedModel(tm, **kw_t)
    e_avg = swa_utils.AveragedModel(em, **kw_e)
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    rng = np.random.default_rng(1)
    for _ in range(6):
        _train_a_bit(tm, em, opt_t, opt_e, rng)
        t_avg.update_parameters(tm)
        e_avg.update_parameters(em)
    assert int(e_avg.n_averaged.item()) == int(t_avg.n_averaged) == 6
    t_sd, e_sd = t_avg.state_dict(), e_avg.state_dict()
    assert set(e_sd) == set(t_sd)
    for k, v in t_sd.items():
        np.testing.assert_allclose(e_sd[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    # the average differs from the last weights, or the test proves nothing
    assert not np.allclose(e_sd["module.0.weight"].numpy(), em.state_dict()["0.weight"].numpy())
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t_avg.eval()
    e_avg.eval()
    np.testing.assert_allclose(e_avg(ember.tensor(x)).detach().numpy(),
                               t_avg(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_update_bn_matches_torch():
    tm, em = _models(3)
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((5, 4)).astype(np.float32) * 3 + 1 for _ in range(4)]
    tm.eval()
    em.eval()
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], tm)
    swa_utils.update_bn([(ember.tensor(b), 0) for b in batches], em)
    assert not em.training and em[1].momentum == tm[1].momentum == 0.1
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(em.state_dict()[f"1.{name}"].numpy(),
                                   tm.state_dict()[f"1.{name}"].numpy(), rtol=1e-5, atol=1e-6)
    swa_utils.update_bn([], ember.nn.Linear(2, 2))  # no batch norm: nothing to do


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=5,
                                                             anneal_strategy="linear"),
                                    dict(swa_lr=0.02, anneal_epochs=0)])
def test_swalr_matches_torch(kwargs):
    topt, eopt = _sched_opts()
    ts = torch.optim.swa_utils.SWALR(topt, **kwargs)
    es = swa_utils.SWALR(eopt, **kwargs)
    _assert_lrs(ts.get_last_lr(), es.get_last_lr())
    for step in range(50):
        topt.step()
        eopt.step()
        ts.step()
        es.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
        if step == 20:
            saved = es.state_dict()
            assert "anneal_func" not in saved
            es.load_state_dict(saved)
    assert math.isclose(es.get_last_lr()[1], eopt.param_groups[1]["swa_lr"], rel_tol=1e-12)


def test_argument_errors():
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_avg_fn(1.5)
    with pytest.raises(ValueError, match="one of"):
        swa_utils.AveragedModel(ember.nn.Linear(2, 2), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    _, eopt = _sched_opts()
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(eopt, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(eopt, 0.1, anneal_epochs=-1)
    assert sorted(swa_utils.__all__) == sorted(torch.optim.swa_utils.__all__)
