"""Sorting and selection ops (ember/ops/sorting.py), each compared with PyTorch: values, indices,
dtypes and gradients, plus finite-difference gradcheck and, for sort/topk and friends,
gradgradcheck.

Where PyTorch's answer among ties is unspecified (sort without ``stable``, topk, kthvalue, the
index of median) the inputs have distinct values; where it is specified (stable sort, mode on
short rows, the evenly shared gradient of a global median, unique) the inputs hold ties on
purpose."""

import numpy as np
import pytest
import torch
from helpers import check

import ember
from ember.autograd.gradcheck import gradcheck, gradgradcheck

CASES = [((5,), 0), ((6,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), 1),
         ((2, 3, 4), -1)]
FLAGS = [False, True]


def distinct(*shape, seed=0):
    """Random values with no ties, spread over [-2, 2]."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) + rng.uniform(0.1, 0.9, n)).reshape(shape) / max(n, 1) * 4 - 2


def ties(*shape, seed=0, levels=3):
    """Random values drawn from a few levels, so that most slices hold repeated values."""
    return np.random.default_rng(seed).integers(0, levels, size=shape).astype(np.float64) - 1


def with_nans(a, seed=0, frac=0.25):
    a = np.array(a, dtype=np.float64)
    mask = np.random.default_rng(seed).uniform(size=a.shape) < frac
    a[mask] = np.nan
    return a


def same_error(fn, *arrays):
    """Run ``fn`` with torch and with ember on the same inputs; both must raise the same type.
    Returns ember's exception (to match its message)."""
    with pytest.raises(Exception) as t_err:
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(t_err.type) as e_err:
        fn(ember, *[ember.tensor(a) for a in arrays])
    return e_err.value


# ------------------------------------------------------------------------------------ sort


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("descending", FLAGS)
def test_sort(shape, dim, descending):
    check(lambda m, x: m.sort(x, dim, descending), [], inputs=[distinct(*shape)])


@pytest.mark.parametrize("shape,dim", [((12,), 0), ((4, 9), 1), ((8, 3), 0), ((2, 5, 6), -1)])
@pytest.mark.parametrize("descending", FLAGS)
def test_sort_stable_ties(shape, dim, descending):
    check(lambda m, x: x.sort(dim=dim, descending=descending, stable=True), [],
          inputs=[ties(*shape)], gradcheck_=False)
    check(lambda m, x: m.argsort(x, dim=dim, descending=descending, stable=True), [], inputs=[ties(*shape)])


def test_sort_variants():
    check(lambda m, x: x.sort(), [()])
    check(lambda m, x: m.sort(x, 0, True), [()])
    check(lambda m, x: x.sort(0), [(0, 3)])
    check(lambda m, x: x.sort(stable=True), [], inputs=[np.array([3, 1, 2, 1, 3, 0])])
    check(lambda m, x: x.sort(descending=True, stable=True), [],
          inputs=[np.array([True, False, True, False])])
    nan = with_nans(distinct(3, 5))
    # NaNs tie: torch's unstable CUDA sort orders them its own way
    check(lambda m, x: x.sort(1), [], inputs=[nan], gradcheck_=False, vs_torch_cuda=False)
    check(lambda m, x: x.sort(1, descending=True), [], inputs=[nan], gradcheck_=False,
          vs_torch_cuda=False)
    check(lambda m, x: m.msort(x), [], inputs=[distinct(4, 3)])
    check(lambda m, x: x.msort(), [], inputs=[distinct(5)])
    check(lambda m, x: x.argsort(), [], inputs=[distinct(3, 4)])
    check(lambda m, x: x.argsort(0, descending=True), [], inputs=[distinct(3, 4)])
    check(lambda m, x: x.sort(1), [], inputs=[distinct(3, 4).astype(np.float32)], gradcheck_=False)


def test_sort_result_is_named_tuple():
    r = ember.tensor(distinct(3, 4)).sort(1)
    values, indices = r
    assert type(r).__name__ == "sort" and r.values is values and r.indices is indices
    assert indices.dtype == ember.int64


