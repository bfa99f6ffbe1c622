"""Gradients and results at the edges, each compared with PyTorch: std/var of constant inputs and
size-1 dims, a nan upstream gradient through max/min/maximum and in-place writes, negative
embedding rows, integer division by zero, and zero-size tensors through reductions, softmax,
matmul/linear and batch norm (issue 11)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import check

import ember


def _both(fn):
    """``fn(torch)`` and ``fn(ember)``, each as ``("ok", value)`` or ``("raised", exception)``."""
    out = []
    for m in (torch, ember):
        try:
            out.append(("ok", fn(m)))
        except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
            out.append(("raised", exc))
    return out


def _grads(fn, array):
    """Value and gradient of ``fn(m, x).sum()`` at ``array`` in PyTorch and in ember."""
    res = []
    for m in (torch, ember):
        x = m.tensor(array, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "degrees of freedom <= 0" is the point of some cases
            y = fn(m, x)
            (g,) = m.autograd.grad(y.sum(), x)
        res.append((np.asarray(y.detach().numpy()), np.asarray(g.numpy())))
    return res


# ------------------------------------------------------------------ std, var, norm at the edges

EDGE_INPUTS = {
    "constant": np.full((3,), 1.5),
    "zeros": np.zeros((2, 3)),
    "one_element": np.array([0.7]),
    "size1_dim": np.random.default_rng(0).standard_normal((4, 1, 1)),
    "constant_rows": np.array([[2.0, 2.0, 2.0], [1.0, -1.0, 3.0]]),
}
EDGE_OPS = {
    "std_c0": lambda m, x: x.std(-1, correction=0) if x.dim() > 1 else x.std(correction=0),
    "std_c1": lambda m, x: x.std(-1, correction=1) if x.dim() > 1 else x.std(correction=1),
    "std_size1_dim": lambda m, x: x.std(1, correction=0) if x.dim() == 3 else x.std(0, correction=0),
    "var_c0": lambda m, x: x.var(-1, correction=0) if x.dim() > 1 else x.var(correction=0),
    "var_c1": lambda m, x: x.var(-1) if x.dim() > 1 else x.var(),
    "norm": lambda m, x: x.norm(dim=-1),
    "std_all": lambda m, x: x.std(),
}


@pytest.mark.parametrize("inp", list(EDGE_INPUTS))
@pytest.mark.parametrize("op", list(EDGE_OPS))
def test_std_var_norm_at_constant_inputs_and_size1_dims_match_torch(op, inp):
    """A constant slice has std 0: PyTorch's gradient there is 0 (correction 0, or correction 1
    with more than one element) and nan only where N - correction <= 0; ember's is the same."""
    (tv, tg), (ev, eg) = _grads(EDGE_OPS[op], EDGE_INPUTS[inp])
    np.testing.assert_allclose(ev, tv, equal_nan=True)
    np.testing.assert_allclose(eg, tg, equal_nan=True, atol=1e-12)


def test_constant_feature_keeps_a_loss_finite_after_a_step():
    """The user-level symptom: standardising a batch with one constant feature."""
    x = ember.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    w = ember.ones(2, requires_grad=True)
    z = (x * w - (x * w).mean(0)) / ((x * w).std(0, correction=0) + 1e-5)
    (z ** 2).sum().backward()
    assert np.isfinite(w.grad.numpy()).all()


def test_std_second_derivative_at_zero_matches_torch():
    """PyTorch's std backward fills the zero-std places with 0 after dividing by the std, so the
    second derivative there is nan: ember's formula is the same, not a differently-defined one."""
    a = np.random.default_rng(1).standard_normal((2, 2, 1))
    res = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        b = m.tensor(np.array(0.7), requires_grad=True)
        y = b ** x.std(2, correction=0)
        gx, gb = m.autograd.grad(y.sum(), [x, b], create_graph=True)
        res.append([np.asarray(t.detach().numpy()) for t in
                    m.autograd.grad((gx * 1.3).sum() + gb * 0.5, [x, b])])
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, equal_nan=True)


# ------------------------------------------------------------------- a nan upstream gradient

