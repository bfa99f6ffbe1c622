"""NAdam, RAdam, Adamax, ASGD, Rprop and LBFGS against PyTorch (identical weights and gradients),
their state dicts, and the optimizer step hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import optim
from tests.test_optim import (B0, C, W0, X, assert_same_trajectory, numpy_grads, run_pair,
                              torch_grads)

CASES = [
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.05, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True, maximize=False)),
    ("NAdam", dict(lr=0.005, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.05)),  # rho_t > 5 from step 3 on
    ("RAdam", dict(lr=0.02, betas=(0.7, 0.8), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adamax", dict(lr=0.005, maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.02)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.005, etas=(0.3, 1.5), step_sizes=(1e-4, 0.02))),
    ("Rprop", dict(lr=0.001, maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.003, maximize=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs, dtype):
    t_traj, e_traj = run_pair(lambda ps: getattr(torch.optim, name)(ps, **kwargs),
                              lambda ps: getattr(optim, name)(ps, **kwargs), steps=25, dtype=dtype)
    assert_same_trajectory(t_traj, e_traj, dtype)


def test_asgd_average_matches_torch():
    kwargs = dict(lr=0.05, t0=3, lambd=0.001)
    seen = []

    def hook(i, topt, eopt):
        tp, ep = topt.param_groups[0]["params"][0], eopt.param_groups[0]["params"][0]
        seen.append((topt.state[tp]["ax"].numpy().copy(), eopt.state[ep]["ax"].numpy().copy()))

    run_pair(lambda ps: torch.optim.ASGD(ps, **kwargs), lambda ps: optim.ASGD(ps, **kwargs),
             steps=12, hook=hook)
    for t_ax, e_ax in seen:
        np.testing.assert_allclose(e_ax, t_ax, rtol=2e-5, atol=2e-6)
    assert not np.allclose(seen[-1][1], seen[-2][1])  # the average keeps moving after t0


STATEFUL = [("NAdam", dict(lr=0.01, weight_decay=0.01)), ("RAdam", dict(lr=0.01)),
            ("Adamax", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=2)), ("Rprop", dict(lr=0.01)),
            ("Adafactor", dict(lr=0.02))]


def _ember_pair(dtype=np.float32):
    return [ember.tensor(W0.astype(dtype), requires_grad=True),
            ember.tensor(B0.astype(dtype), requires_grad=True)]


def _steps(opt, params, n):
    for _ in range(n):
        gw, gb = numpy_grads(params[0].detach().numpy(), params[1].detach().numpy())
        params[0].grad, params[1].grad = ember.tensor(gw), ember.tensor(gb)
        opt.step()


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    ref_params = _ember_pair()
    ref = getattr(optim, name)(ref_params, **kwargs)
    _steps(ref, ref_params, 10)
    params = _ember_pair()
    first = getattr(optim, name)(params, **kwargs)
    _steps(first, params, 5)
    sd = first.state_dict()
    again_params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    again = getattr(optim, name)(again_params, **kwargs)
    again.load_state_dict(sd)
    _steps(first, params, 5)  # the original goes on: the loaded copy must not share its buffers
    _steps(again, again_params, 5)
    for a, b, r in zip(again_params, params, ref_params):
        np.testing.assert_array_equal(a.detach().numpy(), r.detach().numpy())
        np.testing.assert_array_equal(b.detach().numpy(), r.detach().numpy())


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_keys_match_torch(name, kwargs):
    tps = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
    topt = getattr(torch.optim, name)(tps, **kwargs)
    torch_grads(*tps).backward()
    topt.step()
    eps = _ember_pair(np.float64)
    eopt = getattr(optim, name)(eps, **kwargs)
    _steps(eopt, eps, 1)
    tsd, esd = topt.state_dict(), eopt.state_dict()
    assert set(esd["state"]) == set(tsd["state"])
    assert set(esd["state"][0]) == set(tsd["state"][0])
    ignored = {"foreach", "differentiable", "capturable", "fused"}
    assert set(tsd["param_groups"][0]) - ignored == set(esd["param_groups"][0])
    # a PyTorch state dict loads into ember (tensors become ember buffers)
    eopt2 = getattr(optim, name)(_ember_pair(np.float64), **kwargs)
    eopt2.load_state_dict({"state": {k: {n: (ember.tensor(v.numpy()) if torch.is_tensor(v) and
                                             v.dim() else (v.item() if torch.is_tensor(v) else v))
                                         for n, v in s.items()} for k, s in tsd["state"].items()},
                           "param_groups": [{k: v for k, v in g.items() if k not in ignored}
                                            for g in tsd["param_groups"]]})
    assert eopt2.state_dict()["state"][0].keys() == esd["state"][0].keys()


# ------------------------------------------------------------------------------------- LBFGS

def _lbfgs_pair(dtype, **kwargs):
    tps = [torch.tensor(W0.astype(dtype), requires_grad=True),
           torch.tensor(B0.astype(dtype), requires_grad=True)]
    eps = _ember_pair(dtype)
    topt, eopt = torch.optim.LBFGS(tps, **kwargs), optim.LBFGS(eps, **kwargs)
    Xe, Ce = ember.tensor(X.astype(dtype)), ember.tensor(C.astype(dtype))

    def t_closure():
        topt.zero_grad()
        loss = torch_grads(*tps)
        loss.backward()
        return loss

    def e_closure():
        eopt.zero_grad()
        w, b = eps
        loss = (ember.tanh(Xe @ w + b) ** 2 * Ce).sum() / 8 + 0.1 * (w ** 4).sum()
        loss.backward()
        return loss

    return tps, eps, topt, eopt, t_closure, e_closure


LBFGS_CASES = [dict(lr=0.5, max_iter=4), dict(lr=1, history_size=3),
               dict(line_search_fn="strong_wolfe"),
               dict(line_search_fn="strong_wolfe", max_iter=5, history_size=2)]


@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=["plain", "history3", "wolfe", "wolfe-short"])
def test_lbfgs_matches_torch_float64(kwargs):
    _compare_lbfgs(kwargs, np.float64, steps=4, tol=dict(rtol=1e-9, atol=1e-10))


@pytest.mark.parametrize("kwargs", [dict(lr=0.2, max_iter=3), dict(lr=0.2, max_iter=4, history_size=2),
                                    dict(line_search_fn="strong_wolfe", max_iter=5)],
                         ids=["plain", "history2", "wolfe"])
def test_lbfgs_matches_torch_float32(kwargs):
    # L-BFGS feeds each iteration's rounding into the next curvature pair, so float32 runs drift
    # apart with the number of iterations: a few iterations, compared at float32 precision
    _compare_lbfgs(kwargs, np.float32, steps=2, tol=dict(rtol=1e-4, atol=1e-5))


def _compare_lbfgs(kwargs, dtype, steps, tol):
    tps, eps, topt, eopt, t_closure, e_closure = _lbfgs_pair(dtype, **kwargs)
    for step in range(steps):
        tl = topt.step(t_closure)
        el = eopt.step(e_closure)
        np.testing.assert_allclose(float(el), tl.item(), err_msg=f"loss at step {step}", **tol)
        for t, e in zip(tps, eps):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(),
                                       err_msg=f"params after step {step}", **tol)
        tst, est = topt.state[tps[0]], eopt.state[eps[0]]
        assert est["func_evals"] == tst["func_evals"] and est["n_iter"] == tst["n_iter"]
    assert not np.allclose(eps[0].detach().numpy(), W0)


def test_lbfgs_needs_closure_and_one_group():
    p = ember.zeros(3, requires_grad=True)
    opt = optim.LBFGS([p])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [ember.zeros(2, requires_grad=True)]})
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([p], line_search_fn="armijo")


@pytest.mark.parametrize("name,kwargs", [("NAdam", dict(betas=(1.0, 0.9))),
                                         ("RAdam", dict(lr=-1)), ("Adamax", dict(eps=-1)),
                                         ("ASGD", dict(weight_decay=-1)),
                                         ("Rprop", dict(etas=(1.5, 1.2))),
                                         ("NAdam", dict(momentum_decay=-1))])
def test_bad_arguments_raise(name, kwargs):
    with pytest.raises(ValueError):
        getattr(optim, name)([ember.zeros(2, requires_grad=True)], **kwargs)


# --------------------------------------------------------------------------------- step hooks

@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam", "LBFGS"])
def test_step_hooks_run_like_torch(name):
    calls = {"torch": [], "ember": []}
    results = {}
    for fw, mod in (("torch", torch), ("ember", ember)):
        p = mod.ones(3, requires_grad=True)
        opt = getattr(mod.optim, name)([p], lr=0.1)
        log = calls[fw]
        pre = opt.register_step_pre_hook(lambda o, a, k, log=log: log.append(("pre", len(a))))
        opt.register_step_post_hook(lambda o, a, k, log=log: log.append(("post", len(a))))

        def closure(p=p, opt=opt):
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss

        opt.step(closure)
        pre.remove()
        opt.step(closure)
        results[fw] = p.detach().numpy().copy()
    assert calls["ember"] == calls["torch"]
    assert calls["ember"] == [("pre", 2), ("post", 2), ("post", 2)]  # (optimizer, closure)
    np.testing.assert_allclose(results["ember"], results["torch"], rtol=1e-6)


def test_pre_hook_can_replace_arguments_and_global_hooks():
    from ember.optim.optimizer import register_optimizer_step_post_hook

    p = ember.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    p.grad = ember.ones(2)
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": lambda: seen.append("c") or 7.0}))
    handle = register_optimizer_step_post_hook(lambda o, a, k: seen.append(type(o).__name__))
    try:
        assert opt.step() == 7.0
    finally:
        handle.remove()
    opt.step()
    assert seen == ["c", "SGD", "c"]
    with pytest.raises(RuntimeError, match="pre-hook"):
        opt.register_step_pre_hook(lambda o, a, k: 3)
        opt.step()


def test_add_param_group_and_zero_grad_on_new_optimizers():
    a, b = ember.ones(2, requires_grad=True), ember.ones(3, requires_grad=True)
    opt = optim.NAdam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum_decay"] == 4e-3
    a.grad, b.grad = ember.ones(2), ember.ones(3)
    opt.step()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(3, np.float32))
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_through_a_file(tmp_path, line_search_fn):
    kwargs = dict(lr=0.5, max_iter=3, history_size=4, line_search_fn=line_search_fn)
    _, ref_params, _, ref, _, ref_closure = _lbfgs_pair(np.float64, **kwargs)
    for _ in range(4):
        ref.step(ref_closure)
    _, params, _, first, _, closure = _lbfgs_pair(np.float64, **kwargs)
    for _ in range(2):
        first.step(closure)
    path = tmp_path / "lbfgs.pt"
    ember.save(first.state_dict(), path)
    _, again_params, _, again, _, again_closure = _lbfgs_pair(np.float64, **kwargs)
    for p, q in zip(again_params, params):
        p.data = q.detach().clone()
    again.load_state_dict(ember.load(path))
    assert again.state[again_params[0]]["n_iter"] == first.state[params[0]]["n_iter"]
    for _ in range(2):
        again.step(again_closure)
    for a, r in zip(again_params, ref_params):
        np.testing.assert_array_equal(a.detach().numpy(), r.detach().numpy())


def test_adafactor_factors_the_last_two_dims_of_a_3d_parameter():
    rng = np.random.default_rng(5)
    start = rng.standard_normal((2, 4, 3)).astype(np.float32)
    tp = torch.tensor(start, requires_grad=True)
    ep = ember.tensor(start, requires_grad=True)
    topt, eopt = torch.optim.Adafactor([tp], lr=0.05), optim.Adafactor([ep], lr=0.05)
    for _ in range(10):
        g = rng.standard_normal(start.shape).astype(np.float32)
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=2e-5, atol=2e-6)
    assert eopt.state[ep]["row_var"].shape == topt.state[tp]["row_var"].shape
    assert eopt.state[ep]["col_var"].shape == topt.state[tp]["col_var"].shape


@pytest.mark.parametrize("shape,kwargs", [((5, 3), dict(lr=0.02)),
                                          ((3, 6), dict(lr=0.02, nesterov=False, weight_decay=0.01,
                                                        adjust_lr_fn="match_rms_adamw")),
                                          ((4, 4), dict(lr=0.05, momentum=0.8, ns_steps=3,
                                                        adjust_lr_fn="original"))])
def test_muon_matches_torch(shape, kwargs):
    # PyTorch orthogonalizes in bfloat16; ember rounds to bfloat16 at the same points
    rng = np.random.default_rng(7)
    start = rng.standard_normal(shape).astype(np.float32)
    tp = torch.tensor(start, requires_grad=True)
    ep = ember.tensor(start, requires_grad=True)
    topt, eopt = torch.optim.Muon([tp], **kwargs), optim.Muon([ep], **kwargs)
    for _ in range(20):
        g = rng.standard_normal(shape).astype(np.float32)
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=2e-5, atol=2e-6)
    assert not np.allclose(ep.detach().numpy(), start)
    np.testing.assert_allclose(eopt.state[ep]["momentum_buffer"].numpy(),
                               topt.state[tp]["momentum_buffer"].numpy(), rtol=1e-6, atol=1e-7)


def test_muon_rejects_non_matrices():
    with pytest.raises(ValueError, match="2D parameters"):
        optim.Muon([ember.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="not supported"):
        optim.Muon([ember.zeros((2, 2), requires_grad=True)], adjust_lr_fn="sqrt")


def test_state_dict_hooks_run_like_torch():
    logs = {}
    for fw, mod in (("torch", torch), ("ember", ember)):
        p = mod.ones(2, requires_grad=True)
        opt = mod.optim.Adam([p], lr=0.1)
        log = logs[fw] = []
        opt.register_state_dict_pre_hook(lambda o, log=log: log.append("pre"))
        opt.register_state_dict_pre_hook(lambda o, log=log: log.append("pre-first"), prepend=True)

        def tag(o, sd, log=log):
            log.append("post")
            sd["param_groups"][0]["tag"] = "saved"
            return sd

        opt.register_state_dict_post_hook(tag)
        sd = opt.state_dict()
        assert sd["param_groups"][0]["tag"] == "saved"

        def lower_lr(o, sd, log=log):
            log.append("load-pre")
            sd = dict(sd, param_groups=[dict(sd["param_groups"][0], lr=0.01)])
            return sd

        handle = opt.register_load_state_dict_pre_hook(lower_lr)
        opt.register_load_state_dict_post_hook(lambda o, log=log: log.append("load-post"))
        opt.load_state_dict(sd)
        assert opt.param_groups[0]["lr"] == 0.01
        handle.remove()
        opt.load_state_dict(sd)
        assert opt.param_groups[0]["lr"] == 0.1
    assert logs["ember"] == logs["torch"]
    assert logs["ember"] == ["pre-first", "pre", "post", "load-pre", "load-post", "load-post"]
