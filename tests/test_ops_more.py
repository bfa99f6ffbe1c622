"""The second batch of PyTorch ops against PyTorch itself: two-argument float math (atan2, hypot,
logaddexp, copysign, xlogy, float_power) and logit/sinc/angle conversions.

Each ``check`` compares values, dtypes and gradients with PyTorch over broadcasting shapes and runs
ember's gradcheck; error cases check that PyTorch raises the same exception type and that ember's
message names the op and the shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import check, make_inputs

import ember
from ember.autograd.gradcheck import gradgradcheck

# ember silences NumPy's inf/nan RuntimeWarnings for its own modules with a filter installed at
# import; pytest discards filters installed while it collects a test module (when ember is first
# imported), so the edge-case tests here state the same filter themselves.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:(divide by zero|invalid value|overflow) encountered:RuntimeWarning")

BINARY_SHAPES = [[(3, 4), (3, 4)], [(2, 3, 4), (4,)], [(3, 1), (1, 4)], [(), (2, 3)], [(2, 3), ()]]


def raises_like_torch(fn, exc, match):
    """``fn(m)`` raises ``exc`` in PyTorch, and in ember with a message matching ``match``."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc, match=match):
        fn(ember)


# ------------------------------------------------------------------ two-argument float math

BINARY = [
    ("atan2", lambda m, x, y: m.atan2(x, y), {}),
    ("arctan2_method", lambda m, x, y: x.arctan2(y), {}),
    ("hypot", lambda m, x, y: m.hypot(x, y), {}),
    ("logaddexp", lambda m, x, y: m.logaddexp(x * 3, y), {}),
    ("logaddexp2_method", lambda m, x, y: x.logaddexp2(y * 3), {}),
    ("copysign", lambda m, x, y: m.copysign(x, y), {}),
    ("xlogy", lambda m, x, y: m.xlogy(x - 1, y), dict(positive=True)),
    ("float_power", lambda m, x, y: m.float_power(x, y - 1), dict(positive=True)),
]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,kw", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, kw, shapes):
    check(fn, shapes, **kw)


NUMBER_SIDE = [
    ("copysign_number", lambda m, x: m.copysign(x, -2.0), {}),
    ("copysign_neg_zero", lambda m, x: x.copysign(-0.0), {}),
    ("xlogy_number_other", lambda m, x: m.xlogy(x, 3.0), {}),
    ("xlogy_number_input", lambda m, x: m.xlogy(2.0, x), dict(positive=True)),
    ("float_power_int", lambda m, x: x.float_power(2), {}),
    ("float_power_frac", lambda m, x: m.float_power(x, 2.5), dict(positive=True)),
    ("float_power_base", lambda m, x: m.float_power(2.0, x), {}),
]


@pytest.mark.parametrize("name,fn,kw", NUMBER_SIDE, ids=[b[0] for b in NUMBER_SIDE])
def test_number_operand(name, fn, kw):
    check(fn, [(3, 4)], **kw)


EDGES = [  # gradients at PyTorch's special points (no gradcheck: kinks and singularities)
    ("xlogy_zeros", lambda m, x, y: m.xlogy(x, y),
     [[0.0, 0.0, 0.0, 2.0, 0.0, 1.5], [0.0, -1.0, 2.0, 0.0, math.nan, 3.0]]),
    ("copysign_zero", lambda m, x, y: m.copysign(x, y), [[0.0, -0.0, 2.0, -3.0], [-1.0, 1.0, -0.0, 0.0]]),
    ("hypot_origin", lambda m, x, y: m.hypot(x, y), [[0.0, 3.0], [0.0, 4.0]]),
    ("logaddexp_far", lambda m, x, y: m.logaddexp(x, y), [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]]),
    ("logaddexp2_far", lambda m, x, y: m.logaddexp2(x, y), [[1000.0, -1000.0], [-1000.0, 1000.0]]),
    ("atan2_axes", lambda m, x, y: m.atan2(x, y), [[0.0, 1.0, -1.0, 0.0], [1.0, 0.0, 0.0, -1.0]]),
    ("float_power_zero_base", lambda m, x, y: m.float_power(x, y), [[0.0, 0.0, 2.0], [2.0, 0.0, 0.0]]),
]


@pytest.mark.parametrize("name,fn,vals", EDGES, ids=[e[0] for e in EDGES])
def test_binary_edges(name, fn, vals):
    check(fn, None, inputs=[np.array(v) for v in vals], gradcheck_=False)


def test_binary_dtypes():
    i = np.array([[1, -2, 3]], dtype=np.int64)
    f32 = np.array([[0.5], [-1.5]], dtype=np.float32)
    for fn in (lambda m, x, y: m.atan2(x, y), lambda m, x, y: m.copysign(x, y),
               lambda m, x, y: m.xlogy(x, y), lambda m, x, y: m.float_power(x, y)):
        check(fn, None, inputs=[i, i], grad=False)  # integers give the default float (float64 here)
        # float32 throughout (gradcheck needs float64)
        check(fn, None, inputs=[f32, i], grad_atol=1e-5, gradcheck_=False)
        check(fn, None, inputs=[f32, np.array(2.0)], grad_atol=1e-5, gradcheck_=False)  # 0-d
    for fn in (lambda m, x, y: m.hypot(x, y), lambda m, x, y: m.logaddexp(x, y)):
        check(fn, None, inputs=[f32, np.array([[1.0, 2.0]])], gradcheck_=False)
    check(lambda m, x: m.copysign(x, 2), None, inputs=[i], grad=False)
    check(lambda m, x: m.float_power(x, 2), None, inputs=[f32], grad_atol=1e-5, gradcheck_=False)


