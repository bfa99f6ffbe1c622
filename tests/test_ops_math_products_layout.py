"""The second batch of PyTorch ops against PyTorch itself: two-argument float math (atan2, hypot,
logaddexp, copysign, xlogy, float_power), logit/sinc/angle conversions, the fused add-and-multiply
family (addmm ... addr), trace/cross/kron/cdist, and diff/rot90/meshgrid/block_diag and friends.

Each ``check`` compares values, dtypes and gradients with PyTorch over broadcasting shapes and runs
ember's gradcheck; error cases check that PyTorch raises the same exception type and that ember's
message names the op and the shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import ZERO_SIZE_BINARY, check, make_inputs

import ember
from ember.autograd.gradcheck import gradgradcheck

# ember silences NumPy's inf/nan RuntimeWarnings for its own modules with a filter installed at
# import; pytest discards filters installed while it collects a test module (when ember is first
# imported), so the edge-case tests here state the same filter themselves.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:(divide by zero|invalid value|overflow) encountered:RuntimeWarning")

BINARY_SHAPES = [[(3, 4), (3, 4)], [(2, 3, 4), (4,)], [(3, 1), (1, 4)], [(), (2, 3)],
                 [(2, 3), ()]] + ZERO_SIZE_BINARY


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
    ("atan2_origin", lambda m, x, y: m.atan2(x, y), [[0.0, -0.0, 2.0], [0.0, 0.0, 0.0]]),
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


# ------------------------------------------------------------------ fused add + product

ADDMM = [
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b), [(2, 3), (2, 4), (4, 3)]),
    ("addmm_row", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [(3,), (2, 4), (4, 3)]),
    ("addmm_col_method", lambda m, c, a, b: c.addmm(a, b, alpha=-1), [(2, 1), (2, 4), (4, 3)]),
    ("addmm_0d", lambda m, c, a, b: m.addmm(c, a, b, beta=3), [(), (2, 4), (4, 3)]),
    ("addmv", lambda m, c, a, b: m.addmv(c, a, b), [(2,), (2, 4), (4,)]),
    ("addmv_method", lambda m, c, a, b: c.addmv(a, b, beta=2, alpha=0.5), [(1,), (2, 4), (4,)]),
    ("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), [(2, 3), (5, 2, 4), (5, 4, 3)]),
    ("addbmm_method", lambda m, c, a, b: c.addbmm(a, b, beta=-1, alpha=3), [(3,), (5, 2, 4), (5, 4, 3)]),
    ("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b), [(5, 2, 3), (5, 2, 4), (5, 4, 3)]),
    ("baddbmm_bcast", lambda m, c, a, b: c.baddbmm(a, b, beta=0.5, alpha=2),
     [(5, 1, 3), (5, 2, 4), (5, 4, 3)]),
    ("baddbmm_row", lambda m, c, a, b: m.baddbmm(c, a, b), [(3,), (5, 2, 4), (5, 4, 3)]),
    ("addr", lambda m, c, a, b: m.addr(c, a, b), [(2, 3), (2,), (3,)]),
    ("addr_method", lambda m, c, a, b: c.addr(a, b, beta=2, alpha=-0.5), [(3,), (2,), (3,)]),
    ("addr_0d", lambda m, c, a, b: m.addr(c, a, b), [(), (2,), (3,)]),
]


@pytest.mark.parametrize("name,fn,shapes", ADDMM, ids=[a[0] for a in ADDMM])
def test_add_product(name, fn, shapes):
    check(fn, shapes)


def test_add_product_beta_zero_and_inplace():
    # beta = 0 ignores the input's values (NaN here) and gives it a zero gradient
    a, b = make_inputs([(2, 4), (4, 3)])
    nan = np.full((2, 3), np.nan)
    check(lambda m, c, x, y: m.addmm(c, x, y, beta=0), None, inputs=[nan, a, b], gradcheck_=False)
    check(lambda m, c, x, y: m.addmm(c, x, y, beta=0, alpha=2), [(3,), (2, 4), (4, 3)])
    check(lambda m, c, x, y: (c * 1).addmm_(x, y, beta=0.5), [(2, 3), (2, 4), (4, 3)])
    check(lambda m, c, x, y: (c * 1).addmv_(x, y), [(2,), (2, 4), (4,)])
    check(lambda m, c, x, y: (c * 1).baddbmm_(x, y), [(5, 2, 3), (5, 2, 4), (5, 4, 3)])
    check(lambda m, c, x, y: (c * 1).addbmm_(x, y), [(2, 3), (5, 2, 4), (5, 4, 3)])
    check(lambda m, c, x, y: (c * 1).addr_(x, y), [(2, 3), (2,), (3,)])


def test_add_product_dtypes():
    li = [np.arange(6).reshape(2, 3), np.arange(8).reshape(2, 4) - 3, np.arange(12).reshape(4, 3)]
    check(lambda m, c, a, b: m.addmm(c, a, b, beta=2, alpha=3), None, inputs=li)
    check(lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=1.5), None, inputs=li)  # truncated
    f32 = [a.astype(np.float32) for a in make_inputs([(2, 3), (2,), (3,)])]
    check(lambda m, c, a, b: m.addr(c, a.double(), b.double()), None, inputs=f32, gradcheck_=False)
    raises_like_torch(lambda m: m.addr(m.ones(2, 3, dtype=m.int64), m.ones(2, dtype=m.int64),
                                       m.ones(3, dtype=m.int64), beta=0.5),
                      RuntimeError, "addr.*beta.*floating")
    raises_like_torch(lambda m: m.addmm(m.ones(3, dtype=m.float64), m.ones(2, 4), m.ones(4, 3)),
                      RuntimeError, "addmm.*same dtype.*float64")


def test_add_product_second_order():
    c, a, b = (ember.tensor(v, requires_grad=True) for v in make_inputs([(3,), (2, 4), (4, 3)]))
    assert gradgradcheck(lambda c, a, b: ember.addmm(c, a, b, beta=0.5, alpha=2), (c, a, b))
    c, a, b = (ember.tensor(v, requires_grad=True)
               for v in make_inputs([(5, 1, 3), (5, 2, 4), (5, 4, 3)]))
    assert gradgradcheck(lambda c, a, b: ember.baddbmm(c, a, b, beta=2, alpha=-1), (c, a, b))


def test_add_product_errors():
    o = lambda m, *s: m.ones(*s)  # noqa: E731
    raises_like_torch(lambda m: m.addmm(o(m, 3), o(m, 2, 4), o(m, 5, 3)), RuntimeError,
                      r"addmm.*2x4 and 5x3")
    raises_like_torch(lambda m: m.addmm(o(m, 3, 3), o(m, 2, 4), o(m, 4, 3)), RuntimeError,
                      r"addmm: input of shape \(3, 3\).*\(2, 3\)")
    raises_like_torch(lambda m: m.addmm(o(m, 3), o(m, 2, 4, 1), o(m, 4, 3)), RuntimeError,
                      r"addmm: mat1 must be a matrix.*\(2, 4, 1\)")
    raises_like_torch(lambda m: m.addmv(o(m, 2), o(m, 2, 4), o(m, 3)), RuntimeError,
                      r"addmv: size mismatch.*2x4.*\(3\)")
    raises_like_torch(lambda m: m.baddbmm(o(m, 3), o(m, 5, 2, 4), o(m, 6, 4, 3)), RuntimeError,
                      r"baddbmm.*\(5, 2, 4\).*\(6, 4, 3\)")
    raises_like_torch(lambda m: m.baddbmm(o(m, 6, 1, 3), o(m, 5, 2, 4), o(m, 5, 4, 3)),
                      RuntimeError, r"baddbmm: input of shape \(6, 1, 3\)")
    raises_like_torch(lambda m: m.addbmm(o(m, 3), o(m, 5, 2, 4), o(m, 6, 4, 3)), RuntimeError,
                      r"addbmm.*\(5, 2, 4\).*\(6, 4, 3\)")
    raises_like_torch(lambda m: m.addr(o(m, 3), o(m, 2, 1), o(m, 3)), RuntimeError,
                      r"addr: vec1 must be a vector.*\(2, 1\)")


# --------------------------------------------------------------- trace, cross, kron, cdist


def test_trace():
    for shape in [(3, 4), (4, 4), (4, 3), (1, 1)]:
        check(lambda m, x: m.trace(x), [shape])
    check(lambda m, x: x.trace(), None, inputs=[np.arange(12, dtype=np.int32).reshape(3, 4)])
    raises_like_torch(lambda m: m.ones(2, 3, 4).trace(), RuntimeError, r"trace.*\(2, 3, 4\)")
    raises_like_torch(lambda m: m.ones(2, 2, dtype=m.bool).trace(), NotImplementedError, "trace")


CROSS = [
    ("cross_default", lambda m, x, y: m.cross(x, y), [(4, 3), (4, 3)]),
    ("cross_dim0", lambda m, x, y: m.cross(x, y, dim=0), [(3, 5), (3, 5)]),
    ("cross_bcast", lambda m, x, y: m.cross(x, y, dim=-1), [(2, 1, 3), (1, 4, 3)]),
    ("cross_bcast_dim0_method", lambda m, x, y: x.cross(y, dim=0), [(3, 2, 4), (3, 1, 4)]),
    ("cross_vec", lambda m, x, y: m.cross(x, y, dim=0), [(3,), (3,)]),
]


@pytest.mark.parametrize("name,fn,shapes", CROSS, ids=[c[0] for c in CROSS])
def test_cross(name, fn, shapes):
    # torch.cross without dim is deprecated (first dim of size 3); ember follows torch.linalg.cross
    tf = (lambda m, x, y: torch.linalg.cross(x, y)) if name == "cross_default" else None
    check(fn, shapes, torch_fn=tf)


def test_cross_dtypes_and_errors():
    ints = [np.array([[1, 2, 3], [0, -1, 4]]), np.array([[2, 0, 1], [5, 1, -2]])]
    check(lambda m, x, y: m.cross(x, y, dim=1), None, inputs=ints)
    raises_like_torch(lambda m: m.cross(m.ones(4, 4), m.ones(4, 4), dim=1), RuntimeError,
                      r"cross.*dimension 1 must have length 3.*\(4, 4\)")
    raises_like_torch(lambda m: m.cross(m.ones(3, 5), m.ones(3), dim=0), RuntimeError,
                      r"cross.*same number of dimensions.*\(3, 5\) and \(3,\)")
    raises_like_torch(lambda m: m.cross(m.ones(2, 3), m.ones(4, 3), dim=1), RuntimeError,
                      r"cross.*\(2, 3\) and \(4, 3\)")
    raises_like_torch(lambda m: m.cross(m.ones(3), m.ones(3, dtype=m.float64), dim=0),
                      RuntimeError, "cross.*dtype")
    raises_like_torch(lambda m: m.cross(m.ones(3), m.ones(3), dim=1), IndexError,
                      "Dimension out of range")


KRON = [[(2, 3), (4,)], [(2,), (3, 2)], [(2, 3), (2, 2)], [(), (3,)], [(2, 1, 2), (3, 2)]]


@pytest.mark.parametrize("shapes", KRON, ids=str)
def test_kron(shapes):
    check(lambda m, x, y: m.kron(x, y), shapes)


def test_kron_method_and_dtypes():
    check(lambda m, x, y: x.kron(y), [(2, 2), (2, 3)])
    check(lambda m, x, y: m.kron(x, y), None,
          inputs=[np.arange(4).reshape(2, 2), np.array([0.5, -1.5], dtype=np.float32)],
          gradcheck_=False)


CDIST_SHAPES = [[(3, 4), (5, 4)], [(2, 3, 4), (5, 4)], [(2, 1, 3, 4), (6, 5, 4)], [(30, 3), (4, 3)]]


@pytest.mark.parametrize("shapes", CDIST_SHAPES, ids=str)
@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 1.5, 0.5, math.inf])
def test_cdist(p, shapes):
    check(lambda m, x, y: m.cdist(x, y, p=p), shapes)


def test_cdist_modes_and_zero_distance():
    check(lambda m, x, y: m.cdist(x, y, compute_mode="use_mm_for_euclid_dist"), [(3, 4), (5, 4)])
    check(lambda m, x, y: m.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist"),
          [(30, 4), (26, 4)])
    # rows of x1 repeated in x2: zero distances, where PyTorch's gradient is 0 (not NaN)
    for p in (2.0, 1.0, 3.0, 0.5, math.inf):
        check(lambda m, x, y, p=p: m.cdist(x, m.cat([y, x[:2]]), p=p), [(3, 4), (2, 4)],
              gradcheck_=False)
    x = make_inputs([(3, 2)])[0]
    same = [x, x.copy()]
    check(lambda m, a, b: m.cdist(a, b), None, inputs=same, gradcheck_=False)


def test_cdist_second_order():
    a, b = (ember.tensor(v, requires_grad=True) for v in make_inputs([(2, 3, 4), (5, 4)]))
    assert gradgradcheck(lambda a, b: ember.cdist(a, b), (a, b))
    assert gradgradcheck(lambda a, b: ember.cdist(a, b, p=3.0), (a, b))
    assert gradgradcheck(lambda a, b: ember.cdist(a, b, p=1.0), (a, b))


def test_cdist_errors():
    raises_like_torch(lambda m: m.cdist(m.ones(3, 4), m.ones(5, 3)), RuntimeError,
                      r"cdist.*columns.*X1: 4 X2: 3")
    raises_like_torch(lambda m: m.cdist(m.ones(4), m.ones(5, 4)), RuntimeError,
                      r"cdist.*2D.*\(4,\)")
    raises_like_torch(lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4), p=-1), RuntimeError,
                      "cdist.*non-negative")
    raises_like_torch(lambda m: m.cdist(m.ones(3, 4, dtype=m.int64), m.ones(5, 4, dtype=m.int64)),
                      RuntimeError, "cdist.*floating")
    raises_like_torch(lambda m: m.cdist(m.ones(2, 3, 4), m.ones(3, 5, 4)), RuntimeError,
                      r"cdist.*\(2, 3, 4\).*\(3, 5, 4\)")
    raises_like_torch(lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4, dtype=m.float64)),
                      RuntimeError, "cdist.*dtype")


# ---------------------------------------------------------------------- shape ops

DIFF = [
    ("diff", lambda m, x: m.diff(x), [(3, 4)]),
    ("diff_n2_dim0", lambda m, x: m.diff(x, n=2, dim=0), [(5, 4)]),
    ("diff_method_3d", lambda m, x: x.diff(dim=1), [(2, 3, 4)]),
    ("diff_past_size", lambda m, x: m.diff(x, n=5), [(3, 4)]),
    ("diff_n0", lambda m, x: m.diff(x, n=0) * 1, [(3, 4)]),
    ("diff_prepend_append", lambda m, x, p, a: m.diff(x, n=2, dim=1, prepend=p, append=a),
     [(3, 4), (3, 2), (3, 1)]),
    ("diff_append_dim0", lambda m, x, a: x.diff(dim=0, append=a), [(3, 4), (1, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", DIFF, ids=[d[0] for d in DIFF])
def test_diff(name, fn, shapes):
    check(fn, shapes)


def test_diff_dtypes_and_errors():
    check(lambda m, x: m.diff(x), None, inputs=[np.array([True, False, False, True])])
    check(lambda m, x: m.diff(x, n=2), None, inputs=[np.array([[1, 4, 9, 16]], dtype=np.int32)])
    check(lambda m, x, a: m.diff(x, append=a.double()), None,
          inputs=[np.ones((2, 3), np.float32), np.ones((2, 1), np.float32)], gradcheck_=False)
    raises_like_torch(lambda m: m.diff(m.tensor(1.0)), RuntimeError, "diff.*one-dimensional")
    raises_like_torch(lambda m: m.diff(m.ones(3, 4), n=-1), RuntimeError, "order must be non-neg")
    raises_like_torch(lambda m: m.diff(m.ones(3, 4), prepend=m.ones(4), dim=1), RuntimeError,
                      r"diff.*same dimension.*\(3, 4\).*\(4,\)")
    raises_like_torch(lambda m: m.diff(m.ones(3, 4), prepend=m.ones(2, 2), dim=1), RuntimeError,
                      r"diff.*\(3, 4\).*\(2, 2\)")
    raises_like_torch(lambda m: m.diff(m.ones(3, 4), dim=2), IndexError, "Dimension out of range")


ROT90 = [(k, dims) for k in (1, 2, 3, 0, -1, 5) for dims in ((0, 1), (2, 0), (1, -1))]


@pytest.mark.parametrize("k,dims", ROT90, ids=str)
def test_rot90(k, dims):
    check(lambda m, x: m.rot90(x, k, dims) * 1, [(2, 3, 4)])


def test_rot90_method_and_errors():
    check(lambda m, x: x.rot90() * 1, [(2, 3)])
    check(lambda m, x: x.rot90(-1, [1, 0]) * 1, [(2, 3)])
    raises_like_torch(lambda m: m.ones(2, 3).rot90(1, (0,)), RuntimeError, "rot90.*dims = 1")
    raises_like_torch(lambda m: m.ones(2, 3).rot90(1, (0, 0)), RuntimeError, "rot90.*different")
    raises_like_torch(lambda m: m.ones(2).rot90(1, (0, 1)), RuntimeError, r"rot90.*\(2,\)")
    raises_like_torch(lambda m: m.ones(2, 3).rot90(1, (0, 2)), IndexError, "out of range")


def test_meshgrid():
    for ix in ("ij", "xy"):
        check(lambda m, x, y, ix=ix: m.meshgrid(x, y, indexing=ix), [(2,), (3,)])
        check(lambda m, x, y, z, ix=ix: [g * 1 for g in m.meshgrid([x, y, z], indexing=ix)],
              [(2,), (3,), (4,)])
        check(lambda m, x, y, ix=ix: m.meshgrid(x, y, indexing=ix), [(), (3,)])
        check(lambda m, x, ix=ix: m.meshgrid(x, indexing=ix), [(3,)])
    e = ember.meshgrid(ember.ones(2), ember.ones(3))  # ember's default is torch's "ij"
    assert e[0].shape == (2, 3)
    raises_like_torch(lambda m: m.meshgrid(m.ones(2, 2), m.ones(3), indexing="ij"), RuntimeError,
                      r"meshgrid.*\(2, 2\)")
    raises_like_torch(lambda m: m.meshgrid(m.ones(2), m.ones(3), indexing="foo"), RuntimeError,
                      "meshgrid.*indexing.*foo")
    raises_like_torch(lambda m: m.meshgrid(m.ones(2), m.ones(3, dtype=m.float64), indexing="ij"),
                      RuntimeError, "meshgrid.*same dtype")


def test_block_diag_and_cartesian_prod():
    check(lambda m, a, b, c: m.block_diag(a, b, c), [(2, 3), (4,), ()])
    check(lambda m, a, b: m.block_diag(a, b), [(1, 1), (3, 2)])
    check(lambda m, a: m.block_diag(a) * 1, [(2, 3)])
    check(lambda m, a, b: m.block_diag(a, b), None,
          inputs=[np.ones((2, 2), np.float32), np.arange(3)], gradcheck_=False)
    check(lambda m, a, b: m.block_diag(a, b), None, inputs=[np.ones((2, 0)), np.ones((1, 1))])
    check(lambda m, a, b: m.cartesian_prod(a, b), [(2,), (3,)])
    check(lambda m, a, b, c: m.cartesian_prod(a, b, c), [(2,), (3,), (2,)])
    check(lambda m, a: m.cartesian_prod(a) * 1, [(4,)])
    raises_like_torch(lambda m: m.block_diag(m.ones(2, 3, 1)), RuntimeError,
                      r"block_diag.*2 or fewer.*\(2, 3, 1\)")
    raises_like_torch(lambda m: m.cartesian_prod(m.ones(2, 3)), RuntimeError,
                      r"cartesian_prod.*1D.*\[2, 3\]")


@pytest.mark.parametrize("row,col,offset", [(3, 4, 0), (4, 3, -1), (3, 4, 2), (0, 3, 0), (3, 4, 10),
                                            (5, 5, -10)])
def test_triangle_indices(row, col, offset):
    for name in ("tril_indices", "triu_indices"):
        t = getattr(torch, name)(row, col, offset)
        e = getattr(ember, name)(row, col, offset)
        assert e.dtype == ember.int64 and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(np.asarray(e), t.numpy())
    e = ember.triu_indices(3, 3, dtype=ember.int32)
    assert e.dtype == ember.int32
    raises_like_torch(lambda m: m.tril_indices(-1, 3), RuntimeError, "tril_indices.*row.*-1")
    raises_like_torch(lambda m: m.triu_indices(3, 3, dtype=m.float32), NotImplementedError,
                      "triu_indices")


def test_atleast():
    for shape in [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]:
        check(lambda m, x: m.atleast_1d(x) * 1, [shape])
        check(lambda m, x: m.atleast_2d(x) * 1, [shape])
        check(lambda m, x: m.atleast_3d(x) * 1, [shape])
    check(lambda m, x, y: [t * 1 for t in m.atleast_2d(x, y)], [(), (3,)])
    check(lambda m, x, y: [t * 1 for t in m.atleast_3d([x, y])], [(2, 3), (3,)])
    x = ember.ones(2, 3)
    assert ember.atleast_2d(x) is x and ember.atleast_1d() == ()


STACKS = [
    ("column_stack", lambda m, a, b, c: m.column_stack([a, b, c]), [(3,), (3, 2), (3,)]),
    ("column_stack_0d", lambda m, a, b: m.column_stack((a, b)), [(), ()]),
    ("dstack_1d", lambda m, a, b: m.dstack([a, b]), [(3,), (3,)]),
    ("dstack_2d", lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)]),
    ("dstack_3d", lambda m, a, b: m.dstack([a, b]), [(2, 3, 4), (2, 3, 1)]),
    ("hstack", lambda m, a, b: m.hstack([a, b]), [(2, 3), (2, 1)]),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", STACKS, ids=[s[0] for s in STACKS])
def test_stacks(name, fn, shapes):
    check(fn, shapes)


def test_stack_errors():
    raises_like_torch(lambda m: m.column_stack([m.ones(3), m.ones(4)]), RuntimeError,
                      r"cat.*\(3, 1\), \(4, 1\)")
    raises_like_torch(lambda m: m.column_stack([]), RuntimeError, "column_stack.*non-empty")
    raises_like_torch(lambda m: m.dstack([]), RuntimeError, "dstack.*non-empty")


TAKE = [
    ("dim1", lambda m, x, i: m.take_along_dim(x, i, 1), [[0, 2], [1, -1], [2, 2]]),
    ("flat", lambda m, x, i: m.take_along_dim(x, i), [[0, 11], [5, 5]]),
    ("bcast_index", lambda m, x, i: x.take_along_dim(i, dim=1), [[0, 2, 1, 0]]),
    ("bcast_input_dim0", lambda m, x, i: m.take_along_dim(x[:1], i, 0), [[0, 0, 0, 0]] * 2),
    ("argsort_like", lambda m, x, i: m.take_along_dim(x, i, dim=0), [[2, 0, 1, 1], [0, 1, 2, 0]]),
]


@pytest.mark.parametrize("name,fn,idx", TAKE, ids=[t[0] for t in TAKE])
def test_take_along_dim(name, fn, idx):
    x = make_inputs([(3, 4)])[0]
    check(fn, None, inputs=[x, np.array(idx, dtype=np.int64)])


def test_take_along_dim_errors():
    raises_like_torch(lambda m: m.take_along_dim(m.ones(2, 3), m.ones(2, 2), 1), RuntimeError,
                      "take_along_dim.*indices")
    raises_like_torch(lambda m: m.take_along_dim(m.ones(2, 3), m.zeros(2, dtype=m.int64), 1),
                      RuntimeError, r"take_along_dim.*same number of dimensions.*\(2, 3\).*\(2,\)")
    raises_like_torch(lambda m: m.take_along_dim(m.ones(4, 3), m.zeros(2, 1, dtype=m.int64), 1),
                      RuntimeError, r"\(4, 3\).*\(2, 1\)")
    with pytest.raises(RuntimeError, match="take_along_dim: index 3 is out of bounds"):
        ember.take_along_dim(ember.ones(2, 3), ember.tensor([[3]]), 1)