NAN_GRAD_OPS = {
    "max_dim": lambda m, x: x.max(0).values,
    "min_dim": lambda m, x: x.min(1, keepdim=True)[0],
    "max_all": lambda m, x: x.max().reshape(1),
    "maximum": lambda m, x: m.maximum(x, m.zeros_like(x) + 0.1),
    "minimum": lambda m, x: m.minimum(x, m.zeros_like(x) + 0.1),
    "amax": lambda m, x: x.amax(0),  # PyTorch multiplies by the mask: the nan spreads, in both
    "copy_into_view": lambda m, x: _zero_a_view(x),
}


def _zero_a_view(x):
    c = x * 1
    c.unsqueeze(0)[:, :1].zero_()
    return c


@pytest.mark.parametrize("op", list(NAN_GRAD_OPS))
def test_a_nan_upstream_gradient_reaches_only_what_pytorch_gives_it(op):
    """max/min, maximum/minimum and an in-place write through a view route the gradient with a
    mask: elements that were not selected (or were overwritten) get exactly 0 even when the
    upstream gradient is nan, as in PyTorch (0 * nan would be nan)."""
    a = np.array([[0.3, -1.2, 0.8], [1.1, 0.2, -0.4]])
    grads = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        y = NAN_GRAD_OPS[op](m, x)
        up = np.full(tuple(y.shape), np.nan)
        (g,) = m.autograd.grad(y, x, m.tensor(up))
        grads.append(np.asarray(g.numpy()))
    np.testing.assert_array_equal(np.isnan(grads[1]), np.isnan(grads[0]))
    np.testing.assert_array_equal(np.nan_to_num(grads[1]), np.nan_to_num(grads[0]))


# ---------------------------------------------------------------------------- embedding rows


@pytest.mark.parametrize("index", [[-1], [5], [0, -5], [2, 7]])
def test_embedding_refuses_rows_out_of_range_like_torch(index):
    """PyTorch has no negative rows: ``Embedding(5, 2)(tensor([-1]))`` is an IndexError, not the
    last row."""
    (kt, vt), (ke, ve) = _both(lambda m: m.nn.Embedding(5, 2)(m.tensor(index)))
    assert kt == ke == "raised"
    assert isinstance(vt, IndexError) and isinstance(ve, IndexError)
    assert "index out of range in self" in str(vt) and "index out of range in self" in str(ve)
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.nn.functional.embedding(ember.tensor(index), ember.randn(5, 2))


def test_embedding_in_range_still_matches_torch():
    w = np.random.default_rng(2).standard_normal((5, 3))
    idx = np.array([[0, 4], [2, 2]])
    check(lambda m, w_, i: m.nn.functional.embedding(i, w_), [], inputs=[w, idx],
          grad_inputs=[True, False])


# ---------------------------------------------------------------- integer division by zero

