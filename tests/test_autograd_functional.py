"""ember.autograd.functional against torch.autograd.functional (values, nesting of the results,
create_graph, strict), and anomaly detection / set_grad_enabled as a decorator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF
from tests.helpers import _np

RNG = np.random.default_rng(3)


def _both(*shapes):
    arrays = [RNG.uniform(-1.5, 1.5, size=s) for s in shapes]
    return ([torch.tensor(a) for a in arrays], [ember.tensor(a) for a in arrays])


# functions written once for both frameworks (m is torch or ember)
FUNCS = {
    "exp_reducer": (lambda m, x: (x.exp() * x).sum(dim=1), [(3, 4)]),
    "elementwise": (lambda m, x: m.tanh(x) * x ** 2, [(5,)]),
    "matvec": (lambda m, x, y: x @ y + y.sin().sum(), [(3, 4), (4,)]),
    "two_outputs": (lambda m, x, y: (x * y, (x - y).exp().sum()), [(4,), (4,)]),
    "scalar_in": (lambda m, x: m.stack([x.sin(), x.cos() * x]), [()]),
    "unused_input": (lambda m, x, y: x.pow(3), [(3,), (2,)]),
}
SCALAR_FUNCS = {
    "pow_reducer": (lambda m, x: x.pow(3).sum(), [(2, 3)]),
    "rosenbrock": (lambda m, x, y: ((1 - x) ** 2 + 100 * (y - x * x) ** 2).sum(), [(3,), (3,)]),
    "softplus_dot": (lambda m, x, w: m.log(1 + (x * w).exp()).sum() + (x ** 2 * w).mean(),
                     [(4,), (4,)]),
    "unused_input": (lambda m, x, y: (x * x).sum(), [(2,), (3,)]),
}


def _call(f, m, xs, single):
    return (lambda *a: f(m, *a)), (xs[0] if single else tuple(xs))


def _assert_same(t, e, rtol=1e-10, atol=1e-12):
    if isinstance(t, (tuple, list)):  # PyTorch's forward-mode jacobian returns a list
        assert isinstance(e, tuple) and len(e) == len(t), (type(e), t)
        for a, b in zip(t, e):
            _assert_same(a, b, rtol, atol)
        return
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(FUNCS))
def test_jacobian_matches_torch(name):
    f, shapes = FUNCS[name]
    tx, ex = _both(*shapes)
    single = len(shapes) == 1
    for kw in (dict(), dict(vectorize=True), dict(vectorize=True, strategy="forward-mode")):
        tres = TF.jacobian(*_call(f, torch, tx, single), **kw)
        eres = EF.jacobian(*_call(f, ember, ex, single), **kw)
        _assert_same(tres, eres)


@pytest.mark.parametrize("name", list(FUNCS))
def test_vjp_and_jvp_match_torch(name):
    f, shapes = FUNCS[name]
    tx, ex = _both(*shapes)
    single = len(shapes) == 1
    tout = f(torch, *tx)
    touts = tout if isinstance(tout, tuple) else (tout,)
    vs = [RNG.standard_normal(tuple(o.shape)) for o in touts]
    tv = tuple(torch.tensor(v) for v in vs)
    ev = tuple(ember.tensor(v) for v in vs)
    if not isinstance(tout, tuple):
        tv, ev = tv[0], ev[0]
    _assert_same(TF.vjp(*_call(f, torch, tx, single), tv), EF.vjp(*_call(f, ember, ex, single), ev))
    us = [RNG.standard_normal(s) for s in shapes]
    tu = tuple(torch.tensor(u) for u in us)
    eu = tuple(ember.tensor(u) for u in us)
    if single:
        tu, eu = tu[0], eu[0]
    _assert_same(TF.jvp(*_call(f, torch, tx, single), tu), EF.jvp(*_call(f, ember, ex, single), eu))


@pytest.mark.parametrize("name", list(SCALAR_FUNCS))
def test_hessian_vhp_hvp_match_torch(name):
    f, shapes = SCALAR_FUNCS[name]
    tx, ex = _both(*shapes)
    single = len(shapes) == 1
    _assert_same(TF.hessian(*_call(f, torch, tx, single)), EF.hessian(*_call(f, ember, ex, single)))
    vs = [RNG.standard_normal(s) for s in shapes]
    tv = tuple(torch.tensor(v) for v in vs)
    ev = tuple(ember.tensor(v) for v in vs)
    if single:
        tv, ev = tv[0], ev[0]
    for fn in ("vhp", "hvp"):
        _assert_same(getattr(TF, fn)(*_call(f, torch, tx, single), tv),
                     getattr(EF, fn)(*_call(f, ember, ex, single), ev))


def test_v_may_be_omitted_for_scalars():
    tx, ex = _both(())
    f = SCALAR_FUNCS["pow_reducer"][0]
    _assert_same(TF.vjp(lambda x: f(torch, x), tx[0]), EF.vjp(lambda x: f(ember, x), ex[0]))
    _assert_same(TF.jvp(lambda x: x.sin() * 3, tx[0]), EF.jvp(lambda x: x.sin() * 3, ex[0]))
    _assert_same(TF.hvp(lambda x: x.pow(4), tx[0]), EF.hvp(lambda x: x.pow(4), ex[0]))
    with pytest.raises(RuntimeError, match="single element"):
        EF.vjp(lambda x: x * 2, ember.ones(3))


def test_create_graph_gives_differentiable_results():
    # d/dx of the trace of the Jacobian of x -> x**3 is 6x, in both frameworks
    tx, ex = _both((4,))
    tx0 = tx[0].requires_grad_()
    ex0 = ex[0].requires_grad_()
    tj = TF.jacobian(lambda x: x ** 3, tx0, create_graph=True)
    ej = EF.jacobian(lambda x: x ** 3, ex0, create_graph=True)
    assert ej.requires_grad
    (tg,) = torch.autograd.grad(tj.diagonal().sum(), tx0)
    (eg,) = ember.autograd.grad(ember.diagonal(ej).sum(), ex0)
    np.testing.assert_allclose(_np(eg), _np(tg), rtol=1e-12)
    th = TF.hessian(lambda x: x.pow(3).sum(), tx0, create_graph=True)
    eh = EF.hessian(lambda x: x.pow(3).sum(), ex0, create_graph=True)
    (tg,) = torch.autograd.grad(th.sum(), tx0)
    (eg,) = ember.autograd.grad(eh.sum(), ex0)
    np.testing.assert_allclose(_np(eg), _np(tg), rtol=1e-12)
    _, ev = EF.vjp(lambda x: x.sin(), ex0, ember.ones(4), create_graph=True)
    assert ev.requires_grad
    # without create_graph the results are detached, as in PyTorch
    assert not EF.jacobian(lambda x: x ** 3, ex0).requires_grad


def test_strict_mode_raises_like_torch():
    f = FUNCS["unused_input"][0]
    tx, ex = _both((3,), (2,))
    for fn in ("jacobian", "vjp"):
        args_t = (lambda *a: f(torch, *a), tuple(tx))
        args_e = (lambda *a: f(ember, *a), tuple(ex))
        extra_t = (torch.ones(3, dtype=torch.float64),) if fn == "vjp" else ()
        extra_e = (ember.ones(3, dtype=ember.float64),) if fn == "vjp" else ()
        with pytest.raises(RuntimeError, match="independent of input 1"):
            getattr(TF, fn)(*args_t, *extra_t, strict=True)
        with pytest.raises(RuntimeError, match="independent of input 1"):
            getattr(EF, fn)(*args_e, *extra_e, strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        EF.vjp(lambda x: ember.ones(2), ex[0], ember.ones(2), strict=True)
    # not strict: zeros where the output does not depend on the input
    res = EF.jacobian(lambda x: ember.ones(2, dtype=ember.float64), ex[0])
    np.testing.assert_array_equal(_np(res), np.zeros((2, 3)))


def test_bad_arguments():
    with pytest.raises(TypeError, match="inputs"):
        EF.jacobian(lambda x: x, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        EF.vjp(lambda x: x * 2, ember.ones(3), ember.ones(2))
    with pytest.raises(RuntimeError, match="single element"):
        EF.hessian(lambda x: x * 2, ember.ones(3))
    with pytest.raises(ValueError, match="strategy"):
        EF.jacobian(lambda x: x, ember.ones(2), strategy="sideways")


def test_zero_size_input():
    tx, ex = _both((0,), (2,))
    tres = TF.jacobian(lambda x, y: x.sum() + y * 2, tuple(tx))
    eres = EF.jacobian(lambda x, y: x.sum() + y * 2, tuple(ex))
    _assert_same(tres, eres)
    assert tuple(eres[0].shape) == (2, 0)


def test_namespace_matches_torch():
    assert sorted(EF.__all__) == sorted(TF.__all__)
    assert ember.autograd.functional is EF


# ------------------------------------------------------------------------------ anomaly mode

def _nan_backward_program(m):
    x = m.tensor([0.0, 1.0, 4.0], requires_grad=True)
    y = m.sqrt(x)          # the gradient 1 / (2 sqrt(x)) is inf at 0
    z = (y * 0.0).sum()    # inf * 0 = nan in sqrt's backward
    z.backward()


def test_detect_anomaly_names_the_op_and_where_it_was_created():
    with torch.autograd.detect_anomaly(), pytest.warns(UserWarning):
        with pytest.raises(RuntimeError, match="SqrtBackward0.*nan"):
            _nan_backward_program(torch)
    with ember.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"'SqrtBackward' returned nan") as info:
            _nan_backward_program(ember)
    message = str(info.value)
    assert "test_autograd_functional.py" in message and "y = m.sqrt(x)" in message
    assert not ember.autograd.anomaly_mode.is_anomaly_enabled()
    _nan_backward_program(ember)  # off again: no check, no error (as in PyTorch)


def test_set_detect_anomaly_function_and_context():
    from ember.autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled

    ember.autograd.set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="SqrtBackward"):
            _nan_backward_program(ember)
        with ember.autograd.set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            _nan_backward_program(ember)
        assert is_anomaly_enabled()
        with ember.autograd.detect_anomaly(check_nan=False):
            assert not is_anomaly_check_nan_enabled()
            _nan_backward_program(ember)
        assert is_anomaly_check_nan_enabled()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_decorator_and_clean_graphs_pass():
    @ember.autograd.detect_anomaly()
    def train_step():
        w = ember.tensor([0.5, -1.0], requires_grad=True)
        loss = (ember.tanh(w) ** 2).sum()
        loss.backward()
        return w.grad

    g = train_step()
    t = torch.tensor([0.5, -1.0], requires_grad=True)
    (torch.tanh(t) ** 2).sum().backward()
    np.testing.assert_allclose(_np(g), _np(t.grad), rtol=1e-6)
    with pytest.raises(RuntimeError, match="SqrtBackward"):
        ember.autograd.detect_anomaly()(_nan_backward_program)(ember)


def test_anomaly_off_records_nothing():
    from ember.autograd import anomaly_mode

    before = len(anomaly_mode._CREATED_AT)
    x = ember.ones(3, requires_grad=True)
    y = (x * 2).exp().sum()
    assert len(anomaly_mode._CREATED_AT) == before
    assert anomaly_mode.creation_trace(y._node) == ""


def test_set_grad_enabled_as_decorator():
    for mod in (torch, ember):
        @mod.set_grad_enabled(False)
        def no_graph(x):
            return x * 2

        @mod.autograd.set_grad_enabled(True)
        def with_graph(x):
            return x * 2

        x = mod.ones(2, requires_grad=True)
        assert mod.is_grad_enabled()
        assert not no_graph(x).requires_grad
        assert mod.is_grad_enabled()
        with mod.no_grad():
            assert with_graph(x).requires_grad


def test_legacy_variable_and_multithreading_switch():
    from ember.autograd.variable import is_multithreading_enabled

    for mod in (torch, ember):
        x = mod.ones(2)
        v = mod.autograd.Variable(x, requires_grad=True)
        assert v.is_leaf and v.requires_grad and not x.requires_grad
        assert isinstance(x, mod.autograd.Variable)
        (v * 3).sum().backward()
        np.testing.assert_array_equal(_np(v.grad), [3.0, 3.0])
        v.data[0] = 5.0  # shares memory with x, as in PyTorch
        assert float(x[0]) == 5.0
    assert not isinstance(3.0, ember.autograd.Variable)
    np.testing.assert_array_equal(_np(ember.autograd.Variable([1.0, 2.0])), [1.0, 2.0])
    with pytest.warns(UserWarning, match="volatile"):
        ember.autograd.Variable(ember.ones(1), volatile=True)
    with ember.autograd.set_multithreading_enabled(False):
        assert not is_multithreading_enabled()
    assert is_multithreading_enabled()