def test_binary_inplace():
    check(lambda m, x, y: (x * 1).atan2_(y), [(3, 4), (4,)])
    check(lambda m, x, y: (x * 1).arctan2_(y), [(3, 4), (3, 4)])
    check(lambda m, x, y: (x * 1).hypot_(y), [(3, 4), (1, 4)])
    check(lambda m, x, y: (x * 1).copysign_(y), [(3, 4), (3, 1)])
    check(lambda m, x, y: (x * 1).xlogy_(y), [(3, 4), (4,)], positive=True)
    check(lambda m, x, y: (x * 1).float_power_(y), [(3, 4), (4,)], positive=True)
    raises_like_torch(lambda m: m.ones(3, dtype=m.float32).float_power_(2), RuntimeError,
                      "float_power_.*float64")
    raises_like_torch(lambda m: m.ones(3, 1).atan2_(m.ones(3, 4)), RuntimeError, r"\(3, 1\)")


def test_binary_second_order():
    x, y = (ember.tensor(a, requires_grad=True) for a in make_inputs([(3, 4), (4,)]))
    assert gradgradcheck(lambda a, b: ember.atan2(a, b), (x, y))
    assert gradgradcheck(lambda a, b: ember.logaddexp(a, b), (x, y))
    assert gradgradcheck(lambda a, b: ember.logaddexp2(a, b), (x, y))
    assert gradgradcheck(lambda a, b: ember.hypot(a, b), (x, y))
    p, q = (ember.tensor(a, requires_grad=True) for a in make_inputs([(3, 4), (4,)], positive=True))
    assert gradgradcheck(lambda a, b: ember.xlogy(a, b), (p, q))
    # and against PyTorch's own second derivative
    xs = make_inputs([(3, 4), (4,)], seed=3)
    for name in ("atan2", "logaddexp"):
        res = []
        for m in (torch, ember):
            a, b = (m.tensor(v, requires_grad=True) for v in xs)
            (ga,) = m.autograd.grad(getattr(m, name)(a, b).sum(), (a,), create_graph=True)
            res.append([np.asarray(t.detach()) for t in m.autograd.grad((ga * ga).sum(), (a, b))])
        for t, e in zip(*res):
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_binary_errors():
    raises_like_torch(lambda m: m.atan2(m.ones(3, 4), m.ones(5)), RuntimeError,
                      r"atan2.*\(3, 4\) and \(5,\)")
    raises_like_torch(lambda m: m.logaddexp(m.ones(2), m.ones(3)), RuntimeError,
                      r"logaddexp.*\(2,\) and \(3,\)")
    raises_like_torch(lambda m: m.xlogy(m.ones(2), m.ones(3)), RuntimeError, r"xlogy.*\(2,\)")
    raises_like_torch(lambda m: m.atan2(m.ones(3), 2.0), TypeError, "atan2.*other.*Tensor")
    raises_like_torch(lambda m: m.hypot(2.0, m.ones(3)), TypeError, "hypot.*input.*Tensor")
    raises_like_torch(lambda m: m.hypot(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64)),
                      NotImplementedError, r"hypot.*int64.*\(3,\)")
    raises_like_torch(lambda m: m.logaddexp(m.ones(3, dtype=m.bool), m.ones(3, dtype=m.bool)),
                      NotImplementedError, "logaddexp.*bool")


# --------------------------------------------------------------------------- unary math


UNARY = [
    ("logit", lambda m, x: m.logit(x), dict(low=0.05, high=0.95)),
    ("logit_eps_method", lambda m, x: x.logit(eps=0.2), dict(low=-0.5, high=1.5)),
    ("sinc", lambda m, x: m.sinc(x), {}),
    ("sinc_method", lambda m, x: x.sinc(), dict(low=-20, high=20)),
    ("deg2rad", lambda m, x: m.deg2rad(x * 90), {}),
    ("rad2deg_method", lambda m, x: x.rad2deg(), {}),
]


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), ()], ids=str)
@pytest.mark.parametrize("name,fn,kw", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, kw, shape):
    check(fn, [shape], **kw)


def test_unary_edges():
    # logit outside [0, 1] (NaN gradient without eps), at 0 and 1, at eps itself; sinc at 0
    vals = np.array([-0.5, 0.0, 0.1, 0.5, 0.9, 1.0, 1.5])
    check(lambda m, x: m.logit(x), None, inputs=[vals], gradcheck_=False)
    check(lambda m, x: m.logit(x, 0.1), None, inputs=[vals], gradcheck_=False)
    check(lambda m, x: m.sinc(x), None, inputs=[np.array([0.0, 1.0, -2.0, 0.5, 1e-9])])
    assert gradgradcheck(ember.sinc, (ember.tensor([0.3, -1.7, 2.5], dtype=ember.float64,
                                                 requires_grad=True),))
    assert gradgradcheck(lambda t: t.logit(), (ember.tensor([0.3, 0.7, 0.5], dtype=ember.float64,
                                                            requires_grad=True),))


def test_unary_dtypes_and_inplace():
    ints = np.array([0, 1, 2, 180], dtype=np.int64)
    for fn in (lambda m, x: m.deg2rad(x), lambda m, x: m.rad2deg(x), lambda m, x: m.sinc(x),
               lambda m, x: m.logit(x)):
        check(fn, None, inputs=[ints])
        check(fn, None, inputs=[np.array([0.25, 0.5], dtype=np.float32)], grad_atol=1e-4,
              gradcheck_=False)
    check(lambda m, x: (x * 1).logit_(0.1), None, inputs=[np.array([0.05, 0.5, 0.7])])
    check(lambda m, x: (x * 1).sinc_(), [(3, 4)])
    check(lambda m, x: (x * 1).deg2rad_(), [(3, 4)])
    check(lambda m, x: (x * 1).rad2deg_(), [(3, 4)])