INT_DIVISIONS = {
    "floordiv": lambda m, a, b: a // b,
    "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "mod": lambda m, a, b: a % b,
    "remainder": lambda m, a, b: m.remainder(a, b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "floordiv_scalar": lambda m, a, b: a // 0,
    "mod_scalar": lambda m, a, b: a % 0,
    "floor_divide_": lambda m, a, b: a.clone().floor_divide_(b),
    "remainder_": lambda m, a, b: a.clone().remainder_(b),
    "by_bool": lambda m, a, b: a // (b != 0),
}


@pytest.mark.parametrize("op", list(INT_DIVISIONS))
def test_integer_division_by_zero_raises_like_torch(op):
    """NumPy quietly gives 0 for an integer divided by 0; PyTorch raises "ZeroDivisionError"."""
    (kt, vt), (ke, ve) = _both(lambda m: INT_DIVISIONS[op](m, m.tensor([3, -3, 4]),
                                                           m.tensor([0, 2, 0])))
    assert kt == ke == "raised"
    assert type(ve) is type(vt) is RuntimeError
    assert "ZeroDivisionError" in str(vt) and "ZeroDivisionError" in str(ve)


@pytest.mark.parametrize("op", ["floordiv", "div_trunc", "mod", "fmod"])
def test_integer_division_without_zero_and_float_division_by_zero_match_torch(op):
    fn = INT_DIVISIONS[op]
    for a, b in (([7, -7, 4], [2, 2, -3]), ([3.0, -3.0, 0.0], [0.0, 0.0, 0.0])):
        t = fn(torch, torch.tensor(a), torch.tensor(b)).numpy()
        e = fn(ember, ember.tensor(a), ember.tensor(b)).numpy()
        assert e.dtype == t.dtype
        np.testing.assert_array_equal(e, t)


# ----------------------------------------------------------------------- zero-size tensors

ZERO_SIZE_REDUCTIONS = {
    "amax": lambda m, x, d: x.amax(d),
    "amin": lambda m, x, d: x.amin(d, keepdim=True),
    "max_dim": lambda m, x, d: x.max(d).values,
    "min_dim": lambda m, x, d: x.min(d, keepdim=True)[0],
    "logsumexp": lambda m, x, d: x.logsumexp(d),
    "softmax": lambda m, x, d: m.softmax(x, d),
    "log_softmax": lambda m, x, d: m.log_softmax(x, d),
    "sum": lambda m, x, d: x.sum(d),
    "mean": lambda m, x, d: x.mean(d),
    "prod": lambda m, x, d: x.prod(d),
    "std": lambda m, x, d: x.std(d),
    "var": lambda m, x, d: x.var(d, correction=0),
    "norm": lambda m, x, d: x.norm(dim=d),
    "cumsum": lambda m, x, d: x.cumsum(d),
    "cumprod": lambda m, x, d: x.cumprod(d),
}


@pytest.mark.parametrize("shape,dim", [((0, 3), 1), ((0, 3), -1), ((2, 0, 3), 0), ((2, 0, 3), 2)])
@pytest.mark.parametrize("op", list(ZERO_SIZE_REDUCTIONS))
def test_reductions_over_a_non_empty_dim_of_a_zero_size_tensor_match_torch(op, shape, dim):
    """An empty tensor reduced over a dim that is not empty: an empty result (and an empty
    gradient), as in PyTorch, not NumPy's "zero-size array to reduction operation" error."""
    fn = ZERO_SIZE_REDUCTIONS[op]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda m, x: fn(m, x, dim), [shape])


@pytest.mark.parametrize("op", ["amax", "amin", "max_dim", "min_dim", "argmax", "argmin"])
@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((2, 0, 3), 1), ((2, 0, 3), -2)])
def test_reductions_without_identity_over_an_empty_dim_raise_like_torch(op, shape, dim):
    fns = dict(ZERO_SIZE_REDUCTIONS, argmax=lambda m, x, d: x.argmax(d),
               argmin=lambda m, x, d: x.argmin(d))
    (kt, vt), (ke, ve) = _both(lambda m: fns[op](m, m.zeros(*shape), dim))
    assert kt == ke == "raised"
    assert type(ve) is type(vt) is IndexError
    name = {"max_dim": "max", "min_dim": "min"}.get(op, op)
    # PyTorch names the dim as written for amax/amin, normalised for max/min/argmax/argmin
    d = dim if op in ("amax", "amin") else dim % len(shape)
    assert f"{name}(): Expected reduction dim {d} to have non-zero size" in str(vt)
    assert f"{name}(): Expected reduction dim {d} to have non-zero size" in str(ve)


@pytest.mark.parametrize("op", ["amax", "amin", "argmax", "max", "min"])
def test_reductions_without_identity_and_without_dim_on_an_empty_tensor_raise_like_torch(op):
    (kt, vt), (ke, ve) = _both(lambda m: getattr(m.zeros(0, 3), op)())
    assert kt == ke == "raised"
    assert type(ve) is type(vt) is (IndexError if op == "argmax" else RuntimeError)
    assert "Expected reduction dim to be specified for input.numel() == 0" in str(vt)
    assert "Expected reduction dim to be specified for input.numel() == 0" in str(ve)