# ------------------------------------------------------------------------------------ topk


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("largest", FLAGS)
@pytest.mark.parametrize("k", [0, 1, 2])
def test_topk(shape, dim, largest, k):
    check(lambda m, x: m.topk(x, k, dim, largest), [], inputs=[distinct(*shape)])


def test_topk_variants():
    check(lambda m, x: x.topk(5), [], inputs=[distinct(3, 5)])
    check(lambda m, x: x.topk(1), [()])
    check(lambda m, x: x.topk(3, dim=0, largest=False), [], inputs=[np.array([5, 2, 7, 1, 9])])
    # with sorted=False the order is unspecified: compare the values sorted
    check(lambda m, x: x.topk(3, sorted=False).values.sort().values, [], inputs=[distinct(4, 6)])
    # ties: the values are determined, which tied index wins is not
    check(lambda m, x: x.topk(3, 1).values, [], inputs=[ties(4, 7)], grad=False)
    check(lambda m, x: x.topk(2, 1).values, [], inputs=[with_nans(distinct(3, 5))], grad=False)


# -------------------------------------------------------------------------------- kthvalue


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("keepdim", FLAGS)
@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_kthvalue(shape, dim, keepdim, which):
    n = shape[dim]
    k = {"first": 1, "middle": (n + 1) // 2, "last": n}[which]
    check(lambda m, x: m.kthvalue(x, k, dim, keepdim), [], inputs=[distinct(*shape)])


def test_kthvalue_variants():
    check(lambda m, x: x.kthvalue(2), [], inputs=[distinct(4, 5)])
    check(lambda m, x: x.kthvalue(1), [()])
    check(lambda m, x: x.kthvalue(3, 1).values, [], inputs=[ties(5, 6)], grad=False)
    check(lambda m, x: x.kthvalue(2, 0, True), [], inputs=[np.array([[4, 1], [2, 8], [9, 3]])])


# ---------------------------------------------------------------------------------- median


@pytest.mark.parametrize("shape", [(5,), (6,), (3, 4), (2, 3, 5)])
def test_median_global(shape):
    check(lambda m, x: x.median(), [], inputs=[distinct(*shape)])
    check(lambda m, x: m.nanmedian(x), [], inputs=[distinct(*shape)])


def test_median_global_ties_share_the_gradient():
    # torch splits the gradient evenly over every element equal to the median; finite differences
    # cannot see that choice (perturbing one tied element moves the median off the others)
    check(lambda m, x: x.median(), [], inputs=[ties(4, 5)], gradcheck_=False)
    check(lambda m, x: x.nanmedian(), [], inputs=[ties(4, 5)], gradcheck_=False)


def test_median_global_nan():
    a = with_nans(distinct(3, 4))
    check(lambda m, x: x.median(), [], inputs=[a], gradcheck_=False)
    check(lambda m, x: x.nanmedian(), [], inputs=[a])
    check(lambda m, x: x.nanmedian(), [], inputs=[np.full((2, 2), np.nan)], gradcheck_=False)
    check(lambda m, x: x.median(), [], inputs=[np.zeros(0)])
    check(lambda m, x: x.median(), [], inputs=[np.array([3, 9, 1, 4], dtype=np.int64)])


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("keepdim", FLAGS)
def test_median_dim(shape, dim, keepdim):
    check(lambda m, x: m.median(x, dim, keepdim), [], inputs=[distinct(*shape)])
    check(lambda m, x: m.nanmedian(x, dim, keepdim), [], inputs=[distinct(*shape)])


def test_median_dim_variants():
    check(lambda m, x: x.median(0), [()])
    check(lambda m, x: x.median(1).values, [], inputs=[ties(4, 6)], grad=False)
    check(lambda m, x: x.median(1), [], inputs=[np.zeros((0, 3))])
    # at most one NaN per row, so that the index PyTorch returns for it is unambiguous
    a = distinct(4, 5)
    a[1, 3] = a[3, 0] = np.nan
    check(lambda m, x: x.median(1), [], inputs=[a], gradcheck_=False)
    check(lambda m, x: x.nanmedian(1), [], inputs=[a])
    check(lambda m, x: x.nanmedian(1, keepdim=True), [], inputs=[a])
    b = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 2.0]])
    check(lambda m, x: x.nanmedian(1).values, [], inputs=[b], gradcheck_=False)


