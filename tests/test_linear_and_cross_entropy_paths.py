"""linear over inputs in either layout (row-major, or column-major as a transpose gives), its
results row-major as PyTorch's, and cross_entropy's path for plain class-index targets: values
and gradients against PyTorch on both sides of every choice, and gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.helpers import F, check

# (batch, in_features, out_features): a batch smaller than the features, larger, equal, and a
# single row
SHAPES = [(4, 5, 8), (16, 5, 3), (6, 3, 6), (1, 4, 2)]


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(batch, n_in, n_out, bias):
    shapes = [(batch, n_in), (n_out, n_in)] + ([(n_out,)] if bias else [])
    check(lambda m, x, w, *b: F(m).linear(x, w, *b), shapes)


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES + [(10, 4, 5)])
def test_linear_of_a_column_major_input_matches_torch(batch, n_in, n_out):
    # x.t() of an (in, batch) array is a column-major (batch, in) input
    check(lambda m, x, w, b: F(m).linear(x.t(), w, b), [(n_in, batch), (n_out, n_in), (n_out,)])


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES)
def test_linear_input_gradient_matches_torch(batch, n_in, n_out):
    check(lambda m, x, w1, w2: F(m).linear(F(m).linear(x, w1).relu(), w2),
          [(batch, n_in), (n_out, n_in), (3, n_out)])


def test_linear_double_backward():
    x = ember.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 4)), requires_grad=True)
    w = ember.tensor(np.random.default_rng(1).uniform(-1, 1, (6, 4)), requires_grad=True)
    b = ember.tensor(np.random.default_rng(2).uniform(-1, 1, 6), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, w, b: F(ember).linear(x, w, b).tanh(), (x, w, b))


def test_linear_results_are_row_major_like_torch():
    # a PyTorch program may view an activation and write through the view: the layout must be
    # PyTorch's (row-major, contiguous), whatever product orientation is fastest on the BLAS
    import torch

    rng = np.random.default_rng(0)
    for batch, n_in, n_out in [(4, 5, 8), (20, 5, 8), (128, 784, 512)]:
        x = rng.standard_normal((batch, n_in)).astype(np.float32)
        w = rng.standard_normal((n_out, n_in)).astype(np.float32)
        h = F(ember).linear(ember.tensor(x, requires_grad=True), ember.tensor(w)).relu()
        th = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w)).relu()
        assert h.is_contiguous() and h.stride() == th.stride()
        v = h.view(-1)
        v[0] = 100.0
        assert float(h[0, 0]) == 100.0  # the view aliases its base
        g = ember.tensor(rng.standard_normal((batch, n_out)).astype(np.float32))
        x_t = ember.tensor(x, requires_grad=True)
        F(ember).linear(x_t, ember.tensor(w)).backward(g)
        assert x_t.grad.is_contiguous()


def test_mlp_step_gradients_match_torch():
    # the benchmark's chain in miniature: every activation and gradient against PyTorch
    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, size=6)

    def step(m, x, w1, b1, w2, b2, w3, b3, t):
        h = F(m).linear(F(m).linear(x, w1, b1).relu(), w2, b2).relu()
        return F(m).cross_entropy(F(m).linear(h, w3, b3), t)

    shapes = [(6, 7), (9, 7), (9,), (8, 9), (8,), (3, 8), (3,)]
    arrays = [rng.uniform(-1, 1, s) for s in shapes] + [target]
    check(step, None, inputs=arrays)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (1, 3), (4,)])
def test_cross_entropy_class_indices_matches_torch(reduction, shape):
    rng = np.random.default_rng(3)
    n = shape[0] if len(shape) == 2 else None
    target = rng.integers(0, shape[-1], size=n) if n else np.array(rng.integers(0, shape[-1]))
    check(lambda m, x, t: F(m).cross_entropy(x, t, reduction=reduction), None,
          inputs=[rng.uniform(-3, 3, shape), target])


@pytest.mark.parametrize("ignore_index", [1, 2, -100])
def test_cross_entropy_ignore_index_on_both_paths(ignore_index):
    # targets [0, 2, 0, 3]: ignore_index 1 lies between them but is absent (the class-index
    # path), 2 is present (the general path)
    rng = np.random.default_rng(4)
    check(lambda m, x, t: F(m).cross_entropy(x, t, ignore_index=ignore_index), None,
          inputs=[rng.uniform(-2, 2, (4, 5)), np.array([0, 2, 0, 3])])


def test_cross_entropy_float32_same_on_both_paths():
    # the class-index path picks what the general path sums: the same float32 value
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((64, 10)).astype(np.float32) * 4)
    t = ember.tensor(rng.integers(0, 10, size=64))
    fast = F(ember).cross_entropy(x, t)
    general = F(ember).cross_entropy(x, t, weight=ember.ones(10))
    assert fast.dtype == ember.float32
    assert fast.item() == general.item()
    tt = torch.nn.functional.cross_entropy(torch.tensor(x.numpy()), torch.tensor(t.numpy()))
    np.testing.assert_allclose(fast.item(), tt.item(), rtol=1e-6)


def test_cross_entropy_out_of_range_target_still_refused():
    with pytest.raises(IndexError, match="cross_entropy: target 5 is out of bounds for 5 classes"):
        F(ember).cross_entropy(ember.zeros(2, 5), ember.tensor([1, 5]))


def test_profile_mlp_gemms_lists_every_product(capsys):
    from benchmarks import profile_mlp

    threads = torch.get_num_threads()
    try:
        assert profile_mlp.gemms(threads, batch=32, clock="wall", repeats=1) == 0
    finally:
        torch.set_num_threads(threads)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 9  # eight products and the total
    values = [tuple(map(float, row[-3:])) for row in rows]
    assert all(e > 0 and t > 0 and r > 0 for e, t, r in values)
    for column in (0, 1):  # the total row adds up the products (each printed to 0.1 us)
        assert abs(sum(v[column] for v in values[:-1]) - values[-1][column]) <= 0.5
