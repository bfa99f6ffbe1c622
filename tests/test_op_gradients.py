"""First and second derivatives of the elementwise, activation, comparison, reduction and
neural-network ops, by finite differences in float64 (``gradcheck`` and ``gradgradcheck``).

Under issue 10's contract a backward returns its formula and the engine fits each gradient to
its input (sums over broadcast dimensions, casts the dtype), so every binary case here broadcasts
one side and every op with a number operand is checked with the number on either side. The
gradient ops (``softmax_backward``, ``linear_grad_input`` ...) are covered through the second
derivatives of the ops that use them. Values are drawn without ties and away from kinks.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.ops import activation, nn_ops

pytestmark = pytest.mark.filterwarnings(
    r"ignore:(divide by zero|invalid value|overflow) encountered:RuntimeWarning")


def _distinct(shape, low, high, seed):
    """float64 values in ``(low, high)`` without ties, none closer than a few percent of the
    range to each other (so the max of a row, or the side of a kink, is never in doubt)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    unit = (rng.permutation(n) + rng.uniform(0.2, 0.8, n)) / n
    return (low + (high - low) * unit).reshape(shape)


# (id, fn, shapes, (low, high)): each input drawn from (low, high)
CASES = [
    # arithmetic, with broadcasting and numbers on either side
    ("add", lambda x, y: x + y, [(2, 3), (3,)], (-2, 2)),
    ("add_number", lambda x: 2.5 + x, [(2, 3)], (-2, 2)),
    ("sub", lambda x, y: x - y, [(2, 3), (1, 3)], (-2, 2)),
    ("rsub_number", lambda x: 1.5 - x, [(2, 3)], (-2, 2)),
    ("mul", lambda x, y: x * y, [(2, 3), (2, 1)], (-2, 2)),
    ("mul_number", lambda x: x * 3.0, [(2, 3)], (-2, 2)),
    ("div", lambda x, y: x / y, [(2, 3), (3,)], (0.5, 2)),
    ("rdiv_number", lambda x: 2.0 / x, [(2, 3)], (0.5, 2)),
    ("neg", lambda x: -x, [(2, 3)], (-2, 2)),
    ("pow", lambda x, y: x ** y, [(2, 3), (3,)], (0.5, 2)),
    ("pow_number", lambda x: x ** 2.5, [(2, 3)], (0.5, 2)),
    ("rpow_number", lambda x: 1.7 ** x, [(2, 3)], (-2, 2)),
    ("remainder", lambda x, y: ember.remainder(x, y), [(2, 3), (3,)], (0.3, 2.9)),
    ("fmod_number", lambda x: ember.fmod(x, 0.7), [(2, 3)], (0.1, 2.9)),
    ("atan2", lambda x, y: ember.atan2(x, y), [(2, 3), (3,)], (0.5, 2)),
    ("hypot", lambda x, y: ember.hypot(x, y), [(2, 3), (3,)], (0.5, 2)),
    ("logaddexp", lambda x, y: ember.logaddexp(x, y), [(2, 3), (1, 3)], (-2, 2)),
    ("logaddexp2", lambda x, y: ember.logaddexp2(x, y), [(2, 3), (2, 1)], (-2, 2)),
    ("copysign", lambda x, y: ember.copysign(x, y), [(2, 3), (3,)], (0.2, 2)),
    ("xlogy", lambda x, y: ember.xlogy(x, y), [(2, 3), (3,)], (0.5, 2)),
    ("xlogy_number", lambda x: ember.xlogy(x, 3.0), [(2, 3)], (0.5, 2)),
    ("addcdiv", lambda x, y, z: ember.addcdiv(x, y, z, value=0.5), [(2, 3), (3,), (2, 1)],
     (0.5, 2)),
    ("lerp", lambda x, y, w: ember.lerp(x, y, w), [(2, 3), (3,), (2, 3)], (-2, 2)),
    # unary math
    *[(name, (lambda n: lambda x: getattr(ember, n)(x))(name), [(2, 3)], dom) for name, dom in [
        ("exp", (-2, 2)), ("exp2", (-2, 2)), ("expm1", (-2, 2)), ("log", (0.5, 2)),
        ("log2", (0.5, 2)), ("log10", (0.5, 2)), ("log1p", (0.5, 2)), ("sqrt", (0.5, 2)),
        ("rsqrt", (0.5, 2)), ("square", (-2, 2)), ("reciprocal", (0.5, 2)), ("abs", (-2, 2)),
        ("sin", (-2, 2)), ("cos", (-2, 2)), ("tan", (-1, 1)), ("asin", (-0.8, 0.8)),
        ("acos", (-0.8, 0.8)), ("atan", (-2, 2)), ("sinh", (-2, 2)), ("cosh", (-2, 2)),
        ("tanh", (-2, 2)), ("asinh", (-2, 2)), ("acosh", (1.5, 3)), ("atanh", (-0.8, 0.8)),
        ("erf", (-2, 2)), ("erfc", (-2, 2)), ("frac", (0.1, 0.9)), ("sinc", (-2, 2)),
        ("deg2rad", (-2, 2)), ("rad2deg", (-2, 2)), ("clone", (-2, 2)), ("logit", (0.1, 0.9)),
        ("sigmoid", (-3, 3)), ("relu", (-2, 2)),
    ]],
    ("logit_eps", lambda x: ember.logit(x, eps=0.05), [(2, 3)], (-0.2, 1.2)),
    ("round_sign", lambda x: x.round() * x + x.sign() * x, [(2, 3)], (0.1, 2.9)),
    # activations
    *[(name, (lambda n: lambda x: getattr(activation, n)(x))(name), [(2, 3)], (-2.5, 2.5))
      for name in ("logsigmoid", "relu6", "hardshrink", "softshrink", "elu", "selu", "celu",
                   "gelu", "silu", "softplus", "mish", "hardsigmoid", "hardswish", "softsign",
                   "tanhshrink")],
    ("leaky_relu", lambda x: activation.leaky_relu(x, 0.2), [(2, 3)], (-2, 2)),
    ("hardtanh", lambda x: activation.hardtanh(x, -0.5, 0.7), [(2, 3)], (-2, 2)),
    ("threshold", lambda x: activation.threshold(x, 0.3, -1.0), [(2, 3)], (-2, 2)),
    ("gelu_tanh", lambda x: activation.gelu(x, approximate="tanh"), [(2, 3)], (-2, 2)),
    ("softplus_beta", lambda x: activation.softplus(x, beta=2.0, threshold=3.0), [(2, 3)],
     (-2, 2)),
    ("prelu", lambda x, w: activation.prelu(x, w), [(2, 3, 2), (3,)], (-2, 2)),
    # selections
    ("where", lambda x, y: ember.where(x > 0, x, y), [(2, 3), (3,)], (-2, 2)),
    ("where_number", lambda x: ember.where(x > 0, 0.5, x), [(2, 3)], (-2, 2)),
    ("clamp", lambda x: x.clamp(-0.5, 0.9), [(2, 3)], (-2, 2)),
    ("clamp_tensors", lambda x, lo, hi: ember.clamp(x, lo, hi), [(2, 3), (3,), (2, 1)],
     (-2, 2)),
    ("maximum", lambda x, y: ember.maximum(x, y), [(2, 3), (3,)], (-2, 2)),
    ("minimum_number", lambda x: ember.minimum(x, 0.3), [(2, 3)], (-2, 2)),
    ("fmax", lambda x, y: ember.fmax(x, y), [(2, 3), (2, 1)], (-2, 2)),
    ("fmin", lambda x, y: ember.fmin(x, y), [(2, 3), (3,)], (-2, 2)),
    ("nan_to_num", lambda x: ember.nan_to_num(x * 2), [(2, 3)], (-2, 2)),
    # reductions
    ("sum_dtype", lambda x: x.sum(1, dtype=ember.float64), [(2, 3)], (-2, 2)),
    ("mean", lambda x: x.mean(0, keepdim=True), [(2, 3)], (-2, 2)),
    ("prod_all", lambda x: x.prod(), [(2, 3)], (0.5, 2)),
    ("max_dim", lambda x: x.max(1).values, [(2, 3)], (-2, 2)),
    ("min_all", lambda x: x.min(), [(2, 3)], (-2, 2)),
    ("amin", lambda x: x.amin(0), [(2, 3)], (-2, 2)),
    ("aminmax", lambda x: ember.aminmax(x, dim=1).max, [(2, 3)], (-2, 2)),
    ("var", lambda x: x.var(1, keepdim=True), [(2, 3)], (-2, 2)),
    ("std", lambda x: x.std(), [(2, 3)], (-2, 2)),
    ("logsumexp", lambda x: x.logsumexp(0), [(2, 3)], (-2, 2)),
    ("norm1", lambda x: x.norm(1, dim=1), [(2, 3)], (0.2, 2)),
    ("norm_inf", lambda x: x.norm(float("inf"), dim=0), [(2, 3)], (-2, 2)),
    ("dist", lambda x, y: ember.dist(x, y, 3), [(2, 3), (3,)], (-2, 2)),
    ("renorm", lambda x: ember.renorm(x, 2, 0, 1.5), [(2, 3)], (-2, 2)),
    ("cumsum", lambda x: x.cumsum(1), [(2, 3)], (-2, 2)),
    ("cumprod", lambda x: x.cumprod(1), [(2, 3)], (0.5, 2)),
    ("cummax", lambda x: ember.cummax(x, 1).values, [(2, 3)], (-2, 2)),
    ("logcumsumexp", lambda x: ember.logcumsumexp(x, 1), [(2, 3)], (-2, 2)),
    # neural-network ops and their gradient ops
    ("linear", lambda x, w, b: F.linear(x, w, b), [(2, 3), (4, 3), (4,)], (-2, 2)),
    ("linear_3d", lambda x, w: F.linear(x, w), [(2, 2, 3), (4, 3)], (-2, 2)),
    ("linear_vector", lambda x, w, b: F.linear(x, w, b), [(3,), (2, 3), (2,)], (-2, 2)),
    ("softmax", lambda x: nn_ops.softmax(x, 1), [(2, 3)], (-2, 2)),
    ("log_softmax", lambda x: nn_ops.log_softmax(x, 0), [(2, 3)], (-2, 2)),
    ("softmax_0d", lambda x: nn_ops.softmax(x.sum(), 0) * x, [(2, 3)], (-2, 2)),
    ("cross_entropy_none", lambda x: F.cross_entropy(
        x, ember.tensor([2, 0, 3]), reduction="none", label_smoothing=0.2), [(3, 4)], (-2, 2)),
    ("cross_entropy_sum_4d", lambda x: F.cross_entropy(
        x, ember.tensor([[[1, 0]], [[2, 2]]]), reduction="sum"), [(2, 3, 1, 2)], (-2, 2)),
    ("cross_entropy_unbatched", lambda x: F.cross_entropy(x, ember.tensor(1), reduction="none"),
     [(4,)], (-2, 2)),
    ("cross_entropy_soft", lambda x, t: F.cross_entropy(x, t.softmax(1)), [(3, 4), (3, 4)],
     (-2, 2)),
    ("nll_loss_none", lambda x: F.nll_loss(x, ember.tensor([1, 0, 2]), reduction="none"),
     [(3, 4)], (-2, 2)),
    ("embedding", lambda w: F.embedding(ember.tensor([[0, 2], [2, 3]]), w) * w[0], [(4, 3)],
     (-2, 2)),
    ("dropout_eval_identity", lambda x: F.dropout(x, 0.3, training=False) * x, [(2, 3)], (-2, 2)),
]