# ------------------------------------------------------------------------------------ mode


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("keepdim", FLAGS)
def test_mode(shape, dim, keepdim):
    # rows shorter than 16, where PyTorch's CPU kernel reports the last occurrence (its CUDA
    # kernel picks among tied modes its own way)
    check(lambda m, x: m.mode(x, dim, keepdim), [], inputs=[ties(*shape, seed=1)],
          gradcheck_=False, vs_torch_cuda=False)
    check(lambda m, x: m.mode(x, dim, keepdim), [], inputs=[distinct(*shape)])


def test_mode_variants():
    # 1 and 2 (and 3 and 1 in column 0) tie: torch's CUDA kernel picks its own
    check(lambda m, x: x.mode(), [], inputs=[np.array([1, 2, 2, 1, 3, 1, 2])], vs_torch_cuda=False)
    check(lambda m, x: x.mode(0), [], inputs=[np.array([[3, 3], [1, 1], [1, 2], [3, 2]])],
          vs_torch_cuda=False)
    check(lambda m, x: x.mode(), [()])
    check(lambda m, x: x.mode(), [], inputs=[np.array([True, False, True])])


# -------------------------------------------------------------------------------- quantile


INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", FLAGS)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile(dim, keepdim, interpolation):
    x = distinct(3, 5)
    q = np.array([0.0, 0.3, 0.5, 0.9, 1.0])
    check(lambda m, x, q: m.quantile(x, q, dim, keepdim, interpolation=interpolation), [],
          inputs=[x, q], grad_inputs=[True, False])
    check(lambda m, x: m.quantile(x, 0.4, dim, keepdim, interpolation=interpolation), [],
          inputs=[x])
    check(lambda m, x: m.nanquantile(x, 0.7, dim, keepdim, interpolation=interpolation), [],
          inputs=[with_nans(x)])


def test_quantile_variants():
    check(lambda m, x, q: x.quantile(q), [], inputs=[distinct(2, 3, 4), np.array(0.25)],
          grad_inputs=[True, False])
    check(lambda m, x, q: x.quantile(q, 1), [], inputs=[distinct(2, 3, 4), np.array([0.5])],
          grad_inputs=[True, False])
    check(lambda m, x: x.quantile(0.3, 0, keepdim=True), [()])
    # ranks exactly halfway between two order statistics: nearest rounds half to even
    check(lambda m, x, q: x.quantile(q, interpolation="nearest"), [],
          inputs=[distinct(5), np.array([0.125, 0.375, 0.625, 0.875])], grad_inputs=[True, False])
    # a slice holding NaN gives NaN; nanquantile skips NaN (all-NaN slices give NaN)
    a = with_nans(distinct(4, 6), seed=2)
    a[2] = np.nan
    check(lambda m, x: x.quantile(0.5, 1), [], inputs=[a], gradcheck_=False)
    check(lambda m, x: x.nanquantile(0.5, 1), [], inputs=[a], gradcheck_=False)
    check(lambda m, x: x.nanquantile(0.5), [], inputs=[a], gradcheck_=False)
    check(lambda m, x: x.quantile(0.5, 1), [], inputs=[distinct(3, 4).astype(np.float32)],
          gradcheck_=False)


