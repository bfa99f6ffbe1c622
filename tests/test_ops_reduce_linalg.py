"""Reductions and linear algebra, each compared with PyTorch (values and gradients) and checked
with finite differences; gradients of gradients for the ops networks differentiate twice."""

import math

import numpy as np
import pytest
import torch
from helpers import check

import ember
from ember.autograd.gradcheck import gradcheck, gradgradcheck

DIMS = [None, 0, 1, -1, (0, 2), (-1, -3), (2, 0, 1)]
FLAGS = [False, True]


def distinct(*shape, seed=0):
    """Random values with no ties (so that max/min have a single answer)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) + rng.uniform(0.1, 0.9, n)).reshape(shape) / n * 4 - 2


# ---------------------------------------------------------------------------------- sum, mean


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", FLAGS)
def test_sum(dim, keepdim):
    if dim is None:
        check(lambda m, x: x.sum(), [(2, 3, 4)])
    else:
        check(lambda m, x: m.sum(x, dim, keepdim=keepdim), [(2, 3, 4)])


def test_sum_variants():
    check(lambda m, x: x.sum(), [()])
    check(lambda m, x: x.sum(0), [()])
    check(lambda m, x: x.sum(-1, keepdim=True), [(5,)])
    check(lambda m, x: x.sum(()), [(2, 3)])
    check(lambda m, x: m.sum(x, 1, dtype=m.float32), [(2, 3)], atol=1e-6, gradcheck_=False)
    check(lambda m, x: x.sum(1), [], inputs=[np.arange(6, dtype=np.int32).reshape(2, 3)])
    check(lambda m, x: x.sum(), [], inputs=[np.array([True, False, True])])


def test_sum_dim_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, -2))


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", FLAGS)
def test_mean(dim, keepdim):
    if dim is None:
        check(lambda m, x: x.mean(), [(2, 3, 4)])
    else:
        check(lambda m, x: x.mean(dim, keepdim), [(2, 3, 4)])


def test_mean_integer_raises_like_torch():
    with pytest.raises(RuntimeError):
        torch.arange(4).mean()
    with pytest.raises(RuntimeError, match="mean"):
        ember.arange(4).mean()
    check(lambda m, x: x.mean(dtype=m.float64), [], inputs=[np.arange(6).reshape(2, 3)])


def test_float32_stays_float32():
    x = ember.randn(4, 3)
    w = ember.randn(3, 2)
    for out in (x.sum(), x.mean(0), x @ w, x.var(1), x.logsumexp(1), x.norm(), x.amax(0),
                ember.einsum("ij,jk->ik", x, w), x.prod(1), x.cumsum(0)):
        assert out.dtype == ember.float32


# --------------------------------------------------------------------------------------- prod


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_prod(dim, keepdim):
    if dim is None:
        check(lambda m, x: x.prod(), [(2, 3, 2)])
    else:
        check(lambda m, x: x.prod(dim, keepdim), [(2, 3, 4)])


ZEROS = [
    np.array([[1.5, 0.0, -2.0, 0.7], [0.3, 1.2, -0.8, 2.0], [0.0, 0.0, 1.1, 0.9]]),
    np.array([[0.0, 1.3], [0.5, -1.4], [2.0, 0.6]]),
]


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("inp", ZEROS)
def test_prod_with_zeros(dim, inp):
    if dim is None:
        check(lambda m, x: x.prod(), [], inputs=[inp])
    else:
        check(lambda m, x: x.prod(dim), [], inputs=[inp])
    check(lambda m, x: x.prod(), [], inputs=[np.array([2.0, 0.0, 3.0])])
    check(lambda m, x: x.prod(), [], inputs=[np.array([2.0, 0.0, 3.0, 0.0])])


def test_prod_integer_and_tuple_dim():
    check(lambda m, x: x.prod(1), [], inputs=[np.arange(1, 7, dtype=np.int32).reshape(2, 3)])
    with pytest.raises(TypeError, match="'dim' must be an int, not tuple"):
        ember.ones(2, 3).prod((0, 1))


def test_prod_double_backward_with_zeros():
    for inp in ZEROS:
        x = ember.tensor(inp, requires_grad=True)
        assert gradgradcheck(lambda t: t.prod(1), (x,))
        assert gradgradcheck(lambda t: t.prod(), (x,))


# ------------------------------------------------------------------------------ max, min, ...


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_full(op):
    check(lambda m, x: getattr(x, op)(), [], inputs=[distinct(3, 4)])
    check(lambda m, x: getattr(m, op)(x), [], inputs=[distinct(5)])


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_max_min_dim(op, dim, keepdim):
    check(lambda m, x: getattr(m, op)(x, dim, keepdim), [], inputs=[distinct(2, 3, 4)])
    check(lambda m, x: getattr(x, op)(dim=dim, keepdim=keepdim).values, [],
          inputs=[distinct(2, 3, 4, seed=1)])


def test_max_returns_values_and_indices():
    x = ember.tensor(distinct(3, 4))
    t = torch.tensor(distinct(3, 4))
    res, ref = x.max(1), t.max(1)
    values, indices = res
    assert res.values is values and res.indices is indices
    np.testing.assert_array_equal(indices.numpy(), ref.indices.numpy())
    assert indices.dtype == ember.int64


TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.5, 2.0], [-1.0, -1.0, -1.0, -1.0]])


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin"])
def test_full_reduction_ties_split_evenly_like_torch(op):
    check(lambda m, x: getattr(x, op)(), [], inputs=[TIES], gradcheck_=False)
    check(lambda m, x: (getattr(x, op)() * x).sum(), [], inputs=[TIES], gradcheck_=False)


@pytest.mark.parametrize("dim", [0, 1, (0, 1), -1])
def test_amax_amin_ties_split_evenly_like_torch(dim):
    check(lambda m, x: x.amax(dim), [], inputs=[TIES], gradcheck_=False)
    check(lambda m, x: x.amin(dim, keepdim=True), [], inputs=[TIES], gradcheck_=False)


@pytest.mark.parametrize("dim", [0, 1])
def test_max_min_dim_ties_gradient_to_returned_index(dim):
    check(lambda m, x: x.max(dim), [], inputs=[TIES], gradcheck_=False)
    check(lambda m, x: x.min(dim, keepdim=True), [], inputs=[TIES], gradcheck_=False)


def test_max_of_two_tensors_is_maximum():
    if not hasattr(ember, "maximum"):
        pytest.skip("ember.maximum not available yet")
    check(lambda m, x, y: m.max(x, y), [], inputs=[distinct(3, 4), distinct(4, seed=2)])
    check(lambda m, x, y: m.min(x, y), [], inputs=[distinct(3, 4), distinct(4, seed=2)])


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim", [0, -1, (0, 2), (1, -1)])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_amax_amin(op, dim, keepdim):
    check(lambda m, x: getattr(m, op)(x, dim, keepdim), [], inputs=[distinct(2, 3, 4)])


def test_amax_all_dims():
    check(lambda m, x: x.amax(), [], inputs=[distinct(2, 3)])
    check(lambda m, x: m.amin(x), [], inputs=[distinct(2, 3)])


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_argmax_argmin(op, dim, keepdim):
    check(lambda m, x: getattr(m, op)(x, dim=dim, keepdim=keepdim), [],
          inputs=[distinct(2, 3, 4)], grad=False)
    check(lambda m, x: getattr(x, op)(), [], inputs=[TIES], grad=False)
    check(lambda m, x: getattr(x, op)(1), [], inputs=[TIES], grad=False)


# ------------------------------------------------------------------------------- var, std


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_var_std(op, dim, keepdim):
    if dim is None:
        check(lambda m, x: getattr(x, op)(), [(2, 3, 4)])
    else:
        check(lambda m, x: getattr(m, op)(x, dim, keepdim=keepdim), [(2, 3, 4)])


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_corrections(op):
    check(lambda m, x: getattr(x, op)(1, unbiased=False), [(3, 5)])
    check(lambda m, x: getattr(x, op)(1, True, True), [(3, 5)])
    check(lambda m, x: getattr(m, op)(x, False), [(3, 5)])
    check(lambda m, x: getattr(x, op)(0, correction=0), [(3, 5)])
    check(lambda m, x: getattr(x, op)((0, 1), correction=2, keepdim=True), [(3, 5)])


def test_var_mean_and_errors():
    check(lambda m, x: m.var_mean(x, 1), [(3, 4)])
    check(lambda m, x: m.std_mean(x, (0, 1), keepdim=True), [(3, 4)])
    with pytest.raises(RuntimeError, match="floating point"):
        ember.arange(4).var()


# --------------------------------------------------------------------------- logsumexp, norm


@pytest.mark.parametrize("dim", [0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_logsumexp(dim, keepdim):
    check(lambda m, x: m.logsumexp(x, dim, keepdim), [(2, 3, 4)])


def test_logsumexp_is_stable():
    big = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1000.5]])
    check(lambda m, x: x.logsumexp(1), [], inputs=[big])
    inf = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    out = ember.tensor(inf).logsumexp(1)
    np.testing.assert_array_equal(out.numpy(), torch.tensor(inf).logsumexp(1).numpy())


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, "fro"])
@pytest.mark.parametrize("dim", [None, 1, (0, -1)])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_norm(p, dim, keepdim):
    check(lambda m, x: x.norm(p, dim, keepdim), [], inputs=[distinct(2, 3, 4)])


def test_norm_default_and_zero_gradient():
    check(lambda m, x: x.norm(), [(3, 4)])
    check(lambda m, x: m.norm(x, dim=1), [(3, 4)])
    zero = np.zeros((2, 3))
    zero[1] = [1.0, -2.0, 0.5]
    check(lambda m, x: x.norm(dim=1), [], inputs=[zero], gradcheck_=False)
    check(lambda m, x: x.norm(), [], inputs=[np.zeros(3)], gradcheck_=False)
    check(lambda m, x: x.norm(p=0, dim=1), [], inputs=[zero], gradcheck_=False)
    for p in (0.5, 1.5, 3):
        check(lambda m, x, p=p: x.norm(p, 1), [], inputs=[zero], gradcheck_=False)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.arange(3).norm()


# ------------------------------------------------------------------------ all, any, scans


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
def test_all_any(op, dim):
    mask = np.array([[[True, False], [True, True]], [[False, False], [True, True]]])
    if dim is None:
        check(lambda m, x: getattr(x, op)(), [], inputs=[mask])
    else:
        check(lambda m, x: getattr(m, op)(x, dim), [], inputs=[mask])
        check(lambda m, x: getattr(x, op)(dim, keepdim=True), [], inputs=[mask])
    check(lambda m, x: getattr(x, op)(1), [], inputs=[np.array([[0.0, 1.5], [2.0, 3.0]])],
          grad=False)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_count_nonzero(dim):
    a = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, -3.0]])
    check(lambda m, x: m.count_nonzero(x, dim), [], inputs=[a], grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim):
    check(lambda m, x: x.cumsum(dim), [(2, 3, 4)])
    check(lambda m, x: m.cumsum(x, dim), [], inputs=[np.arange(24, dtype=np.int32).reshape(2, 3, 4)])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod(dim):
    check(lambda m, x: x.cumprod(dim), [(2, 3, 4)])
    for inp in ZEROS:
        check(lambda m, x: m.cumprod(x, dim % 2), [], inputs=[inp])


def test_cumsum_cumprod_double_backward():
    x = ember.tensor(distinct(3, 4), requires_grad=True)
    assert gradgradcheck(lambda t: t.cumsum(1), (x,))
    assert gradgradcheck(lambda t: t.cumprod(0), (x,))
    z = ember.tensor(ZEROS[0], requires_grad=True)
    assert gradgradcheck(lambda t: t.cumprod(1), (z,))


# ------------------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    [(3, 4), (4, 5)],
    [(4,), (4,)],
    [(4,), (4, 5)],
    [(3, 4), (4,)],
    [(2, 3, 4), (4,)],
    [(4,), (2, 4, 5)],
    [(2, 3, 4), (2, 4, 5)],
    [(2, 1, 3, 4), (5, 4, 2)],
    [(2, 3, 4), (4, 5)],
    [(3, 4), (2, 4, 5)],
    [(1, 3, 4), (2, 1, 4, 2)],
    [(2, 2, 3, 4), (4,)],
    # zero-size: empty batch, empty inner (contracted) dim, empty result columns
    [(3, 1, 0), (0, 2)],
    [(0, 4), (4, 5)],
    [(3, 4), (4, 0)],
    [(2, 0, 4), (4,)],
    [(0,), (0,)],
    [(2, 3, 0), (2, 0, 5)],
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes):
    check(lambda m, x, y: m.matmul(x, y), shapes)
    check(lambda m, x, y: x @ y, shapes, seed=3)


def test_matmul_transposed_views():
    check(lambda m, x, y: m.matmul(x, y.mT), [(3, 4), (5, 4)])
    check(lambda m, x, y: x.mT @ y, [(4, 3), (2, 4, 5)])


def test_rmatmul_and_mixed():
    w = np.random.default_rng(0).standard_normal((4, 2))
    check(lambda m, x: x @ m.tensor(w), [(3, 4)])
    a = np.random.default_rng(1).standard_normal((2, 3))
    out = a @ ember.tensor(np.ones((3, 2)))
    assert isinstance(out, ember.Tensor)
    np.testing.assert_allclose(out.numpy(), a @ np.ones((3, 2)))


def test_matmul_errors():
    with pytest.raises(RuntimeError, match=r"\(3, 4\) and \(5, 6\) cannot be multiplied \(4 != 5\)"):
        ember.zeros(3, 4) @ ember.zeros(5, 6)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\) and \(3, 4, 2\)"):
        ember.zeros(2, 3, 4) @ ember.zeros(3, 4, 2)
    with pytest.raises(RuntimeError, match="at least 1D"):
        ember.matmul(ember.tensor(1.0), ember.zeros(3))
    with pytest.raises(RuntimeError, match="dtype"):
        ember.zeros(2, 3) @ ember.zeros(3, 2, dtype=ember.float64)


@pytest.mark.parametrize("op,shapes", [
    ("mm", [(3, 4), (4, 2)]),
    ("bmm", [(2, 3, 4), (2, 4, 5)]),
    ("mv", [(3, 4), (4,)]),
    ("dot", [(5,), (5,)]),
    ("outer", [(3,), (4,)]),
    ("inner", [(2, 3), (4, 3)]),
])
def test_named_products(op, shapes):
    check(lambda m, x, y: getattr(m, op)(x, y), shapes)
    check(lambda m, x, y: getattr(x, op)(y), shapes, seed=5)


def test_named_product_errors():
    with pytest.raises(RuntimeError, match="3D"):
        ember.bmm(ember.zeros(3, 4), ember.zeros(4, 2))
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\) and \(3, 4, 5\)"):
        ember.bmm(ember.zeros(2, 3, 4), ember.zeros(3, 4, 5))
    with pytest.raises(RuntimeError, match="matrix"):
        ember.mm(ember.zeros(2, 3, 4), ember.zeros(4, 2))
    with pytest.raises(RuntimeError, match="3x4 and 5x6"):
        ember.mm(ember.zeros(3, 4), ember.zeros(5, 6))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ember.dot(ember.zeros(3), ember.zeros(4))


@pytest.mark.parametrize("op", ["matmul", "einsum"])
def test_products_save_only_what_their_backward_reads(op):
    def run(m, change):
        x = m.tensor(distinct(3, 4))
        w = m.tensor(distinct(4, 2, seed=1), requires_grad=True)
        y = x @ w if op == "matmul" else m.einsum("ij,jk->ik", x, w)
        with m.no_grad():
            (x if change == "x" else w).add_(1.0)
        y.sum().backward()
        return w.grad

    # w's gradient reads x, so changing x is caught; nothing reads w, so changing it is allowed
    for m in (torch, ember):
        with pytest.raises(RuntimeError, match="inplace"):
            run(m, "x")
    np.testing.assert_allclose(run(ember, "w").numpy(), run(torch, "w").numpy())


# ------------------------------------------------------------------------------------- einsum

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij,k->ik", [(3, 4), (2,)]),
    ("ij,ij->ij", [(3, 1), (1, 4)]),
    ("ij,j->i", [(3, 4), (1,)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...i,i", [(2, 3, 4), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("Ab,bC->AC", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum(eq, shapes):
    check(lambda m, *xs: m.einsum(eq, *xs), shapes)


def test_einsum_list_operands_and_double_backward():
    check(lambda m, x, y: m.einsum("ij,jk", [x, y]), [(2, 3), (3, 4)])
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, y: ember.einsum("ii,ij->ij", x, y), (a, b))
    assert gradgradcheck(lambda x, y: ember.einsum("ij,ik->jk", x, y), (a, b))


def test_einsum_result_is_not_a_view():
    x = ember.tensor(np.arange(6.0).reshape(2, 3))
    y = ember.einsum("ij->ji", x)
    y._data[0, 0] = 100.0
    assert x._data[0, 0] == 0.0


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="einsum"):
        ember.einsum("ij,jk->ik", ember.zeros(2, 3), ember.zeros(4, 2))
    with pytest.raises(RuntimeError, match="operand"):
        ember.einsum("ij,jk->ik", ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="number of subscripts"):
        ember.einsum("ijk->i", ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="more than once"):
        ember.einsum("ij->ii", ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.einsum("ij,jk", ember.zeros(2, 3), ember.zeros(3, 2, dtype=ember.float64))


@pytest.mark.parametrize("dims,shapes", [
    (2, [(2, 3, 4), (3, 4, 2)]),
    (1, [(2, 3), (3, 4)]),
    (0, [(2,), (3,)]),
    (([1, 0], [0, 1]), [(3, 4, 2), (4, 3)]),
])
def test_tensordot(dims, shapes):
    check(lambda m, x, y: m.tensordot(x, y, dims), shapes)


# ---------------------------------------------------------------------- higher-order gradients


@pytest.mark.parametrize("fn", [
    lambda x: x.sum(1),
    lambda x: x.sum(),
    lambda x: x.mean((0, 1), keepdim=True),
    lambda x: x.logsumexp(1),
    lambda x: x.var(0),
    lambda x: x.std(1, keepdim=True),
    lambda x: x.norm(dim=1),
    lambda x: x.norm(3),
    lambda x: x.prod(1),
    lambda x: x.amax(1),
], ids=["sum", "sum_all", "mean", "logsumexp", "var", "std", "norm2", "norm3", "prod", "amax"])
def test_gradgradcheck_reductions(fn):
    x = ember.tensor(distinct(3, 4), requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("shapes", [[(3, 4), (4, 2)], [(2, 1, 3, 2), (2, 2, 3)], [(4,), (4, 3)],
                                    [(3,), (3,)]])
def test_gradgradcheck_matmul(shapes):
    rng = np.random.default_rng(0)
    a, b = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradgradcheck(lambda x, y: x @ y, (a, b))


def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(0)
    A, x0, v = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3)

    def hvp(m, autograd):
        At = m.tensor(A)
        x = m.tensor(x0, requires_grad=True)
        f = m.logsumexp(At @ x, 0) + (x * x).sum() * 0.5 + x.norm()
        (g,) = autograd.grad(f, [x], create_graph=True)
        (h,) = autograd.grad((g * m.tensor(v)).sum(), [x])
        return h

    ours = hvp(ember, ember.autograd)
    ref = hvp(torch, torch.autograd)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