def test_argmax_over_a_non_empty_dim_of_a_zero_size_tensor_is_empty():
    for m in (torch, ember):
        assert tuple(m.zeros(0, 3).argmax(1).shape) == (0,)
        assert tuple(m.zeros(2, 0, 3).argmin(0).shape) == (0, 3)


@pytest.mark.parametrize("shapes", [[(3, 1, 0), (0, 2)], [(0, 4), (4, 5)], [(2, 3), (3, 0)],
                                    [(2, 0, 4), (4, 3)], [(0, 2, 3), (3,)]])
def test_matmul_with_zero_size_shapes_matches_torch(shapes):
    """``(3, 1, 0) @ (0, 2)`` raised "cannot reshape array of size 0 into shape (0)"."""
    check(lambda m, x, y: x @ y, shapes)


@pytest.mark.parametrize("x_shape,w_shape", [((0, 4), (3, 4)), ((2, 0, 4), (3, 4)),
                                             ((2, 0), (3, 0)), ((2, 4), (0, 4))])
def test_linear_with_zero_size_shapes_matches_torch(x_shape, w_shape):
    check(lambda m, x, w, b: m.nn.functional.linear(x, w, b),
          [x_shape, w_shape, (w_shape[0],)])


@pytest.mark.parametrize("module", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_of_an_empty_batch_matches_torch(module):
    """PyTorch normalises an empty batch to an empty result and leaves the running statistics
    alone (it still counts the batch); a batch of one is refused in training."""
    shape = (0, 3) if module == "BatchNorm1d" else (0, 3, 2, 2)
    res = []
    for m in (torch, ember):
        layer = getattr(m.nn, module)(3)
        with m.no_grad():
            layer.running_mean.fill_(0.5)
            layer.running_var.fill_(2.0)
        x = m.zeros(*shape, requires_grad=True)
        y = layer(x)
        y.sum().backward()
        res.append((tuple(y.shape), tuple(x.grad.shape), layer.running_mean.numpy().copy(),
                    layer.running_var.numpy().copy(), int(layer.num_batches_tracked.item()),
                    layer.weight.grad.numpy().copy()))
        layer.eval()
        assert tuple(layer(m.zeros(*shape)).shape) == shape
    for e, t in zip(res[1], res[0]):
        np.testing.assert_array_equal(e, t)
    for m in (torch, ember):
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            getattr(m.nn, module)(3)(m.zeros(1, 3) if module == "BatchNorm1d" else m.zeros(1, 3, 1, 1))


ZERO_SIZE_SHAPE_OPS = {
    "reshape_flat": lambda m, x: x.reshape(-1),
    "reshape_infer": lambda m, x: x.reshape(-1, 3),
    "view": lambda m, x: x.view(0, 3, 1),
    "flatten": lambda m, x: x.flatten(),
    "transpose_reshape": lambda m, x: x.transpose(0, 1).reshape(-1),
    "expand": lambda m, x: x.expand(2, 0, 3),
    "repeat": lambda m, x: x.repeat(2, 1),
    "split": lambda m, x: x.split(1, 1),
    "chunk_empty_dim": lambda m, x: x.chunk(2, 0),
    "unbind": lambda m, x: x.unbind(1),
    "roll": lambda m, x: x.roll(1, 1),
    "flip": lambda m, x: x.flip(0),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "index_select": lambda m, x: x.index_select(1, m.tensor([0, 2])),
    "cat": lambda m, x: m.cat([x, x * 2], 0),
    "stack": lambda m, x: m.stack([x, x], 2),
    "where": lambda m, x: m.where(x > 0, x, x * 3),
    "masked_select": lambda m, x: x[x > 0],
    "einsum": lambda m, x: m.einsum("ij,jk->ik", x, m.ones_like(x).transpose(0, 1)[:, :1] + 1),
    "sort": lambda m, x: x.sort(1)[0],
    "topk": lambda m, x: x.topk(1, 1)[0],
    "median_dim": lambda m, x: x.median(1)[0],
    "cummax": lambda m, x: x.cummax(1)[0],
    "normalize": lambda m, x: m.nn.functional.normalize(x, dim=1),
    "cross_entropy": lambda m, x: m.nn.functional.cross_entropy(x, m.zeros(0, dtype=m.int64),
                                                                reduction="sum"),
    "mse_sum": lambda m, x: m.nn.functional.mse_loss(x, x * 0.5, reduction="sum"),
    "layer_norm": lambda m, x: m.nn.functional.layer_norm(x, (3,)),
    "pad": lambda m, x: m.nn.functional.pad(x, (1, 1)),
}


@pytest.mark.parametrize("op", list(ZERO_SIZE_SHAPE_OPS))
def test_shape_and_misc_ops_on_a_zero_size_tensor_match_torch(op):
    check(ZERO_SIZE_SHAPE_OPS[op], [(0, 3)])


ZERO_BATCH_CONV = {
    "conv2d": (lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1),
               [(0, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    "conv1d": (lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, stride=2),
               [(0, 2, 5), (3, 2, 3), (3,)]),
    "conv_transpose2d": (lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b),
                         [(0, 2, 4, 4), (2, 3, 3, 3), (3,)]),
    "max_pool2d": (lambda m, x: m.nn.functional.max_pool2d(x, 2), [(0, 2, 4, 4)]),
    "avg_pool2d": (lambda m, x: m.nn.functional.avg_pool2d(x, 2), [(0, 2, 4, 4)]),
    "adaptive_avg_pool2d": (lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, 1),
                            [(0, 2, 4, 4)]),
}