# ---------------------------------------------------------------------------- nansum, nanmean


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", FLAGS)
def test_nansum_nanmean(dim, keepdim):
    a = with_nans(distinct(2, 3, 4), seed=3, frac=0.2)
    if dim is None and not keepdim:
        check(lambda m, x: x.nansum(), [], inputs=[a])
        check(lambda m, x: x.nanmean(), [], inputs=[a])
    else:
        check(lambda m, x: m.nansum(x, dim, keepdim), [], inputs=[a])
        check(lambda m, x: m.nanmean(x, dim, keepdim), [], inputs=[a])


@pytest.mark.filterwarnings("ignore:(divide by zero|invalid value):RuntimeWarning")
def test_nansum_nanmean_variants():  # 0/0 for an all-NaN slice: PyTorch gives NaN silently
    check(lambda m, x: x.nansum(1), [], inputs=[np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)])
    check(lambda m, x: x.nansum(dtype=m.float32), [], inputs=[with_nans(distinct(5))],
          gradcheck_=False)
    check(lambda m, x: x.nansum(), [()])
    all_nan = np.array([[np.nan, np.nan], [1.0, np.nan]])
    check(lambda m, x: x.nanmean(1), [], inputs=[all_nan], gradcheck_=False)
    check(lambda m, x: x.nansum(1), [], inputs=[all_nan])
    with pytest.raises(RuntimeError, match="nanmean.*int64"):
        ember.tensor([1, 2]).nanmean()


# ------------------------------------------------------------------ second-order gradients


def test_gradgradcheck():
    x = ember.tensor(distinct(3, 5), requires_grad=True)
    assert gradgradcheck(lambda t: t.sort(1).values, (x,))
    assert gradgradcheck(lambda t: t.sort(0, descending=True).values, (x,))
    assert gradgradcheck(lambda t: t.topk(2, 1).values, (x,))
    assert gradgradcheck(lambda t: t.topk(2, 0, largest=False).values, (x,))
    assert gradgradcheck(lambda t: t.kthvalue(2, 1).values, (x,))
    assert gradgradcheck(lambda t: t.median(1).values, (x,))
    assert gradgradcheck(lambda t: t.quantile(0.3, 1) ** 2, (x,))


def _with_nan(x):
    return x.masked_fill(ember.tensor(np.isnan(_NAN_AT)), float("nan"))


_NAN_AT = np.where(np.eye(3, 5, 1) > 0, np.nan, 0.0)

