"""Optimizers and schedulers against PyTorch: same start, same gradients, same trajectory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember import optim
from ember.optim import lr_scheduler as sched

# A small objective with a non-trivial, parameter-dependent gradient: a two-layer "MLP-like"
# function f(W, b) = sum(tanh(X @ W + b) ** 2 * c) / n + 0.1 * sum(W ** 4), evaluated by each
# framework on its own parameters (ember's gradient by NumPy, by hand).
# these tests step schedulers without training; PyTorch warns about the call order then
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 5))
C = RNG.standard_normal((8, 3))
W0 = RNG.standard_normal((5, 3)) * 0.5
B0 = RNG.standard_normal(3) * 0.1


def torch_grads(w, b):
    Xt, Ct = torch.tensor(X, dtype=w.dtype), torch.tensor(C, dtype=w.dtype)
    loss = (torch.tanh(Xt @ w + b) ** 2 * Ct).sum() / 8 + 0.1 * (w ** 4).sum()
    return loss


def numpy_grads(w, b):
    Xa, Ca = X.astype(w.dtype), C.astype(w.dtype)
    h = np.tanh(Xa @ w + b)
    dz = (2 * h * (1 - h * h) * Ca) / 8
    gw = Xa.T @ dz + 0.4 * w ** 3
    gb = dz.sum(0)
    return gw.astype(w.dtype), gb.astype(w.dtype)


def run_pair(make_torch, make_ember, steps=20, dtype=np.float32, hook=None, sched_pair=None):
    """Run both optimizers for ``steps`` steps; return the two lists of parameter snapshots."""
    tw = torch.tensor(W0.astype(dtype), requires_grad=True)
    tb = torch.tensor(B0.astype(dtype), requires_grad=True)
    ew = ember.tensor(W0.astype(dtype), requires_grad=True)
    eb = ember.tensor(B0.astype(dtype), requires_grad=True)
    topt, eopt = make_torch([tw, tb]), make_ember([ew, eb])
    tsched = esched = None
    if sched_pair is not None:
        tsched, esched = sched_pair[0](topt), sched_pair[1](eopt)
    t_traj, e_traj = [], []
    for i in range(steps):
        topt.zero_grad()
        torch_grads(tw, tb).backward()
        topt.step()
        eopt.zero_grad()
        gw, gb = numpy_grads(ew.detach().numpy(), eb.detach().numpy())
        ew.grad, eb.grad = ember.tensor(gw), ember.tensor(gb)
        eopt.step()
        if tsched is not None:
            tsched.step()
            esched.step()
        t_traj.append((tw.detach().numpy().copy(), tb.detach().numpy().copy()))
        e_traj.append((ew.detach().numpy().copy(), eb.detach().numpy().copy()))
        if hook:
            hook(i, topt, eopt)
    return t_traj, e_traj


def assert_same_trajectory(t_traj, e_traj, dtype=np.float32):
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    for step, ((tw, tb), (ew, eb)) in enumerate(zip(t_traj, e_traj)):
        assert ew.dtype == tw.dtype
        assert np.isfinite(tw).all(), "the test objective diverged; pick a smaller lr"
        np.testing.assert_allclose(ew, tw, err_msg=f"weights after step {step + 1}", **tol)
        np.testing.assert_allclose(eb, tb, err_msg=f"bias after step {step + 1}", **tol)
    # the trajectory must actually move, or the comparison proves nothing
    assert not np.allclose(e_traj[-1][0], W0.astype(dtype))


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.005, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs, dtype):
    t_traj, e_traj = run_pair(lambda ps: getattr(torch.optim, name)(ps, **kwargs),
                              lambda ps: getattr(optim, name)(ps, **kwargs), dtype=dtype)
    assert_same_trajectory(t_traj, e_traj, dtype)


# ------------------------------------------------------------------------------ state dicts

STATEFUL = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict(rho=0.8)),
]


def _ember_params(dtype=np.float32):
    return [ember.tensor(W0.astype(dtype), requires_grad=True),
            ember.tensor(B0.astype(dtype), requires_grad=True)]


def _ember_steps(opt, params, n):
    for _ in range(n):
        opt.zero_grad()
        gw, gb = numpy_grads(params[0].detach().numpy(), params[1].detach().numpy())
        params[0].grad, params[1].grad = ember.tensor(gw), ember.tensor(gb)
        opt.step()


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    params = _ember_params()
    opt = getattr(optim, name)(params, **kwargs)
    _ember_steps(opt, params, 7)
    sd = opt.state_dict()
    # a second run from copies of the parameters and the saved state
    params2 = [ember.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(params2, lr=123.0) if name != "Adadelta" else \
        getattr(optim, name)(params2, lr=123.0, rho=0.1)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kwargs.get("lr", 1.0)
    _ember_steps(opt, params, 6)
    _ember_steps(opt2, params2, 6)
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # loading copied the buffers: the two optimizers do not share memory
    for p, q in zip(params, params2):
        for k, v in opt.state[p].items():
            if isinstance(v, ember.Tensor):
                assert not np.shares_memory(v.numpy(), opt2.state[q][k].numpy())


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_layout_matches_torch(name, kwargs):
    tparams = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
    topt = getattr(torch.optim, name)([{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.5}],
                                      **kwargs)
    params = _ember_params(np.float64)
    opt = getattr(optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], **kwargs)
    loss = torch_grads(*tparams)
    loss.backward()
    topt.step()
    _ember_steps(opt, params, 1)
    tsd, esd = topt.state_dict(), opt.state_dict()
    assert [g["params"] for g in esd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for tg, eg in zip(tsd["param_groups"], esd["param_groups"]):
        for k, v in eg.items():
            if k in tg and k not in ("decoupled_weight_decay",):
                assert tg[k] == (v if not isinstance(v, tuple) else tuple(v)), k
    assert sorted(tsd["state"]) == sorted(esd["state"])
    for i in tsd["state"]:
        assert sorted(tsd["state"][i]) == sorted(esd["state"][i])
        for k, tv in tsd["state"][i].items():
            ev = esd["state"][i][k]
            if k == "step":
                assert float(tv) == float(ev)
            else:
                np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-12)


def test_load_state_dict_errors():
    params = _ember_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    other = optim.SGD(params[:1], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="param_groups"):
        other.load_state_dict({"state": {}})


def test_state_dict_from_string_keys_and_lists():
    """A state dict that went through a format without int keys or tuples still loads."""
    params = _ember_params()
    opt = optim.Adam(params, lr=0.01, betas=(0.8, 0.9))
    _ember_steps(opt, params, 3)
    sd = opt.state_dict()
    sd = {"state": {str(k): {n: (v.numpy() if isinstance(v, ember.Tensor) else v)
                             for n, v in st.items()} for k, st in sd["state"].items()},
          "param_groups": [dict(g, betas=list(g["betas"])) for g in sd["param_groups"]]}
    opt2 = optim.Adam(_ember_params(), lr=0.01)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt2.state[opt2.param_groups[0]["params"][0]]["step"] == 3


# ---------------------------------------------------------------------------- param groups

def test_param_groups_defaults_and_per_group_lr():
    a, b = _ember_params()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.1}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.1
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    before_a, before_b = a.detach().numpy().copy(), b.detach().numpy().copy()
    a.grad, b.grad = ember.ones(*a.shape), ember.ones(*b.shape)
    opt.param_groups[0]["lr"] = 0.25  # changing lr through the group takes effect
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), before_a - np.float32(0.25), rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), before_b - np.float32(0.5), rtol=1e-6)


def test_add_param_group_rejects_duplicates_and_bad_input():
    a, b = _ember_params()
    opt = optim.Adam([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)


def test_zero_grad_step_closure_and_version():
    a, b = _ember_params()
    opt = optim.SGD([a, b], lr=0.1)
    g = ember.ones(*a.shape)
    a.grad = g
    v0 = a._version
    opt.step()  # b has no grad: skipped
    assert a._version == v0 + 1
    np.testing.assert_array_equal(b.detach().numpy(), B0.astype(np.float32))
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.numpy().any()
    assert g.numpy().all(), "zero_grad must not write into a gradient that may be shared"
    opt.zero_grad()
    assert a.grad is None
    calls = []

    def closure():
        calls.append(1)
        a.grad = ember.ones(*a.shape)
        return 3.5

    assert opt.step(closure) == 3.5 and calls == [1]


def test_step_does_not_modify_grad():
    params = _ember_params()
    for name, kwargs in CASES:
        opt = getattr(optim, name)(params, **kwargs)
        grads = [ember.tensor(np.full(p.shape, 0.3, np.float32)) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        opt.step()
        for g in grads:
            np.testing.assert_array_equal(g.numpy(), np.float32(0.3))


# ------------------------------------------------------------------------------ schedulers

def _sched_opts(opt_name="SGD", **kw):
    tps = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    eps = [ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)]
    kw = kw or dict(lr=0.1, momentum=0.9)
    topt = getattr(torch.optim, opt_name)([{"params": tps[:1]}, {"params": tps[1:], "lr": 0.03}], **kw)
    eopt = getattr(optim, opt_name)([{"params": eps[:1]}, {"params": eps[1:], "lr": 0.03}], **kw)
    return topt, eopt


SCHEDULERS = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=31)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=8, pct_start=0.25,
                        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR", dict(max_lr=0.8, total_steps=40, three_phase=True, base_momentum=0.8,
                        max_momentum=0.9)),
]


def _assert_lrs(t, e):
    assert len(t) == len(e)
    for a, b in zip(t, e):
        assert math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15), (t, e)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(name, kwargs, opt_name):
    topt, eopt = _sched_opts(opt_name, **({"lr": 0.1} if opt_name == "Adam" else {}))
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    es = getattr(sched, name)(eopt, **kwargs)
    _assert_lrs(ts.get_last_lr(), es.get_last_lr())
    for _ in range(30):
        topt.step()
        eopt.step()
        ts.step()
        es.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
        _assert_lrs([g["lr"] for g in topt.param_groups], [g["lr"] for g in eopt.param_groups])
        for tg, eg in zip(topt.param_groups, eopt.param_groups):
            if opt_name == "SGD":
                assert math.isclose(tg["momentum"], eg["momentum"], rel_tol=1e-12)
            else:
                assert math.isclose(tg["betas"][0], eg["betas"][0], rel_tol=1e-12)
    assert es.last_epoch == ts.last_epoch == 30


def test_lambda_lr_matches_torch():
    topt, eopt = _sched_opts()
    fns = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    ts = torch.optim.lr_scheduler.LambdaLR(topt, fns)
    es = sched.LambdaLR(eopt, fns)
    for _ in range(30):
        ts.step()
        es.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
    assert "lr_lambdas" not in es.state_dict()
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        sched.LambdaLR(eopt, [fns[0]])


def test_cosine_follows_external_lr_changes_like_torch():
    """The recursive form reacts to lr edits between steps exactly as PyTorch's does."""
    topt, eopt = _sched_opts()
    ts = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=6, eta_min=0.01)
    es = sched.CosineAnnealingLR(eopt, T_max=6, eta_min=0.01)
    for i in range(30):
        if i == 9:
            topt.param_groups[0]["lr"] *= 0.5
            eopt.param_groups[0]["lr"] *= 0.5
        ts.step()
        es.step()
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs"),
    dict(factor=0.5, patience=1, cooldown=2, min_lr=[0.01, 0.005]),
    dict(factor=0.2, patience=0, threshold=0.1, min_lr=0.02, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    topt, eopt = _sched_opts()
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    es = sched.ReduceLROnPlateau(eopt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.5, 0.49, 0.6, 0.7, 0.8, 0.81, 0.805, 0.3,
               0.3, 0.3, 0.3, 0.29, 0.31, 0.35, 0.2, 0.2, 0.2, 0.2, 0.25, 0.1, 0.1, 0.11, 0.1]
    for m in metrics:
        ts.step(m)
        es.step(ember.from_numpy(np.array(m)))  # a one-element tensor works as a metric
        _assert_lrs(ts.get_last_lr(), es.get_last_lr())
        assert ts.num_bad_epochs == es.num_bad_epochs


def test_scheduler_state_dict_resumes():
    _, eopt = _sched_opts()
    s1 = sched.StepLR(eopt, step_size=3, gamma=0.5)
    for _ in range(5):
        s1.step()
    sd = s1.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 5
    _, eopt2 = _sched_opts()
    eopt2.load_state_dict(eopt.state_dict())
    s2 = sched.StepLR(eopt2, step_size=99)
    s2.load_state_dict(sd)
    for _ in range(7):
        s1.step()
        s2.step()
        assert s1.get_last_lr() == s2.get_last_lr()
    p = sched.ReduceLROnPlateau(eopt, mode="max")
    q = sched.ReduceLROnPlateau(eopt2)
    q.load_state_dict(p.state_dict())
    assert q.mode == "max" and q.mode_worse == -math.inf


def test_scheduler_argument_errors():
    _, eopt = _sched_opts()
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="total_steps"):
        sched.OneCycleLR(eopt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor"):
        sched.ReduceLROnPlateau(eopt, factor=2.0)
    one = sched.OneCycleLR(eopt, max_lr=0.1, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one.step()
    _, eopt = _sched_opts("Adagrad", lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        sched.OneCycleLR(eopt, max_lr=0.1, total_steps=5)