@pytest.mark.parametrize("fn,shapes,domain", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradcheck_and_gradgradcheck(fn, shapes, domain):
    xs = tuple(ember.tensor(_distinct(s, *domain, seed=i), requires_grad=True)
               for i, s in enumerate(shapes))
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


def test_dropout_masks_are_constant_under_second_derivatives():
    # the mask is drawn once per call: check the gradient op on one recorded call
    x = ember.tensor(_distinct((4, 5), -2, 2, seed=0), requires_grad=True)
    ember.manual_seed(0)
    dropped = F.dropout(x, 0.4)
    mask = (dropped / x).detach()  # 0 or 1 / (1 - p)
    assert set(np.round(mask.numpy().ravel(), 6)) == {0.0, round(1 / 0.6, 6)}
    g, = ember.autograd.grad((dropped * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * mask.numpy() * x.detach().numpy())
    gg, = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 2 * mask.numpy())


def test_gradients_take_their_input_dtype_and_shape():
    # the engine, not the op, fits a float64 operand's gradient to float32 + float64 broadcasting
    a = ember.ones(2, 3, dtype=ember.float32, requires_grad=True)
    b = ember.ones(3, dtype=ember.float64, requires_grad=True)
    (a * b + ember.maximum(a, b) - ember.where(a > 0, a, b)).sum().backward()
    assert a.grad.dtype == ember.float32 and tuple(a.grad.shape) == (2, 3)
    assert b.grad.dtype == ember.float64 and tuple(b.grad.shape) == (3,)


def test_functional_reaches_every_activation():
    for name in activation.FUNCTIONAL:
        assert getattr(F, name) is getattr(activation, name), name
    for name in ("logsigmoid", "hardsigmoid", "hardswish", "softsign", "softshrink",
                 "tanhshrink", "elu_", "hardtanh_", "leaky_relu_"):
        assert name in F.__all__


# ops whose backward reads their own result: they save it as a history-free alias, so dropping the
# result frees it (and its node) by reference counting alone, with the cycle collector off
READS_OWN_RESULT = {
    "pow": lambda x: x ** x, "rpow_number": lambda x: 2.0 ** x, "hypot": lambda x: x.hypot(x),
    "exp2": lambda x: x.exp2(), "expm1": lambda x: x.expm1(), "sqrt": lambda x: x.sqrt(),
    "rsqrt": lambda x: x.rsqrt(), "reciprocal": lambda x: x.reciprocal(), "tan": lambda x: x.tan(),
    "sinc": lambda x: ember.sinc(x), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "prod": lambda x: x.prod(1), "amax": lambda x: x.amax(0), "std": lambda x: x.std(),
    "logsumexp": lambda x: x.logsumexp(1), "norm": lambda x: x.norm(), "cumprod": lambda x: x.cumprod(0),
    "logcumsumexp": lambda x: x.logcumsumexp(1), "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(0),
}


@pytest.mark.parametrize("name", list(READS_OWN_RESULT))
def test_result_freed_without_the_cycle_collector(name):
    import gc
    import weakref

    x = ember.tensor(_distinct((2, 3), 0.5, 2, seed=0), requires_grad=True)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out = READS_OWN_RESULT[name](x)
        out_ref, node_ref = weakref.ref(out), weakref.ref(out.grad_fn)
        del out
        assert out_ref() is None and node_ref() is None
    finally:
        if was_enabled:
            gc.enable()
