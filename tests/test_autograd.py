"""The autograd engine: accumulation, retain/create graph, hooks, grad mode, errors, scale, memory,
custom Functions, gradcheck itself, and random expressions compared with PyTorch."""

import gc
import tracemalloc

import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function
from ember.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------------- basic semantics


def test_gradients_accumulate_across_backward_calls():
    x = t64([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)


def test_fan_out_sums_gradients():
    x = t64([0.5, -1.5])
    y = x * 2
    z = (y * y + y * 3 + y).sum()
    z.backward()
    xt = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    yt = xt * 2
    (yt * yt + yt * 3 + yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_second_backward_through_freed_graph_raises_and_retain_graph_allows_it():
    x = t64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    x2 = t64([1.0, 2.0])
    y2 = (x2 * x2).sum()
    y2.backward(retain_graph=True)
    y2.backward()
    np.testing.assert_allclose(x2.grad.numpy(), 2 * 2 * np.array([1.0, 2.0]))


def test_backward_on_non_scalar_needs_a_gradient():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ember.tensor([1.0, 10.0], dtype=ember.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_gradient_shape_must_match():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(3, dtype=ember.float64))


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.arange(3).requires_grad_()


def test_backward_of_tensor_without_grad_raises():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_non_leaf_requires_grad_cannot_be_switched_off():
    x = t64([1.0])
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_detach_and_is_leaf():
    x = t64([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    z = (d * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # no gradient through the detached path


def test_no_grad_enable_grad_set_grad_enabled():
    x = t64([1.0])
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(v):
        return v * 2

    assert not f(x).requires_grad and ember.is_grad_enabled()


# ----------------------------------------------------------------------------------- hooks


def test_hooks_on_leaf_and_non_leaf_and_retain_grad():
    x = t64([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on from y
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 10 * 2 * 3 * np.array([1.0, 2.0]) * 3)
    np.testing.assert_allclose(x.grad.numpy(), seen[0])
    np.testing.assert_allclose(y.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1


# ------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_does_not_accumulate_and_allow_unused():
    x, y = t64([1.0, 2.0]), t64([3.0])
    (gx,) = ember.autograd.grad((x * x).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = ember.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)

    def f(m, x, y):
        return ((x * x * y) / (1 + x * x) + x ** 3 * 0.1 - x * y).sum()

    xe, ye = t64(a), t64(b)
    (g,) = ember.autograd.grad(f(ember, xe, ye), [xe], create_graph=True)
    (hv,) = ember.autograd.grad((g * t64(v, False)).sum(), [xe])
    xt = torch.tensor(a, requires_grad=True)
    yt = torch.tensor(b, requires_grad=True)
    (gt,) = torch.autograd.grad(f(torch, xt, yt), [xt], create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt])
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-10)


def test_third_order_derivative():
    x = t64([0.7])
    y = x ** 4
    (g1,) = ember.autograd.grad(y, [x], create_graph=True)
    (g2,) = ember.autograd.grad(g1, [x], create_graph=True)
    (g3,) = ember.autograd.grad(g2, [x])
    np.testing.assert_allclose(g3.numpy(), 24 * 0.7)


# ------------------------------------------------------------------------------ in-place


def test_inplace_on_leaf_requiring_grad_raises():
    x = t64([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    np.testing.assert_allclose(x.detach().numpy(), [2.0])


def test_inplace_change_of_saved_tensor_is_detected():
    x = t64([1.0, 2.0])
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_non_leaf_gives_correct_gradient():
    a = np.array([1.0, -2.0, 3.0])

    def run(m, x):
        y = x * 2
        y.add_(x)
        y.mul_(3)
        z = x * 1
        z.mul_(x)  # the old value of z is needed by the gradient for x
        return (y + z).sum()

    x = t64(a)
    xt = torch.tensor(a, requires_grad=True)
    out, out_t = run(ember, x), run(torch, xt)
    out.backward()
    out_t.backward()
    np.testing.assert_allclose(out.item(), out_t.item())
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


# ---------------------------------------------------------------------------- devices


def test_unavailable_cuda_says_what_to_install():
    if ember.backend.cupy_module() is not None:
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy"):
        ember.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        ember.zeros(3).to("cuda")


def test_mixed_devices_raise_naming_both(monkeypatch):
    """Simulates a second device with an ndarray subclass (no GPU needed)."""

    class OtherDeviceArray(np.ndarray):
        pass

    a = ember.tensor([1.0, 2.0])
    b = ember.Tensor(np.array([1.0, 2.0], dtype=np.float32).view(OtherDeviceArray))
    real = ember.backend.device_of
    monkeypatch.setattr(ember.ops.common.backend, "device_of",
                        lambda arr: (ember.device("cuda:0") if isinstance(arr, OtherDeviceArray)
                                     else real(arr)))
    with pytest.raises(RuntimeError, match=r"same device.*cpu and cuda:0"):
        _ = a + b
    assert ember.device("cuda:1") == "cuda:1" and str(ember.device("cpu")) == "cpu"
    with pytest.raises(RuntimeError, match="device type"):
        ember.device("tpu")


# ---------------------------------------------------------------------- scale and memory


def test_chain_of_50000_ops_needs_no_recursion():
    x = t64([1.0])
    y = x
    for _ in range(25_000):
        y = y * 1.0001
        y = y + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 25_000], rtol=1e-9)


def test_memory_does_not_grow_over_training_steps():
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((64,)).astype(np.float32), requires_grad=True)
    data = ember.tensor(rng.standard_normal((32, 64)).astype(np.float32))

    def step():
        loss = ((data * w - 1.0) * (data * w - 1.0)).sum() / 32
        loss.backward()
        with ember.no_grad():
            w.sub_(w.grad * 0.001)
        w.grad = None

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    for _ in range(200):
        step()
    gc.collect()
    after_200 = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        step()
    gc.collect()
    after_1200 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_1200 - after_200 < 64 * 1024, (after_200, after_1200)


# ---------------------------------------------------------------------- custom Functions


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x  # deliberately wrong


def test_custom_function_gradient_and_gradcheck():
    x = t64([0.3, -1.2, 2.0])
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([0.3, -1.2, 2.0]) ** 2)
    assert gradcheck(Cube.apply, (t64([0.3, -1.2, 2.0]),))
    assert gradgradcheck(Cube.apply, (t64([0.3, -1.2, 2.0]),))


def test_gradcheck_catches_a_wrong_gradient():
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongCube.apply, (t64([0.3, -1.2]),))
    assert not gradcheck(WrongCube.apply, (t64([0.3]),), raise_exception=False)


def test_custom_function_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x, y = t64([1.0]), t64([2.0])
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, y).sum().backward()


class SinCos(Function):
    """Two outputs; backward gets one gradient per output."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x.sin() * scale, x.cos(), "a label", x.argmax()

    @staticmethod
    def backward(ctx, g_sin, g_cos, g_label, g_index):
        (x,) = ctx.saved_tensors
        assert g_label is None and g_index.shape == ()  # non-tensor: None; integer: zeros
        return g_sin * ctx.scale * x.cos() - g_cos * x.sin(), None


class SinCosWrongSecond(SinCos):
    @staticmethod
    def backward(ctx, g_sin, g_cos, g_label, g_index):
        (x,) = ctx.saved_tensors
        return g_sin * ctx.scale * x.cos() + g_cos * x.sin(), None  # sign of the cos term


def test_custom_function_with_several_outputs_matches_torch():
    values = [0.3, -1.2, 2.0]
    x, tx = t64(values), torch.tensor(values, dtype=torch.float64, requires_grad=True)
    s, c, label, index = SinCos.apply(x, 3.0)
    assert label == "a label" and index.item() == 2 and not index.requires_grad
    (s * c + c * c).sum().backward()
    ts, tc = tx.sin() * 3.0, tx.cos()
    (ts * tc + tc * tc).sum().backward()
    np.testing.assert_allclose(s.detach().numpy(), ts.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    # an output the loss does not use sends zeros to backward
    x2 = t64(values)
    SinCos.apply(x2, 3.0)[1].sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), -np.sin(values))
    first_two = lambda t: SinCos.apply(t, 3.0)[:2]  # noqa: E731
    assert gradcheck(first_two, (t64(values),))
    assert gradgradcheck(first_two, (t64(values),))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(lambda t: SinCosWrongSecond.apply(t, 3.0)[:2], (t64(values),))


def test_custom_function_outputs_marked_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = ember.from_numpy(np.argsort(x.detach().numpy()))
            sorted_x, ranks = x[order], order.float()
            ctx.mark_non_differentiable(ranks)
            ctx.save_for_backward(order)
            return sorted_x, ranks

        @staticmethod
        def backward(ctx, g_sorted, g_ranks):
            (order,) = ctx.saved_tensors
            assert float(g_ranks.abs().sum()) == 0.0
            grad = ember.zeros_like(g_sorted)
            grad[order] = g_sorted
            return grad

    x = t64([3.0, 1.0, 2.0])
    y, ranks = SortWithIndex.apply(x)
    assert y.requires_grad and not ranks.requires_grad
    (y * ember.tensor([1.0, 10.0, 100.0], dtype=ember.float64)).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


# ------------------------------------------------------------------------- graph picture


def test_to_dot_names_ops_and_parameters():
    w = t64([1.0, 2.0])
    dot = ember.utils.to_dot((w * 3 + 1).sum(), {"weight": w})
    assert dot.startswith("digraph")
    for word in ("Mul", "Add", "Sum", "weight"):
        assert word in dot


# ---------------------------------------------------------------------- type promotion


@pytest.mark.parametrize("a_dtype,a_shape,b_dtype,b_shape", [
    ("float32", (2,), "float64", ()), ("int64", (2,), "float64", ()), ("int32", (2,), "int64", ()),
    ("bool", (2,), "int64", ()), ("float16", (2,), "float32", ()), ("float64", (), "float32", ()),
    ("int64", (2,), "float32", ()), ("float32", (2,), "float64", (2,)), ("int64", (2,), "float32", (2,)),
    ("int32", (2,), "int64", (2,)), ("bool", (2,), "float16", (2,)),
])
def test_binary_promotion_matches_torch(a_dtype, a_shape, b_dtype, b_shape):
    a = np.ones(a_shape, dtype=a_dtype)
    b = np.full(b_shape, 2, dtype=b_dtype)
    for op in (lambda x, y: x + y, lambda x, y: y * x):
        e = op(ember.from_numpy(a), ember.from_numpy(b))
        t = op(torch.from_numpy(a), torch.from_numpy(b))
        assert e.dtype.name == str(t.dtype).split(".")[1]


def test_public_names_of_ember_autograd():
    x = t64([0.3, -0.4])
    assert callable(ember.autograd.gradcheck) and ember.autograd.gradcheck(lambda t: t.tanh(), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.tanh(), (x,))
    assert issubclass(Cube, ember.autograd.Function)
