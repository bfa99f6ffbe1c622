"""Graphs are freed by reference counting alone: no cycle between a node, its backward closure and
its output tensor (nor through views, detach() aliases, retain_grad or custom Functions), so an
evaluation loop without no_grad keeps flat memory even with the cycle collector off."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function


@pytest.fixture
def no_cycle_collector():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class CubeSavingOutput(Function):
    """Saves its own result, the case PyTorch handles without a cycle too."""

    @staticmethod
    def forward(ctx, x):
        y = x * x * x
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * 3 * y / x


def _retained(t):
    t.retain_grad()
    return t


A = np.linspace(-1.0, 1.0, 12).reshape(3, 4) + 0.05
W = np.linspace(-0.5, 0.5, 20).reshape(5, 4)
PRODUCERS = {
    "tanh": lambda a, w: a.tanh(),
    "exp": lambda a, w: a.exp(),
    "mul": lambda a, w: a * a,
    "add": lambda a, w: a + 1,
    "sum": lambda a, w: a.sum(),
    "mean": lambda a, w: a.mean(),
    "matmul": lambda a, w: a @ w.t(),
    "linear": lambda a, w: ember.nn.functional.linear(a, w),
    "cross_entropy": lambda a, w: ember.nn.functional.cross_entropy(a, ember.tensor([0, 1, 2])),
    "slice_view": lambda a, w: a[1:],
    "reshape_view": lambda a, w: a.reshape(12),
    "view_of_result": lambda a, w: a.exp()[1:],
    "detach": lambda a, w: a.exp().detach(),
    "inplace_on_result": lambda a, w: (a * 1).mul_(2),
    "inplace_on_view": lambda a, w: _inplace_on_view(a),
    "retain_grad": lambda a, w: _retained(a.tanh()),
    "function_saving_output": lambda a, w: CubeSavingOutput.apply(a),
}


def _inplace_on_view(a):
    b = a * 1
    b[0].add_(1)
    return b


@pytest.mark.parametrize("name", list(PRODUCERS))
def test_result_is_freed_when_dropped_with_the_collector_off(name, no_cycle_collector):
    a = ember.tensor(A, requires_grad=True)
    w = ember.tensor(W, requires_grad=True)
    out = PRODUCERS[name](a, w)
    node_ref = weakref.ref(out.grad_fn) if out.grad_fn is not None else None
    out_ref = weakref.ref(out)
    del out
    assert out_ref() is None
    assert node_ref is None or node_ref() is None


def test_issue_example_tanh_freed_without_collector(no_cycle_collector):
    a = ember.ones(3, requires_grad=True)
    b = a.tanh()
    ref = weakref.ref(b)
    del b
    assert ref() is None


def test_view_holds_its_base_without_a_cycle(no_cycle_collector):
    a = ember.ones(4, 3, requires_grad=True)
    base = a.exp()
    view = base[1:]
    base_ref, view_ref = weakref.ref(base), weakref.ref(view)
    del base
    assert base_ref() is not None  # the view keeps its base alive, as in PyTorch
    del view
    assert view_ref() is None and base_ref() is None


def test_forward_passes_without_backward_keep_memory_flat(no_cycle_collector):
    rng = np.random.default_rng(0)
    w1 = ember.tensor(rng.standard_normal((16, 8)).astype(np.float32), requires_grad=True)
    b1 = ember.zeros(16, requires_grad=True)
    w2 = ember.tensor(rng.standard_normal((4, 16)).astype(np.float32), requires_grad=True)
    x = ember.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    F = ember.nn.functional

    def forward():
        h = F.linear(x, w1, b1).tanh()
        return (F.linear(h, w2).exp() * 0.5 + h.sum()).mean()

    for _ in range(50):
        forward()
    tracemalloc.start()
    try:
        for _ in range(100):
            forward()
        after_100 = tracemalloc.get_traced_memory()[0]
        for _ in range(900):
            forward()
        after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_1000 - after_100 < 64 * 1024, (after_100, after_1000)


def test_function_saving_its_output_matches_pytorch_to_second_order():
    values = np.array([0.5, -1.3, 2.0])

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x * x
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * y / x

    x = ember.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    (g,) = ember.autograd.grad(CubeSavingOutput.apply(x).sum(), (x,), create_graph=True)
    (tg,) = torch.autograd.grad(TorchCube.apply(tx).sum(), (tx,), create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_function_output_changed_in_place_is_caught():
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    y = CubeSavingOutput.apply(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("op", ["exp", "tanh"])
def test_saved_output_ops_to_third_order_match_pytorch(op):
    values = np.array([0.3, -0.8, 1.2])
    x = ember.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    e, t = getattr(x, op)().sum(), getattr(tx, op)().sum()
    for _ in range(3):
        (e,) = ember.autograd.grad(e, (x,), create_graph=True)
        (t,) = torch.autograd.grad(t, (tx,), create_graph=True)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12)
        e, t = e.sum(), t.sum()