@pytest.mark.parametrize("op", list(ZERO_BATCH_CONV))
def test_convolution_and_pooling_of_an_empty_batch_match_torch(op):
    """An empty batch gives an empty result, and the weight and bias zero gradients."""
    fn, shapes = ZERO_BATCH_CONV[op]
    check(fn, shapes)


EMPTY_DIM_WITH_IDENTITY = {
    "sum": lambda m, x: x.sum(0),
    "prod": lambda m, x: x.prod(0),
    "mean": lambda m, x: x.mean(0),  # nan, as 0 / 0
    "std": lambda m, x: x.std(0),
    "norm": lambda m, x: x.norm(dim=0),
    "norm1": lambda m, x: x.norm(p=1, dim=0),
    "logsumexp": lambda m, x: x.logsumexp(0),  # -inf
    "softmax": lambda m, x: m.softmax(x, 0),
    "mean_all": lambda m, x: x.mean(),
    "logsumexp_all": lambda m, x: x.logsumexp((0, 1)),
}


@pytest.mark.parametrize("op", list(EMPTY_DIM_WITH_IDENTITY))
def test_reductions_with_an_identity_over_an_empty_dim_match_torch(op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(EMPTY_DIM_WITH_IDENTITY[op], [(0, 3)])


ZERO_OUT_CHANNELS = {
    "conv2d": lambda m: m.nn.functional.conv2d(m.ones(2, 1, 4, 4), m.zeros(0, 1, 3, 3)),
    "Conv2d": lambda m: m.nn.Conv2d(1, 0, 3)(m.ones(2, 1, 4, 4)),
    "conv1d": lambda m: m.nn.functional.conv1d(m.ones(2, 1, 4), m.zeros(0, 1, 3)),
    "conv_transpose2d": lambda m: m.nn.functional.conv_transpose2d(m.ones(2, 1, 4, 4),
                                                                   m.zeros(1, 0, 3, 3)),
}


@pytest.mark.parametrize("op", list(ZERO_OUT_CHANNELS))
def test_convolution_with_zero_output_channels_is_refused_like_torch(op):
    """PyTorch refuses a weight with no output channel ("expected weight to be at least 1 at
    dimension 0"); ember did a raw NumPy reshape error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Initializing zero-element tensors is a no-op"
        (kt, vt), (ke, ve) = _both(ZERO_OUT_CHANNELS[op])
    assert kt == ke == "raised"
    assert type(ve) is RuntimeError and type(vt) is RuntimeError
    assert "expected weight to be at least 1 at dimension" in str(ve)
    assert op.lower().split("d")[0] in str(ve).lower()
