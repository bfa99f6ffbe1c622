"""The schedulers added for PyTorch parity, compared with PyTorch's over 60 steps (values of
every group's lr and momentum), their state dicts, and the name coverage of the module."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from ember.optim import lr_scheduler as sched
from tests.test_optim import _assert_lrs, _sched_opts

pytestmark = pytest.mark.filterwarnings("ignore:Detected call of", "ignore:To get the last",
                                        "ignore:The epoch parameter")

SIMPLE = [
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.9 + 0.001 * e, lambda e: 1.01])),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.2, total_iters=17)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.7, total_iters=23)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=40)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=45, power=2.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=4, step_size_down=9,
                      mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.05, step_size_up=6, mode="exp_range", gamma=0.97,
                      base_momentum=0.7, max_momentum=0.95)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=3, scale_fn=lambda x: 0.9 ** x,
                      scale_mode="iterations", cycle_momentum=False)),
]


def _run_both(ts, es, topt, eopt, steps=60):
    _assert_lrs(ts.get_last_lr(), es.get_last_lr())
    for _ in range(steps):
        topt.step()
        eopt.step()
        ts.step()
        es.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
        _assert_lrs([g["lr"] for g in topt.param_groups], [g["lr"] for g in eopt.param_groups])
        for tg, eg in zip(topt.param_groups, eopt.param_groups):
            if "momentum" in tg:
                assert math.isclose(tg["momentum"], eg["momentum"], rel_tol=1e-12)
            else:
                assert math.isclose(tg["betas"][0], eg["betas"][0], rel_tol=1e-12)
    assert getattr(es, "last_epoch", None) == getattr(ts, "last_epoch", None)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kwargs", SIMPLE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SIMPLE)])
def test_scheduler_matches_torch(name, kwargs, opt_name):
    topt, eopt = _sched_opts(opt_name, **({"lr": 0.1} if opt_name == "Adam" else {}))
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    es = getattr(sched, name)(eopt, **kwargs)
    _run_both(ts, es, topt, eopt)


def _composites(mod, opt, kind):
    s = mod.optim.lr_scheduler if hasattr(mod, "optim") else mod
    if kind == "sequential":
        parts = [s.LinearLR(opt, start_factor=0.1, total_iters=5), s.ExponentialLR(opt, gamma=0.9),
                 s.CosineAnnealingLR(opt, T_max=8)]
        return s.SequentialLR(opt, parts, milestones=[5, 20])
    if kind == "sequential-constant":
        parts = [s.ConstantLR(opt, factor=0.5, total_iters=4), s.StepLR(opt, step_size=6, gamma=0.5)]
        return s.SequentialLR(opt, parts, milestones=[9])
    if kind == "chained":
        return s.ChainedScheduler([s.ConstantLR(opt, factor=0.3, total_iters=4),
                                   s.ExponentialLR(opt, gamma=0.95),
                                   s.MultiStepLR(opt, milestones=[10, 30], gamma=0.5)])
    if kind == "nested":
        inner = s.ChainedScheduler([s.LinearLR(opt, start_factor=0.2, total_iters=6),
                                    s.ExponentialLR(opt, gamma=0.97)])
        return s.SequentialLR(opt, [inner, s.PolynomialLR(opt, total_iters=30, power=1.5)],
                              milestones=[12])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["sequential", "sequential-constant", "chained", "nested"])
def test_composite_schedulers_match_torch(kind):
    import ember

    topt, eopt = _sched_opts()
    ts, es = _composites(torch, topt, kind), _composites(ember, eopt, kind)
    _run_both(ts, es, topt, eopt)


def test_warm_restarts_fractional_epochs_match_torch():
    topt, eopt = _sched_opts()
    kw = dict(T_0=4, T_mult=2, eta_min=0.01)
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, **kw)
    es = sched.CosineAnnealingWarmRestarts(eopt, **kw)
    for epoch in range(20):
        for i in range(5):
            ts.step(epoch + i / 5)
            es.step(epoch + i / 5)
            _assert_lrs(ts.get_last_lr(), es.get_last_lr())
            assert math.isclose(ts.T_cur, es.T_cur, rel_tol=1e-12, abs_tol=1e-12)
    with pytest.raises(ValueError, match="non-negative"):
        es.step(-1)


@pytest.mark.parametrize("name,kwargs", [("ConstantLR", dict(factor=0.5, total_iters=6)),
                                         ("LinearLR", dict(start_factor=0.25, total_iters=9)),
                                         ("PolynomialLR", dict(total_iters=12, power=2.0))])
def test_step_with_epoch_uses_closed_form_like_torch(name, kwargs):
    topt, eopt = _sched_opts()
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    es = getattr(sched, name)(eopt, **kwargs)
    for epoch in [3, 7, 1, 15, 0, 8]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts.step(epoch)
            es.step(epoch)
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composite_state_dict_resumes(kind):
    import ember

    topt, eopt = _sched_opts()
    ts, es = _composites(torch, topt, kind), _composites(ember, eopt, kind)
    for _ in range(12):
        ts.step()
        es.step()
    saved = es.state_dict()
    assert "optimizer" not in saved and len(saved["_schedulers"]) == 3
    _, eopt2 = _sched_opts()
    es2 = _composites(ember, eopt2, kind)
    # resuming as a checkpoint does: build, then load the optimizer's state and the scheduler's
    eopt2.load_state_dict(eopt.state_dict())
    es2.load_state_dict(saved)
    for _ in range(25):
        ts.step()
        es.step()
        es2.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
        _assert_lrs(es.get_last_lr(), es2.get_last_lr())


def test_cyclic_state_dict_keeps_scale_function():
    topt, eopt = _sched_opts()
    es = sched.CyclicLR(eopt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                        gamma=0.9)
    for _ in range(7):
        es.step()
    saved = es.state_dict()
    assert "_scale_fn_ref" not in saved and "_scale_fn_custom" not in saved
    _, eopt2 = _sched_opts()
    es2 = sched.CyclicLR(eopt2, base_lr=0.01, max_lr=0.1, step_size_up=3)
    es2.load_state_dict(saved)
    assert es2.mode == "exp_range" and es2.scale_mode == "iterations"
    es.step()
    es2.step()
    _assert_lrs(es.get_last_lr(), es2.get_last_lr())


def test_argument_errors():
    _, eopt = _sched_opts()
    with pytest.raises(ValueError, match="factor"):
        sched.ConstantLR(eopt, factor=1.5)
    with pytest.raises(ValueError, match="start_factor"):
        sched.LinearLR(eopt, start_factor=0)
    with pytest.raises(ValueError, match="T_0"):
        sched.CosineAnnealingWarmRestarts(eopt, T_0=0)
    with pytest.raises(ValueError, match="mode"):
        sched.CyclicLR(eopt, 0.1, 1.0, mode="square")
    with pytest.raises(ValueError, match="milestone"):
        sched.SequentialLR(eopt, [sched.ConstantLR(eopt)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(eopt)])
    _, other = _sched_opts()
    with pytest.raises(ValueError, match="same optimizer"):
        sched.SequentialLR(eopt, [sched.ConstantLR(eopt), sched.ConstantLR(other)], milestones=[2])
    with pytest.raises(TypeError, match="function"):
        sched.MultiplicativeLR(eopt, lr_lambda=0.9)
    import ember
    with pytest.raises(ValueError, match="momentum"):
        sched.CyclicLR(ember.optim.Adagrad([ember.zeros(1, requires_grad=True)]), 0.1, 1.0)


def test_every_torch_scheduler_exists():
    names = [n for n in dir(torch.optim.lr_scheduler)
             if isinstance(getattr(torch.optim.lr_scheduler, n), type)
             and issubclass(getattr(torch.optim.lr_scheduler, n), torch.optim.lr_scheduler.LRScheduler)]
    assert "CyclicLR" in names
    assert [n for n in names if not hasattr(sched, n)] == []
