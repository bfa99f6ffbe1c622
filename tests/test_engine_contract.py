"""The op contract the engine implements: ``backward(g, needs)`` returns raw gradients, and the
engine sums each over the dimensions its input was broadcast along and casts it to the input's
dtype, once; custom Functions get PyTorch's validation of their gradients."""

import numpy as np
import pytest
import torch

import ember
from ember.autograd.graph import record


def _broadcast_add(a, b, seen_needs=None):
    """An op written against the contract: its backward returns ``g`` untouched for both inputs."""

    def backward(g, needs):
        if seen_needs is not None:
            seen_needs.append(needs)
        return g, g

    return record("BroadcastAdd", a._data + b._data, (a, b), backward)


def _broadcast_mul(a, b):
    def backward(g, needs):
        return g * b, g * a

    return record("BroadcastMul", a._data * b._data, (a, b), backward, (a, b))


@pytest.mark.parametrize("sa, sb", [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), ()),
                                    ((1,), (5, 1, 2)), ((0, 3), (3,)), ((1, 3), (0, 1))])
def test_engine_sums_gradients_over_broadcast_dimensions(sa, sb):
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal(sa), rng.standard_normal(sb)
    a, b = ember.tensor(xa, requires_grad=True), ember.tensor(xb, requires_grad=True)
    ta = torch.tensor(xa, requires_grad=True)
    tb = torch.tensor(xb, requires_grad=True)
    out = _broadcast_mul(_broadcast_add(a, b), b)
    tout = (ta + tb) * tb
    seed = rng.standard_normal(tout.shape)
    out.backward(ember.tensor(seed))
    tout.backward(torch.tensor(seed))
    for e, t in ((a, ta), (b, tb)):
        assert e.grad.shape == tuple(t.grad.shape)
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_backward_is_told_which_inputs_need_a_gradient():
    seen = []
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3)
    _broadcast_add(a, b, seen).sum().backward()
    _broadcast_add(b, a, seen).sum().backward()
    assert seen == [(True, False), (False, True)]
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0, 2.0])


def test_gradients_for_inputs_that_need_none_are_ignored():
    a = ember.ones(2, 3, requires_grad=True)
    b = ember.ones(3)

    def backward(g, needs):
        return g, ember.full((7,), 5.0)  # nonsense for b, which needs nothing: never looked at

    record("Op", a._data + b._data, (a, b), backward).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 3)))
    assert b.grad is None


def test_engine_casts_gradients_to_the_input_dtype():
    x32 = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    x64 = ember.tensor([[3.0], [4.0]], dtype=ember.float64, requires_grad=True)

    def backward(g, needs):  # the op computed in float64; both gradients come back float64
        return g * x64.detach().to(ember.float64), g * x32.detach().double()

    out = record("MixedMul", x32._data.astype(np.float64) * x64._data, (x32, x64), backward)
    out.sum().backward()
    assert x32.grad.dtype == ember.float32 and x64.grad.dtype == ember.float64
    t32 = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    t64 = torch.tensor([[3.0], [4.0]], dtype=torch.float64, requires_grad=True)
    (t32 * t64).sum().backward()
    assert t32.grad.dtype == torch.float32
    np.testing.assert_allclose(x32.grad.numpy(), t32.grad.numpy())
    np.testing.assert_allclose(x64.grad.numpy(), t64.grad.numpy())


def test_fitted_gradient_is_differentiable_with_create_graph():
    rng = np.random.default_rng(1)
    xa, xb = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    a, b = ember.tensor(xa, requires_grad=True), ember.tensor(xb, requires_grad=True)
    ta, tb = torch.tensor(xa, requires_grad=True), torch.tensor(xb, requires_grad=True)
    (gb,) = ember.autograd.grad((_broadcast_mul(a, b) ** 2).sum(), (b,), create_graph=True)
    (tgb,) = torch.autograd.grad(((ta * tb) ** 2).sum(), (tb,), create_graph=True)
    np.testing.assert_allclose(gb.detach().numpy(), tgb.detach().numpy(), rtol=1e-12)
    (gb * gb).sum().backward()
    (tgb * tgb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


def test_gradient_the_input_cannot_broadcast_to_is_refused():
    a = ember.ones(3, requires_grad=True)
    out = record("Broken", a._data * 2, (a,), lambda g, needs: (ember.ones(4),))
    with pytest.raises(RuntimeError, match=r"BrokenBackward returned an invalid gradient at index 0 "
                                           r"- got \[4\] but expected shape compatible with \[3\]"):
        out.sum().backward()


# ----------------------------------------------------------------- custom Functions, as PyTorch


def _returning(framework, shape, dtype):
    class Returns(framework.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return framework.ones(shape, dtype=dtype)

    return Returns


@pytest.mark.parametrize("shape, dtype_name", [((2, 3), "float32"), ((1, 3), "float32"),
                                               ((3,), "float64"), ((4,), "float32"),
                                               ((), "float32"), ((1,), "float32")])
def test_custom_function_gradient_shape_and_dtype_are_validated_as_pytorch(shape, dtype_name):
    results = []
    for fw in (torch, ember):
        x = fw.ones(3, requires_grad=True)
        try:
            _returning(fw, shape, getattr(fw, dtype_name)).apply(x).sum().backward()
        except RuntimeError as e:
            results.append(("error", str(e).split(" returned ")[1]))
        else:
            results.append((str(x.grad.dtype).split(".")[-1], x.grad.detach().numpy().tolist()))
    assert results[0] == results[1]
