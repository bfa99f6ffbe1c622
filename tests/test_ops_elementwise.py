"""Elementwise ops against PyTorch: arithmetic, unary math, activations, comparisons and selection,
dtype promotion, in-place semantics, and second derivatives.

Each ``check`` compares values and gradients with PyTorch and runs ember's gradcheck; input ranges
keep away from kinks and singularities unless a test is about them (then gradcheck is off).
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import torch
from helpers import ZERO_SIZE_BINARY, ZERO_SIZE_UNARY, F, check, make_inputs

import ember
from ember.autograd.gradcheck import gradgradcheck


UNARY_SHAPES = [[(3, 4)], [(2, 3, 4)], [()]] + ZERO_SIZE_UNARY
BINARY_SHAPES = [[(3, 4), (3, 4)], [(2, 3, 4), (4,)], [(3, 1), (1, 4)], [(), (2, 3)],
                 [(2, 3), ()]] + ZERO_SIZE_BINARY

# ------------------------------------------------------------------------------- arithmetic

BINARY = [
    ("add", lambda m, x, y: x + y, {}),
    ("add_fn_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), {}),
    ("sub", lambda m, x, y: x - y, {}),
    ("sub_fn_alpha", lambda m, x, y: m.sub(x, y, alpha=0.5), {}),
    ("mul", lambda m, x, y: x * y, {}),
    ("div", lambda m, x, y: x / y, dict(positive=True)),
    ("div_fn", lambda m, x, y: m.div(x, y), dict(positive=True)),
    ("pow", lambda m, x, y: x ** y, dict(positive=True)),
    ("remainder", lambda m, x, y: m.remainder(x * 3, y), dict(positive=True)),
    ("fmod", lambda m, x, y: m.fmod(x * 3 - 4, y), dict(positive=True)),
    ("maximum", lambda m, x, y: m.maximum(x, y), {}),
    ("minimum", lambda m, x, y: m.minimum(x, y), {}),
    ("fmax", lambda m, x, y: m.fmax(x, y), {}),
    ("fmin", lambda m, x, y: m.fmin(x, y), {}),
    ("where", lambda m, x, y: m.where(x > y, x, y * 2), {}),
    ("where_method", lambda m, x, y: x.where(y > 0, y), {}),
    ("lerp", lambda m, x, y: m.lerp(x, y, 0.3), {}),
    ("addcmul", lambda m, x, y: m.addcmul(x, x, y, value=0.5), {}),
    ("addcdiv", lambda m, x, y: m.addcdiv(x, x, y, value=2), dict(positive=True)),
]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,kw", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, kw, shapes):
    check(fn, shapes, **kw)


SCALAR_SIDE = [
    ("add_scalar", lambda m, x: x + 2.5),
    ("radd_scalar", lambda m, x: 2.5 + x),
    ("sub_scalar", lambda m, x: x - 3),
    ("rsub_scalar", lambda m, x: 3 - x),
    ("mul_scalar", lambda m, x: x * 0.5),
    ("rmul_scalar", lambda m, x: -2 * x),
    ("div_scalar", lambda m, x: x / 4),
    ("rdiv_scalar", lambda m, x: 1.5 / x),
    ("pow_int", lambda m, x: x ** 3),
    ("pow_half", lambda m, x: x ** 0.5),
    ("pow_neg", lambda m, x: x ** -1.5),
    ("rpow", lambda m, x: 2.0 ** x),
    ("rpow_e", lambda m, x: math.e ** x),
    ("neg", lambda m, x: -x),
    ("neg_fn", lambda m, x: m.neg(x)),
    ("pos", lambda m, x: +x),
    ("mod_scalar", lambda m, x: (x * 5) % 1.5),
    ("maximum_scalar_tensor", lambda m, x: m.maximum(x, m.tensor(0.5, dtype=x.dtype))),
]


@pytest.mark.parametrize("shapes", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn", SCALAR_SIDE, ids=[s[0] for s in SCALAR_SIDE])
def test_binary_with_number(name, fn, shapes):
    check(fn, shapes, positive=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy reports 0 ** -1 and log(0)
def test_pow_edge_gradients_match_torch():
    # zero base and zero exponent: PyTorch's choices (0 rather than nan), not finite differences
    base = np.array([0.0, 0.0, 0.0, 1.5, 2.0, 0.0])
    expo = np.array([0.0, 2.0, 0.5, 0.0, -1.0, 3.0])
    check(lambda m, x, y: x ** y, None, inputs=[base, expo], gradcheck_=False)
    check(lambda m, x: x ** 0, None, inputs=[base], gradcheck_=False)
    check(lambda m, x: 0.0 ** x, None, inputs=[expo], gradcheck_=False)


def test_maximum_minimum_split_ties_like_torch():
    x = np.array([1.0, 2.0, 3.0, -1.0])
    y = np.array([1.0, 0.0, 3.0, 5.0])
    for fn in (lambda m, a, b: m.maximum(a, b), lambda m, a, b: m.minimum(a, b),
               lambda m, a, b: m.fmax(a, b), lambda m, a, b: m.fmin(a, b)):
        check(fn, None, inputs=[x, y], gradcheck_=False)


def test_fmax_ignores_nan_maximum_propagates_it():
    x = np.array([1.0, np.nan, 3.0, np.nan])
    y = np.array([np.nan, 2.0, 1.0, np.nan])
    for fn in (lambda m, a, b: m.fmax(a, b), lambda m, a, b: m.fmin(a, b),
               lambda m, a, b: m.maximum(a, b)):
        check(fn, None, inputs=[x, y], gradcheck_=False, atol=0)


def test_floor_divide_matches_torch():
    a = np.array([7, -7, 5, -3])
    b = np.array([2, 2, -3, 4])
    check(lambda m, x, y: x // y, None, inputs=[a, b])
    check(lambda m, x, y: m.floor_divide(x, y), None, inputs=[a * 1.5, b * 1.0], grad=False)
    check(lambda m, x, y: x % y, None, inputs=[a, b])
    check(lambda m, x, y: m.fmod(x, y), None, inputs=[a, b])


def test_broadcast_error_names_op_and_shapes():
    a, b = ember.zeros(2, 3), ember.zeros(4)
    for op, name in ((lambda: a + b, "add"), (lambda: a * b, "mul"), (lambda: a - b, "sub"),
                     (lambda: a / b, "div"), (lambda: a ** b, "pow"),
                     (lambda: ember.maximum(a, b), "maximum"), (lambda: a < b, "lt")):
        with pytest.raises(RuntimeError) as err:
            op()
        assert name in str(err.value) and "(2, 3)" in str(err.value) and "(4,)" in str(err.value)


# ------------------------------------------------------------------------------- unary math

UNARY = [
    ("exp", lambda m, x: x.exp(), {}),
    ("exp_fn", lambda m, x: m.exp(x), {}),
    ("exp2", lambda m, x: m.exp2(x), {}),
    ("expm1", lambda m, x: x.expm1(), {}),
    ("log", lambda m, x: x.log(), dict(low=0.1, high=3)),
    ("log2", lambda m, x: m.log2(x), dict(low=0.1, high=3)),
    ("log10", lambda m, x: x.log10(), dict(low=0.1, high=3)),
    ("log1p", lambda m, x: x.log1p(), dict(low=-0.9, high=3)),
    ("sqrt", lambda m, x: x.sqrt(), dict(low=0.1, high=3)),
    ("rsqrt", lambda m, x: m.rsqrt(x), dict(low=0.1, high=3)),
    ("square", lambda m, x: x.square(), {}),
    ("reciprocal", lambda m, x: x.reciprocal(), dict(low=0.2, high=3)),
    ("abs", lambda m, x: x.abs(), {}),
    ("abs_builtin", lambda m, x: abs(x), {}),
    ("sign", lambda m, x: x.sign(), {}),
    ("sin", lambda m, x: x.sin(), {}),
    ("cos", lambda m, x: m.cos(x), {}),
    ("tan", lambda m, x: x.tan(), dict(low=-1.2, high=1.2)),
    ("tanh", lambda m, x: x.tanh(), {}),
    ("tanh_fn", lambda m, x: m.tanh(x), {}),
    ("asin", lambda m, x: x.asin(), dict(low=-0.9, high=0.9)),
    ("acos", lambda m, x: m.acos(x), dict(low=-0.9, high=0.9)),
    ("atan", lambda m, x: x.atan(), dict(low=-3, high=3)),
    ("sinh", lambda m, x: x.sinh(), {}),
    ("cosh", lambda m, x: x.cosh(), {}),
    ("asinh", lambda m, x: m.asinh(x), {}),
    ("acosh", lambda m, x: m.acosh(x), dict(low=1.2, high=3)),
    ("atanh", lambda m, x: m.atanh(x), dict(low=-0.9, high=0.9)),
    ("erf", lambda m, x: m.erf(x), dict(low=-3, high=3)),
    ("erf_tails", lambda m, x: x.erf(), dict(low=2.4, high=4.5)),
    ("erfc", lambda m, x: m.erfc(x), dict(low=-3, high=5)),
    ("floor", lambda m, x: (x * 3).floor(), {}),
    ("ceil", lambda m, x: (x * 3).ceil(), {}),
    ("round", lambda m, x: (x * 3).round(), {}),
    ("round_decimals", lambda m, x: m.round(x * 3, decimals=2), {}),
    ("trunc", lambda m, x: (x * 3).trunc(), {}),
    ("frac", lambda m, x: (x * 3).frac(), {}),
    ("clone", lambda m, x: x.clone() * 2, {}),
]


@pytest.mark.parametrize("shapes", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,kw", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, kw, shapes):
    check(fn, shapes, **kw)


def test_erf_accuracy_against_math_erf():
    x = np.concatenate([np.linspace(-8, 8, 4001), [0.0, -0.0, 1e-300, -1e-12, 2.5, -2.5, 30, 1e10],
                        [np.inf, -np.inf]])
    ours = ember.erf(ember.tensor(x, dtype=ember.float64)).numpy()
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ours, want, rtol=4e-15, atol=1e-300)
    oursc = ember.erfc(ember.tensor(x, dtype=ember.float64)).numpy()
    wantc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(oursc, wantc, rtol=5e-13, atol=1e-300)
    assert np.isnan(ember.erf(ember.tensor([np.nan])).item())
    x32 = ember.tensor(np.linspace(-5, 5, 101, dtype=np.float32))
    assert ember.erf(x32).dtype == ember.float32
    np.testing.assert_allclose(ember.erf(x32).numpy(), torch.erf(torch.tensor(x32.numpy())).numpy(),
                               atol=2e-7)


def test_unary_integer_inputs_promote_like_torch():
    ints = [np.array([[1, 2, 3], [4, 5, 6]])]
    for fn in (lambda m, x: x.exp(), lambda m, x: x.sqrt(), lambda m, x: m.sin(x),
               lambda m, x: x.abs(), lambda m, x: x.square(), lambda m, x: x.floor(),
               lambda m, x: m.sigmoid(x), lambda m, x: x.reciprocal(), lambda m, x: m.erf(x),
               lambda m, x: x.sign(), lambda m, x: x.relu(), lambda m, x: (-x).neg()):
        check(fn, None, inputs=ints)


# ------------------------------------------------------------------------------ activations

ACTIVATIONS = [
    ("sigmoid", lambda m, x: x.sigmoid(), {}),
    ("sigmoid_fn", lambda m, x: m.sigmoid(x * 4), {}),
    ("logsigmoid", lambda m, x: F(m).logsigmoid(x * 4), {}),
    ("relu", lambda m, x: x.relu(), {}),
    ("relu_fn", lambda m, x: F(m).relu(x), {}),
    ("relu_top", lambda m, x: m.relu(x), {}),
    ("relu6", lambda m, x: F(m).relu6(x * 4), {}),
    ("leaky_relu", lambda m, x: F(m).leaky_relu(x), {}),
    ("leaky_relu_slope", lambda m, x: F(m).leaky_relu(x, negative_slope=0.2), {}),
    ("gelu", lambda m, x: F(m).gelu(x * 2), {}),
    ("gelu_tanh", lambda m, x: F(m).gelu(x * 2, approximate="tanh"), {}),
    ("silu", lambda m, x: F(m).silu(x * 2), {}),
    ("softplus", lambda m, x: F(m).softplus(x * 2), {}),
    ("softplus_beta", lambda m, x: F(m).softplus(x * 5, beta=2, threshold=4), {}),
    ("elu", lambda m, x: F(m).elu(x), {}),
    ("elu_alpha", lambda m, x: F(m).elu(x, alpha=0.5), {}),
    ("selu", lambda m, x: F(m).selu(x), {}),
    ("selu_top", lambda m, x: m.selu(x), {}),
    ("celu", lambda m, x: F(m).celu(x, alpha=0.7), {}),
    ("hardtanh", lambda m, x: F(m).hardtanh(x), {}),
    ("hardtanh_bounds", lambda m, x: F(m).hardtanh(x, -0.5, 1.5), {}),
    ("hardsigmoid", lambda m, x: F(m).hardsigmoid(x * 2.5), {}),
    ("hardswish", lambda m, x: F(m).hardswish(x * 2.5), {}),
    ("mish", lambda m, x: F(m).mish(x * 2), {}),
    ("softsign", lambda m, x: F(m).softsign(x), {}),
    ("tanhshrink", lambda m, x: F(m).tanhshrink(x), {}),
    ("threshold", lambda m, x: F(m).threshold(x, 0.3, -2.0), {}),
    ("hardshrink", lambda m, x: F(m).hardshrink(x), {}),
    ("softshrink", lambda m, x: F(m).softshrink(x, 0.3), {}),
]


@pytest.mark.parametrize("shapes", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,kw", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, fn, kw, shapes):
    check(fn, shapes, **kw)


def test_prelu_matches_torch():
    check(lambda m, x, w: F(m).prelu(x, w), [(2, 3, 4), (3,)])
    check(lambda m, x, w: F(m).prelu(x, w), [(2, 3), (1,)])


def test_activation_gradients_at_kinks_match_torch():
    x = [np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 0.5, -0.5])]
    for fn in (lambda m, t: F(m).relu(t), lambda m, t: F(m).leaky_relu(t, 0.1),
               lambda m, t: F(m).relu6(t), lambda m, t: F(m).hardtanh(t),
               lambda m, t: F(m).hardsigmoid(t), lambda m, t: F(m).hardswish(t),
               lambda m, t: F(m).elu(t), lambda m, t: F(m).threshold(t, 1.0, 0.0),
               lambda m, t: F(m).hardshrink(t), lambda m, t: F(m).softshrink(t, 1.0),
               lambda m, t: t.abs(), lambda m, t: t.clamp(-1.0, 1.0)):
        check(fn, None, inputs=x, gradcheck_=False)


def test_extreme_inputs_stay_finite_without_warnings():
    vals = np.array([-1e4, -800.0, -100.0, -20.0, 0.0, 20.0, 100.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dt in (np.float32, np.float64):
            for fn in (lambda m, t: m.sigmoid(t), lambda m, t: F(m).logsigmoid(t),
                       lambda m, t: F(m).softplus(t), lambda m, t: F(m).elu(t),
                       lambda m, t: F(m).selu(t), lambda m, t: F(m).silu(t),
                       lambda m, t: F(m).mish(t), lambda m, t: F(m).gelu(t), lambda m, t: t.tanh()):
                check(fn, None, inputs=[vals.astype(dt)], gradcheck_=False, rtol=1e-5, atol=1e-30)


# --------------------------------------------------------------------- comparisons, logical

COMPARISONS = [
    ("eq", lambda m, x, y: x == y.round()),
    ("ne", lambda m, x, y: x.round() != y.round()),
    ("lt", lambda m, x, y: x < y),
    ("le", lambda m, x, y: m.le(x, y)),
    ("gt", lambda m, x, y: x > y),
    ("ge", lambda m, x, y: x.ge(y)),
    ("gt_scalar", lambda m, x, y: x > 0.5),
    ("rlt_scalar", lambda m, x, y: 0.5 < y),
    ("logical_and", lambda m, x, y: m.logical_and(x > 0, y)),
    ("logical_or", lambda m, x, y: m.logical_or(x > 0, y > 0)),
    ("logical_xor", lambda m, x, y: (x > 0).logical_xor(y > 0)),
    ("logical_not", lambda m, x, y: m.logical_not(x > y)),
    ("and_op", lambda m, x, y: (x > 0) & (y > 0)),
    ("or_op", lambda m, x, y: (x > 0) | (y < 0)),
    ("xor_op", lambda m, x, y: (x > 0) ^ (y > 0)),
    ("invert_op", lambda m, x, y: ~(x > y)),
    ("isclose", lambda m, x, y: m.isclose(x, x + y * 1e-6, atol=1e-6)),
]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparison(name, fn, shapes):
    check(fn, shapes, grad=False)


def test_bitwise_on_integers_and_errors_on_floats():
    a, b = np.array([[5, 3, 0, -2]]), np.array([[1], [6]])
    for fn in (lambda m, x, y: x & y, lambda m, x, y: x | y, lambda m, x, y: x ^ y,
               lambda m, x, y: ~x, lambda m, x, y: x & 6, lambda m, x, y: 3 | y,
               lambda m, x, y: m.bitwise_and(x, y), lambda m, x, y: m.bitwise_not(y)):
        check(fn, None, inputs=[a, b])
    with pytest.raises(RuntimeError, match="bitwise_and"):
        ember.ones(3) & ember.ones(3)


def test_nan_inf_tests_and_nan_to_num():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 3.5])
    for fn in (lambda m, t: t.isnan(), lambda m, t: m.isinf(t), lambda m, t: m.isfinite(t),
               lambda m, t: m.isposinf(t), lambda m, t: m.isneginf(t)):
        check(fn, None, inputs=[x], grad=False)
    check(lambda m, t: m.nan_to_num(t), None, inputs=[x], gradcheck_=False)
    check(lambda m, t: t.nan_to_num(nan=2.0, posinf=9.0, neginf=-9.0), None, inputs=[x],
          gradcheck_=False)
    check(lambda m, t: m.isnan(t), None, inputs=[np.array([1, 2])])


def test_equal_allclose_isclose_agree_with_torch():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4))
    pairs = [(a, a.copy()), (a, a + 1e-9), (a, a + 1e-3), (a, a[:, :2]), (a, np.where(a > 0, np.nan, a))]
    for x, y in pairs:
        te, ye = ember.tensor(x), ember.tensor(y)
        tt, yt = torch.tensor(x), torch.tensor(y)
        assert ember.equal(te, ye) == torch.equal(tt, yt)
        if x.shape == y.shape:
            assert ember.allclose(te, ye) == torch.allclose(tt, yt)
            assert ember.allclose(te, ye, equal_nan=True) == torch.allclose(tt, yt, equal_nan=True)
    assert (ember.tensor([1.0]) == None) is False  # noqa: E711
    assert (ember.tensor([1.0]) != None) is True  # noqa: E711


# ---------------------------------------------------------------------------- where, clamp

WHERE_CLAMP = [
    ("where_numbers", lambda m, x, y: m.where(x > 0, x, 0.0) + m.where(y > 0, 1.0, y), {}),
    ("where_broadcast", lambda m, x, y: m.where(y > 0, x, y), {}),
    ("clamp_both", lambda m, x, y: x.clamp(-0.5, 0.5) + y, {}),
    ("clamp_min", lambda m, x, y: m.clamp(x, min=-0.5) * y, {}),
    ("clamp_max", lambda m, x, y: m.clamp(x, max=0.7) - y, {}),
    ("clip", lambda m, x, y: m.clip(x, -1, 1) * y, {}),
    ("clamp_min_fn", lambda m, x, y: m.clamp_min(x, 0.2) + m.clamp_max(y, 0.1), {}),
    ("clamp_inverted", lambda m, x, y: m.clamp(x, 1.0, -1.0) + y, {}),
    ("clamp_tensor_min", lambda m, x, y: m.clamp(x, min=y), {}),
    ("clamp_tensor_max", lambda m, x, y: x.clamp(max=y), {}),
    ("clamp_tensor_both", lambda m, x, y: m.clamp(x, y - 0.5, y * 2), {}),
    ("clamp_tensor_crossed", lambda m, x, y: m.clamp(x, y, -y), {}),
]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,kw", WHERE_CLAMP, ids=[w[0] for w in WHERE_CLAMP])
def test_where_and_clamp(name, fn, kw, shapes):
    check(fn, shapes, **kw)


def test_where_and_clamp_dtypes_and_errors():
    cond = np.array([True, False, True])
    check(lambda m, c: m.where(c, 1.0, 0.0), None, inputs=[cond])
    check(lambda m, c: m.where(c, 1, 0), None, inputs=[cond])
    check(lambda m, x: m.clamp(x, min=0.5), None, inputs=[np.array([0, 1, 2])])
    check(lambda m, x: m.clamp(x, 0, 1), None, inputs=[np.array([-1, 1, 2])])
    nz = ember.where(ember.tensor([[0, 1], [2, 0]]))
    tz = torch.where(torch.tensor([[0, 1], [2, 0]]))
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(nz, tz))
    with pytest.raises(RuntimeError, match="boolean"):
        ember.where(ember.tensor([1, 0]), ember.zeros(2), ember.ones(2))
    with pytest.raises(RuntimeError, match="min"):
        ember.clamp(ember.zeros(2))


# --------------------------------------------------------------------------- dtype promotion

PROMOTION = [
    ("int_truediv_int", lambda m, x, y: x / y, [np.array([1, 2, 3]), np.array([2, 4, 8])]),
    ("int_times_float", lambda m, x, y: x * 2.5, [np.array([1, 2, 3]), np.array([1])]),
    ("int_plus_int_scalar", lambda m, x, y: x + 2, [np.array([1, 2], dtype=np.int32), np.array([1])]),
    ("f32_plus_f64", lambda m, x, y: x + y,
     [np.array([1.5, 2.0], dtype=np.float32), np.array([0.25, 1.0])]),
    ("int_plus_f32", lambda m, x, y: x + y, [np.array([1, 2]), np.array([0.5, 1.5], dtype=np.float32)]),
    ("int_times_f64", lambda m, x, y: y * x, [np.array([1, 2]), np.array([0.5, 1.5])]),
    ("i32_plus_i64", lambda m, x, y: x + y, [np.array([1, 2], dtype=np.int32), np.array([3, 4])]),
    ("u8_plus_i8", lambda m, x, y: x + y,
     [np.array([200, 2], dtype=np.uint8), np.array([-3, 4], dtype=np.int8)]),
    ("bool_plus_bool", lambda m, x, y: x + y, [np.array([True, False]), np.array([True, True])]),
    ("bool_times_bool", lambda m, x, y: x * y, [np.array([True, False]), np.array([True, True])]),
    ("bool_plus_int", lambda m, x, y: x + 1, [np.array([True, False]), np.array([1])]),
    ("bool_times_float", lambda m, x, y: x * 1.5, [np.array([True, False]), np.array([1])]),
    ("bool_times_int_tensor", lambda m, x, y: x * y, [np.array([True, False]), np.array([3, 4])]),
    ("int_pow_int", lambda m, x, y: x ** 2, [np.array([1, 2, 3]), np.array([1])]),
    ("int_rpow", lambda m, x, y: 2 ** x, [np.array([1, 2, 3]), np.array([1])]),
    ("int_pow_float", lambda m, x, y: x ** 0.5, [np.array([1, 4, 9]), np.array([1])]),
    ("float_rpow_int", lambda m, x, y: 2.5 ** x, [np.array([1, 2, 3]), np.array([1])]),
    ("int_lt_float", lambda m, x, y: x < 1.5, [np.array([1, 2, 3]), np.array([1])]),
    ("int_eq_float_tensor", lambda m, x, y: x == y,
     [np.array([1, 2]), np.array([1.0, 2.5], dtype=np.float32)]),
    ("f16_plus_f32", lambda m, x, y: x + y,
     [np.array([1.5], dtype=np.float16), np.array([2.25], dtype=np.float32)]),
    ("f64_maximum_f32", lambda m, x, y: m.maximum(x, y),
     [np.array([1.5, -1.0]), np.array([0.5, 2.0], dtype=np.float32)]),
    ("where_int_float", lambda m, x, y: m.where(x > 1, x, y),
     [np.array([1, 2]), np.array([0.5, 1.5], dtype=np.float32)]),
]


@pytest.mark.parametrize("name,fn,inputs", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_promotion_matches_torch(name, fn, inputs):
    check(fn, None, inputs=inputs, gradcheck_=False)


def test_gradients_come_back_in_each_inputs_dtype():
    x32 = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    x64 = ember.tensor([3.0, 4.0], dtype=ember.float64, requires_grad=True)
    for op in (lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a ** b,
               lambda a, b: ember.maximum(a, b), lambda a, b: ember.where(a > 1, a, b)):
        x32.grad = x64.grad = None
        out = op(x32, x64)
        assert out.dtype == ember.float64
        out.sum().backward()
        assert x32.grad.dtype == ember.float32 and x64.grad.dtype == ember.float64


# ------------------------------------------------------------------------ in-place semantics

INPLACE = [
    ("add_", lambda m, x, y: (x * 1).add_(y)),
    ("sub_alpha", lambda m, x, y: (x * 1).sub_(y, alpha=2)),
    ("mul_", lambda m, x, y: (x * 2).mul_(y)),
    ("div_", lambda m, x, y: (x * 2).div_(y.abs() + 1)),
    ("iadd_chain", lambda m, x, y: _iadd_chain(x, y)),
    ("exp_", lambda m, x, y: (x * 1).exp_() * y),
    ("log_", lambda m, x, y: (x.abs() + 0.5).log_() + y),
    ("sqrt_", lambda m, x, y: (x.abs() + 0.5).sqrt_() * y),
    ("abs_", lambda m, x, y: (x * y).abs_()),
    ("tanh_", lambda m, x, y: (x * 1).tanh_() + y),
    ("sigmoid_", lambda m, x, y: (x + y).sigmoid_()),
    ("relu_", lambda m, x, y: (x * y).relu_()),
    ("clamp_", lambda m, x, y: (x + y).clamp_(-0.5, 0.5)),
    ("clamp_min_", lambda m, x, y: (x * 1).clamp_min_(0.1) + y),
    ("neg_", lambda m, x, y: (x - y).neg_()),
    ("pow_", lambda m, x, y: (x.abs() + 0.5).pow_(y)),
    ("sin_", lambda m, x, y: (x * y).sin_()),
    ("reciprocal_", lambda m, x, y: (x.abs() + 1).reciprocal_() * y),
    ("addcmul_", lambda m, x, y: (x * 1).addcmul_(x, y, value=0.5)),
    ("f_relu_inplace", lambda m, x, y: F(m).relu(x * y, inplace=True)),
    ("f_leaky_inplace", lambda m, x, y: F(m).leaky_relu(x * y, 0.2, True)),
    ("f_elu_inplace", lambda m, x, y: F(m).elu(x * y, inplace=True)),
    ("f_hardtanh_inplace", lambda m, x, y: F(m).hardtanh(x * y, inplace=True)),
    ("copy_", lambda m, x, y: (x * 2).copy_(y) * x),
    ("fill_", lambda m, x, y: (x * 2).fill_(2.5) * x + y),
    ("fill_tensor", lambda m, x, y: (x * 2).fill_(y.sum()) * x),
    ("zero_", lambda m, x, y: (x * 2).zero_() + y),
]


def _iadd_chain(x, y):
    z = x * 1
    z += y
    z *= y
    z -= 1
    z /= 2
    return z


@pytest.mark.parametrize("name,fn", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_on_non_leaf_matches_torch(name, fn):
    check(fn, [(3, 4), (4,)])


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(3, requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.exp_(), lambda: x.relu_(), lambda: x.clamp_(0, 1),
               lambda: x.zero_(), lambda: x.fill_(2.0), lambda: x.copy_(ember.zeros(3))):
        with pytest.raises(RuntimeError, match="leaf"):
            op()
    with ember.no_grad():
        x.add_(1).mul_(2)
        x.zero_()
        x.copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0] and x.is_leaf and x.grad is None


def test_modifying_a_saved_output_is_detected():
    x = ember.randn(3, requires_grad=True)
    for make in (lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.relu(),
                 lambda t: t.abs().sqrt()):
        y = make(x)
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    y = x * 2
    z = y * y  # saves y
    y.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_version_counter_and_copy_semantics():
    x = ember.zeros(2, 3)
    v = x._version
    x.add_(1)
    x.fill_(2)
    x.copy_(ember.tensor([1, 2, 3]))  # broadcast, and int -> float
    assert x._version == v + 3
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    i = ember.zeros(3, dtype=ember.int64)
    i.copy_(ember.tensor([1.7, -2.2, 3.9]))
    assert i.tolist() == torch.zeros(3, dtype=torch.int64).copy_(torch.tensor([1.7, -2.2, 3.9])).tolist()
    with pytest.raises(RuntimeError, match="copy_"):
        x.copy_(ember.zeros(4))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        ember.zeros(3, dtype=ember.int64).add_(1.5)
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.zeros(2)
    b.copy_(a * 3)  # a tensor that did not require grad now has history
    assert b.requires_grad and not b.is_leaf
    b.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------- second order


def _x(shape=(2, 3), low=-2.0, high=2.0, seed=0):
    return ember.tensor(make_inputs([shape], low, high, seed)[0], requires_grad=True)


GRADGRAD = [
    ("exp", lambda x, y: x.exp() * y),
    ("tanh", lambda x, y: x.tanh() * y),
    ("sigmoid", lambda x, y: x.sigmoid() * y),
    ("mul", lambda x, y: x * y * x),
    ("div", lambda x, y: x / (y * y + 1)),
    ("pow", lambda x, y: (x * x + 0.5) ** (y * 0.5)),
    ("pow_scalar", lambda x, y: (x * x + 0.5) ** 1.5 + y),
    ("gelu", lambda x, y: ember.ops.activation.gelu(x * y)),
    ("gelu_tanh", lambda x, y: ember.ops.activation.gelu(x * y, approximate="tanh")),
    ("softplus", lambda x, y: ember.ops.activation.softplus(x * y, beta=2)),
    ("silu", lambda x, y: ember.ops.activation.silu(x + y)),
    ("elu", lambda x, y: ember.ops.activation.elu(x * y)),
    ("mish", lambda x, y: ember.ops.activation.mish(x + y)),
    ("logsigmoid", lambda x, y: ember.ops.activation.logsigmoid(x * y)),
    ("erf", lambda x, y: ember.erf(x * y)),
    ("sin_log", lambda x, y: x.sin() * (y * y + 1).log()),
    ("where_maximum", lambda x, y: ember.where(x > 0, x * x, y) + ember.maximum(x, y) * y),
    ("clamp", lambda x, y: (x * y).clamp(-1, 1) * x),
    ("relu", lambda x, y: (x * y).relu() * x),
]


@pytest.mark.parametrize("name,fn", GRADGRAD, ids=[g[0] for g in GRADGRAD])
def test_gradgradcheck(name, fn):
    assert gradgradcheck(fn, (_x(seed=1), _x(seed=2)))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu", "pow", "softplus", "div"])
def test_second_derivative_matches_torch(name):
    fns = {
        "tanh": lambda m, x, y: (x * y).tanh(),
        "sigmoid": lambda m, x, y: (x * y).sigmoid(),
        "gelu": lambda m, x, y: F(m).gelu(x * y),
        "pow": lambda m, x, y: x.abs() ** y,
        "softplus": lambda m, x, y: F(m).softplus(x * y, beta=1.5),
        "div": lambda m, x, y: x / (y.abs() + 0.5),
    }
    fn = fns[name]
    xs, ys = make_inputs([(2, 3), (3,)], seed=4)
    results = {}
    for m in (torch, ember):
        x = m.tensor(xs, requires_grad=True)
        y = m.tensor(ys, requires_grad=True)
        gx, gy = m.autograd.grad(fn(m, x, y).sum(), [x, y], create_graph=True)
        hx = m.autograd.grad((gx * gx).sum() + gy.sum(), [x, y])
        results[m.__name__] = [np.asarray(h.detach().numpy()) for h in hx]
    for e, t in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-9)


def test_no_torch_in_ember():
    import pathlib

    root = pathlib.Path(ember.__file__).parent / "ops"
    for name in ("elementwise.py", "unary.py", "activation.py", "compare.py"):
        text = (root / name).read_text()
        assert "import torch" not in text and "scipy" not in text.replace("cupyx.scipy", "")


def test_inf_and_nan_results_are_silent_like_torch():
    """log(0), x/0 and sqrt(-1) give -inf/inf/nan as in PyTorch, without NumPy's RuntimeWarning
    (even under ``python -W always``); NumPy code outside ember keeps its warnings."""
    import subprocess
    import sys

    code = (
        "import numpy as np, ember\n"
        "x = ember.tensor([0.0, -1.0, 4.0], requires_grad=True)\n"
        "ys = [ember.log(x), ember.sqrt(x), x / 0, x.pow(-1)]\n"
        "sum(y.sum() for y in ys).backward()\n"
        "print([y.tolist() for y in ys])\n"
        "np.log(np.zeros(1))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True,
                          text=True, cwd=root, timeout=60)
    assert proc.returncode == 0, proc.stderr
    inf, nan = float("inf"), float("nan")
    expected = [[-inf, nan, math.log(4)], [0.0, nan, 2.0], [nan, -inf, inf], [inf, -1.0, 0.25]]
    np.testing.assert_allclose(eval(proc.stdout, {"inf": inf, "nan": nan}), expected, rtol=1e-6)
    warned = [line for line in proc.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "divide by zero encountered in log" in warned[0], proc.stderr