GRAD_CASES = [
    ("sort", lambda t: t.sort(1, descending=True).values),
    ("msort", lambda t: ember.msort(t)),
    ("topk", lambda t: t.topk(3, 1).values),
    ("kthvalue", lambda t: t.kthvalue(2, 0, keepdim=True).values),
    ("median", lambda t: t.median(1).values),
    ("median_all", lambda t: t.median()),
    ("nanmedian", lambda t: _with_nan(t).nanmedian(1).values),
    ("mode", lambda t: t.mode(1).values),
    ("quantile", lambda t: t.quantile(ember.tensor([0.2, 0.7], dtype=ember.float64), 1)),
    ("nanquantile", lambda t: _with_nan(t).nanquantile(0.4, 1, interpolation="midpoint")),
    ("nansum", lambda t: _with_nan(t).nansum(0)),
    ("nanmean", lambda t: _with_nan(t).nanmean(1, keepdim=True)),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_and_gradgradcheck_per_op(name, fn):
    """First and second derivatives of every differentiable op here, float64, distinct values."""
    x = ember.tensor(distinct(3, 5, seed=2), requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_double_backward_matches_torch():
    a = distinct(3, 5)
    grads = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        y = (x.sort(1).values * m.tensor(a)).sum() + (x.topk(3, 1).values ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        grads.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-10)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-10)


# ---------------------------------------------------------------- unique, unique_consecutive


@pytest.mark.parametrize("inverse", FLAGS)
@pytest.mark.parametrize("counts", FLAGS)
def test_unique(inverse, counts):
    ints = np.random.default_rng(0).integers(0, 5, size=(4, 6))
    check(lambda m, x: m.unique(x, return_inverse=inverse, return_counts=counts), [], inputs=[ints])
    check(lambda m, x: x.unique(sorted=True, return_inverse=inverse, return_counts=counts), [],
          inputs=[ties(3, 4)], grad=False)
    check(lambda m, x: m.unique_consecutive(x, return_inverse=inverse, return_counts=counts), [],
          inputs=[np.array([1, 1, 2, 2, 3, 1, 1, 2])])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("inverse", FLAGS)
@pytest.mark.parametrize("counts", FLAGS)
def test_unique_dim(dim, inverse, counts):
    rows = np.array([[1, 2, 1, 0], [3, 1, 3, 0], [1, 2, 1, 0], [0, 5, 0, 1], [3, 1, 3, 0]])
    check(lambda m, x: m.unique(x, dim=dim, return_inverse=inverse, return_counts=counts), [],
          inputs=[rows])
    check(lambda m, x: x.unique_consecutive(return_inverse=inverse, return_counts=counts,
                                            dim=dim), [], inputs=[rows[[0, 2, 1, 4, 3, 3]]])
    check(lambda m, x: m.unique(x, dim=dim, return_inverse=inverse), [],
          inputs=[np.random.default_rng(1).integers(0, 2, size=(3, 4, 5))])


def test_unique_variants():
    check(lambda m, x: x.unique(return_inverse=True, return_counts=True), [()], grad=False)
    check(lambda m, x: x.unique(), [], inputs=[np.array([True, False, True])])
    check(lambda m, x: x.unique(return_counts=True), [], inputs=[np.zeros(0, dtype=np.int64)])
    # sorted=False leaves the order unspecified: compare as sets
    check(lambda m, x: x.unique(sorted=False).sort().values, [], inputs=[np.array([3, 1, 2, 1, 5])])


# ---------------------------------------------------------------- searchsorted, bucketize


@pytest.mark.parametrize("right", FLAGS)
def test_searchsorted(right):
    seq = np.array([-1.0, 0.0, 0.0, 1.5, 2.0])
    vals = np.array([[-3.0, -1.0, 0.0, 0.7], [1.5, 2.0, 2.5, 0.0]])
    check(lambda m, s, v: m.searchsorted(s, v, right=right), [], inputs=[seq, vals])
    check(lambda m, s, v: m.searchsorted(s, v, side="right" if right else "left"), [],
          inputs=[seq, vals])
    check(lambda m, s, v: m.searchsorted(s, v, right=right, out_int32=True), [],
          inputs=[seq, vals])
    # N-D boundaries: one sorted row per row of values
    rng = np.random.default_rng(4)
    seq2 = np.sort(rng.integers(0, 6, size=(2, 3, 7)), axis=-1).astype(np.float64)
    vals2 = rng.integers(-1, 7, size=(2, 3, 5)).astype(np.float64)
    check(lambda m, s, v: m.searchsorted(s, v, right=right), [], inputs=[seq2, vals2])
    check(lambda m, s, v: m.bucketize(v, s, right=right), [], inputs=[seq, vals])
    check(lambda m, s, v: m.bucketize(v, s, right=right, out_int32=True), [],
          inputs=[np.array([1, 3, 5, 7]), np.array([0, 1, 2, 3, 7, 8])])


def test_searchsorted_variants():
    seq = np.array([1.0, 2.0, 2.0, 3.0])
    check(lambda m, s: m.searchsorted(s, 2.0), [], inputs=[seq])
    check(lambda m, s: m.searchsorted(s, 2, right=True), [], inputs=[seq])
    check(lambda m, s: m.bucketize(2.0, s), [], inputs=[seq])
    check(lambda m, s, v: m.searchsorted(s, v), [], inputs=[np.array([1, 2, 3]), np.array([1.5, 3.0])])
    unsorted = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    check(lambda m, s, v, o: m.searchsorted(s, v, sorter=o), [],
          inputs=[unsorted, np.array([[2.0, 0.5], [0.0, 6.0]]), np.argsort(unsorted, axis=-1)])
    check(lambda m, s, v: m.searchsorted(s, v, side="right"), [],
          inputs=[np.array([[1.0, 2.0, 2.0]]), np.array([[2.0]])])


# -------------------------------------------------------------------------- bincount, histc


def test_bincount():
    x = np.array([0, 3, 3, 1, 7, 3, 0])
    check(lambda m, x: x.bincount(), [], inputs=[x])
    check(lambda m, x: m.bincount(x, minlength=10), [], inputs=[x])
    check(lambda m, x: m.bincount(x, minlength=2), [], inputs=[x])
    check(lambda m, x: m.bincount(x), [], inputs=[np.zeros(0, dtype=np.int64)])
    check(lambda m, x: m.bincount(x, minlength=3), [], inputs=[np.zeros(0, dtype=np.int64)])
    check(lambda m, x: m.bincount(x), [], inputs=[x.astype(np.uint8)])
    w = np.random.default_rng(0).uniform(-1, 1, size=x.shape)
    check(lambda m, x, w: m.bincount(x, w), [], inputs=[x, w], grad=False)
    check(lambda m, x, w: x.bincount(weights=w, minlength=9), [], inputs=[x, w.astype(np.float32)],
          grad=False)
    check(lambda m, x, w: x.bincount(w), [], inputs=[x, np.arange(7)])


def test_histc():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(500)
    check(lambda m, x: x.histc(), [], inputs=[a], grad=False)
    check(lambda m, x: m.histc(x, bins=7), [], inputs=[a.astype(np.float32)], grad=False)
    check(lambda m, x: m.histc(x, 10, -1, 1.5), [], inputs=[a], grad=False)
    check(lambda m, x: x.histc(4, 0, 1), [], inputs=[np.array([0, 0.25, 0.5, 0.75, 1, 1.5, -1])],
          grad=False)
    check(lambda m, x: x.histc(4), [], inputs=[np.array([2.0, 2.0])], grad=False)
    check(lambda m, x: x.histc(3, 5, 5), [], inputs=[np.array([1.0, 2.0, 3.0])], grad=False)
    check(lambda m, x: x.histc(3), [], inputs=[np.zeros(0)], grad=False)
    check(lambda m, x: x.histc(5, 0, 2), [], inputs=[np.array([np.nan, 1.0, 0.5])], grad=False)
    # values spread finely across bin edges: the bin arithmetic must match PyTorch's exactly
    fine = np.arange(0, 1, 0.001, dtype=np.float32)
    for bins in (3, 7, 13, 100):
        check(lambda m, x, bins=bins: x.histc(bins, 0, 0.999), [], inputs=[fine], grad=False)
    # an element where (x - min) * bins / (max - min) and (x - min) / (max - min) * bins round
    # to different bins in float32: PyTorch multiplies first
    edge = np.array([1.0683979988098145, 0.5], dtype=np.float32)
    check(lambda m, x: x.histc(43, -0.47618037462234497, 2.4115097522735596), [], inputs=[edge],
          grad=False)


# ------------------------------------------------------------------------------------ errors


def test_k_out_of_range():
    a = distinct(2, 3)
    err = same_error(lambda m, x: m.topk(x, 4), a)
    assert "topk" in str(err) and "k=4" in str(err) and "size 3" in str(err)
    err = same_error(lambda m, x: m.topk(x, -1, 0), a)
    assert "topk" in str(err) and "k=-1" in str(err) and "(2, 3)" in str(err)
    err = same_error(lambda m, x: m.kthvalue(x, 4), a)
    assert "kthvalue" in str(err) and "k=4" in str(err) and "(2, 3)" in str(err)
    err = same_error(lambda m, x: m.kthvalue(x, 0, 0), a)
    assert "kthvalue" in str(err) and "k=0" in str(err)
    same_error(lambda m, x: m.topk(x, 1.0), a)


@pytest.mark.parametrize("op", [
    lambda m, x: m.sort(x, 2), lambda m, x: m.argsort(x, -3), lambda m, x: m.topk(x, 1, 2),
    lambda m, x: m.kthvalue(x, 1, 5), lambda m, x: m.median(x, 2), lambda m, x: m.nanmedian(x, -3),
    lambda m, x: m.mode(x, 2), lambda m, x: m.quantile(x, 0.5, 2),
])
def test_bad_dim(op):
    err = same_error(op, distinct(2, 3))
    assert "Dimension out of range" in str(err) and "(2, 3)" in str(err)
    assert str(err).split("(")[0] in ("sort", "argsort", "topk", "kthvalue", "median", "nanmedian",
                                      "mode", "quantile")


def test_other_errors():
    a = distinct(2, 3)
    assert "median" in str(same_error(lambda m, x: m.median(x, 0), np.zeros((0, 3))))
    assert "mode" in str(same_error(lambda m, x: m.mode(x, 0), np.zeros((0, 3))))
    assert "range [0, 1]" in str(same_error(lambda m, x: m.quantile(x, 1.5), a))
    assert "range [0, 1]" in str(same_error(lambda m, x, q: m.quantile(x, q), a, np.array([0.5, -0.1])))
    assert "1D" in str(same_error(lambda m, x, q: m.quantile(x, q), a, np.array([[0.5]])))
    assert "same dtype" in str(same_error(lambda m, x, q: m.quantile(x, q), a,
                                          np.array([0.5], dtype=np.float32)))
    assert "interpolation" in str(same_error(lambda m, x: m.quantile(x, 0.5, interpolation="x"), a))
    assert "float or double" in str(same_error(lambda m, x: m.quantile(x, 0.5), np.arange(3)))
    assert "non-empty" in str(same_error(lambda m, x: m.quantile(x, 0.5), np.zeros(0)))
    assert "non-negative" in str(same_error(lambda m, x: m.bincount(x), np.array([1, -1])))
    assert "non-negative" in str(same_error(lambda m, x: m.bincount(x), np.array([[1]])))
    same_error(lambda m, x: m.bincount(x), np.array([1.0]))
    assert "same length" in str(same_error(lambda m, x, w: m.bincount(x, w), np.array([1, 2]),
                                           np.ones(3)))
    assert "minlength" in str(same_error(lambda m, x: m.bincount(x, minlength=-1), np.array([1])))
    assert "larger than min" in str(same_error(lambda m, x: m.histc(x, 3, 2, 1), a))
    assert "not finite" in str(same_error(lambda m, x: m.histc(x), np.array([1.0, np.inf])))
    assert "bins" in str(same_error(lambda m, x: m.histc(x, 0), a))
    same_error(lambda m, x: m.histc(x), np.arange(3))
    err = same_error(lambda m, s, v: m.searchsorted(s, v), np.zeros((2, 3)), np.zeros((3, 1)))
    assert "[2, 3]" in str(err) and "[3, 1]" in str(err)
    assert "scalar" in str(same_error(lambda m, s: m.searchsorted(s, 1.0), np.zeros((2, 3))))
    assert "opposites" in str(same_error(lambda m, s, v: m.searchsorted(s, v, right=True, side="left"),
                                         np.zeros(3), np.zeros(2)))
    assert "1 dimension" in str(same_error(lambda m, s, v: m.bucketize(v, s), np.zeros((2, 3)),
                                           np.zeros(2)))
    same_error(lambda m, x: m.unique(x, dim=2), a)
    assert "0 sized" in str(same_error(lambda m, x: m.unique(x, dim=0), np.zeros((3, 0))))


def test_tensor_methods_and_public_names():
    t = ember.zeros(2, 3)
    for name in ("sort argsort msort topk kthvalue median nanmedian mode quantile nanquantile "
                 "nansum nanmean unique unique_consecutive bincount histc").split():
        assert hasattr(t, name) and hasattr(torch.Tensor, name), name
    for name in ("searchsorted", "bucketize"):
        assert hasattr(ember, name) and not hasattr(t, name), name
