"""ember.linalg against torch.linalg: values and gradients on the same inputs, finite-difference
gradcheck, gradgradcheck for the ops networks differentiate twice, and the errors.

Inputs are made well conditioned inside the lambdas, so that both frameworks see the same
matrices: ``wc`` adds a multiple of the identity, ``spd`` builds ``X X^T + n I`` and ``sym``
``X + X^T``. Eigenvectors and singular vectors are only defined up to sign, so the tests flip
each one to make its first entry positive, the same way in both frameworks (``fix_cols``).
"""

import math

import numpy as np
import pytest
import torch
from helpers import check, make_inputs

import ember
from ember.autograd.gradcheck import gradcheck, gradgradcheck

INF = math.inf


def eye(m, x):
    n = x.shape[-1]
    return m.eye(n, dtype=x.dtype, device=x.device)


def wc(m, x):
    """A well-conditioned square matrix: diagonally dominant for inputs in [-2, 2]."""
    return x + 2 * x.shape[-1] * eye(m, x)


def spd(m, x):
    return x @ x.mT + x.shape[-1] * eye(m, x)


def sym(m, x):
    return x + x.mT


def fix_cols(m, v, rows=False):
    """Columns (``rows``: rows) of ``v`` flipped so that their first entry is positive."""
    if rows:
        return v * m.sign(v[..., :, :1])
    return v * m.sign(v[..., :1, :])


def ggc(fn, *shapes, seed=0):
    xs = [ember.tensor(a, requires_grad=True) for a in make_inputs(shapes, seed=seed)]
    assert gradgradcheck(fn, tuple(xs))


# ------------------------------------------------------------------------------------ norms

ORDS = [2, 1, INF, -INF, 0, 3, 0.5, -1.5]


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (-1, False), ((0, 2), True), (1, True)])
def test_vector_norm(ord, dim, keepdim):
    check(lambda m, x: m.linalg.vector_norm(x, ord, dim, keepdim), [(2, 3, 4)])


def test_vector_norm_dtype_and_zero_subgradient():
    check(lambda m, x: m.linalg.vector_norm(x.float(), dtype=m.float64), [(3, 4)], atol=1e-5,
          gradcheck_=False)
    check(lambda m, x: m.linalg.vector_norm(x, dim=1), [(2, 3)], inputs=[np.zeros((2, 3))])
    check(lambda m, x: m.linalg.vector_norm(x, 3), [(2, 3)], inputs=[np.zeros((2, 3))])


def test_vector_norm_gradgrad():
    ggc(lambda x: ember.linalg.vector_norm(x), (3, 4))
    ggc(lambda x: ember.linalg.vector_norm(x, 3, dim=1), (3, 4))
    ggc(lambda x: ember.linalg.vector_norm(x, 1.5, dim=0, keepdim=True), (3, 4))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, INF, -INF, 2, -2])
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (2, 3, 5)])
def test_matrix_norm(ord, shape):
    check(lambda m, x: m.linalg.matrix_norm(x, ord), [shape])


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -INF, -2])
def test_matrix_norm_dims_keepdim(ord):
    check(lambda m, x: m.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True), [(3, 2, 4)])


NORM_CASES = [
    lambda m, x: m.linalg.norm(x),
    lambda m, x: m.linalg.norm(x, dim=1),
    lambda m, x: m.linalg.norm(x, 1, dim=(0, 2)),
    lambda m, x: m.linalg.norm(x, 3, dim=2),
    lambda m, x: m.linalg.norm(x, -INF, dim=-1, keepdim=True),
    lambda m, x: m.linalg.norm(x, "nuc", dim=(0, 1)),
    lambda m, x: m.linalg.norm(x[0], 2),
    lambda m, x: m.linalg.norm(x[0], INF),
    lambda m, x: m.linalg.norm(x[0], "fro"),
    lambda m, x: m.linalg.norm(x[0, 0], 1),
    lambda m, x: m.linalg.norm(x[0, 0], keepdim=True),
]


@pytest.mark.parametrize("case", range(len(NORM_CASES)))
def test_norm_dispatch(case):
    check(NORM_CASES[case], [(3, 4, 5)])


@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_from_singular_values(p):
    check(lambda m, x: m.linalg.cond(x, p), [(2, 4, 3)])


@pytest.mark.parametrize("p", ["fro", "nuc", 1, INF])
def test_cond_from_norms(p):
    # torch's own cond cannot be differentiated for these p (it changes a saved tensor in
    # place): its gradient is compared through the definition
    check(lambda m, x: m.linalg.cond(wc(m, x), p), [(2, 3, 3)],
          torch_fn=lambda m, x: (m.linalg.matrix_norm(wc(m, x), p)
                                 * m.linalg.matrix_norm(m.linalg.inv(wc(m, x)), p)))


# ------------------------------------------------------------------------ inverse and det


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (2, 1, 3, 3)])
def test_inv(shape):
    check(lambda m, x: m.linalg.inv(wc(m, x)), [shape])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_det_slogdet(shape):
    check(lambda m, x: m.linalg.det(wc(m, x)), [shape])
    check(lambda m, x: m.linalg.det(x), [shape])
    check(lambda m, x: m.linalg.slogdet(x), [shape])
    check(lambda m, x: tuple(m.linalg.slogdet(-wc(m, x))), [shape])


def test_det_of_singular_matrices():
    """rank n - 1 has a nonzero gradient (the cofactor matrix), rank n - 2 a zero one."""
    check(lambda m, x, y: m.linalg.det(x @ y), [(2, 3, 2), (2, 2, 3)])
    check(lambda m, x, y: m.linalg.det(x @ y), [(2, 4, 3), (2, 3, 4)])
    check(lambda m, x, y: m.linalg.det(x @ y), [(4, 1), (1, 4)])
    check(lambda m, x: m.linalg.det(x), [(3, 3)], inputs=[np.zeros((3, 3))])
    # an exactly zero det: torch 2.13 returns a zero gradient there, but the cofactor matrix
    # (nonzero here) is the derivative, so the reference is det written as a triple product
    check(lambda m, x: m.linalg.det(x), [(3, 3)], inputs=[np.diag([-1.0, 2.0, 0.0])[[1, 0, 2]]],
          torch_fn=lambda m, x: m.linalg.vecdot(x[0], m.linalg.cross(x[1], x[2])))


def test_slogdet_is_a_named_tuple():
    x = ember.tensor(np.diag([2.0, -3.0]))
    res = ember.linalg.slogdet(x)
    assert type(res).__name__ == "linalg_slogdet" and res.sign.item() == -1.0
    assert abs(res.logabsdet.item() - math.log(6.0)) < 1e-12


def second_order_vs_torch(fn, *shapes):
    """The gradient taken with ``create_graph=True`` and a Hessian-vector product built from it
    match torch's."""
    arrays = make_inputs(shapes, seed=3)
    directions = [np.cos(np.arange(a.size)).reshape(a.shape) for a in arrays]
    results = []
    for m in (torch, ember):
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        out = fn(m, *xs)
        up = m.tensor(np.random.default_rng(4).standard_normal(tuple(out.shape)))
        gs = m.autograd.grad([out], xs, [up], create_graph=True)
        hv = m.autograd.grad([sum((g * m.tensor(v)).sum() for g, v in zip(gs, directions))], xs)
        results.append([t.detach().numpy() for t in list(gs) + list(hv)])
    for t, e in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn,shapes", [
    (lambda m, x: m.linalg.det(wc(m, x)), [(2, 3, 3)]),
    (lambda m, x: m.linalg.det(-wc(m, x)), [(3, 3)]),
    (lambda m, x, y: m.linalg.det(x @ y), [(2, 4, 3), (2, 3, 4)]),
    (lambda m, x: m.linalg.slogdet(wc(m, x))[1], [(3, 3)]),
    (lambda m, x: m.linalg.inv(wc(m, x)), [(2, 3, 3)]),
    (lambda m, a, b: m.linalg.solve(wc(m, a), b), [(2, 3, 3), (3, 2)]),
    (lambda m, x: m.linalg.cholesky(spd(m, x)), [(3, 3)]),
    (lambda m, x: m.linalg.vector_norm(x, 3, dim=1), [(3, 4)]),
    (lambda m, x: m.linalg.pinv(x), [(4, 3)]),
    (lambda m, x: m.linalg.svdvals(x), [(2, 4, 3)]),
    (lambda m, x: m.linalg.eigvalsh(sym(m, x)), [(3, 3)]),
])
def test_second_order_matches_torch(fn, shapes):
    second_order_vs_torch(fn, *shapes)


def test_inverse_and_det_gradgrad():
    ggc(lambda x: ember.linalg.inv(wc(ember, x)), (2, 3, 3))
    ggc(lambda x: ember.linalg.det(wc(ember, x)), (2, 3, 3))
    ggc(lambda x, y: ember.linalg.det(x @ y), (3, 2), (2, 3))
    ggc(lambda x: ember.linalg.slogdet(wc(ember, x)).logabsdet, (3, 3))


# ------------------------------------------------------------------------------------ solve

SOLVE_CASES = [
    ((3, 3), (3,), True),
    ((3, 3), (3, 2), True),
    ((2, 3, 3), (2, 3), True),  # a batch of vectors
    ((2, 3, 3), (3, 4), True),  # B broadcast over A's batch
    ((3, 3), (2, 3, 1), True),  # A broadcast over B's batch
    ((2, 1, 3, 3), (4, 3, 2), True),
    ((3, 3), (2, 3), False),
    ((2, 3, 3), (2, 4, 3), False),
]


@pytest.mark.parametrize("sa,sb,left", SOLVE_CASES)
def test_solve(sa, sb, left):
    check(lambda m, a, b: m.linalg.solve(wc(m, a), b, left=left), [sa, sb])


def test_solve_gradgrad():
    ggc(lambda a, b: ember.linalg.solve(wc(ember, a), b), (2, 3, 3), (3, 2))
    ggc(lambda a, b: ember.linalg.solve(wc(ember, a), b, left=False), (3, 3), (2, 3))


# --------------------------------------------------------------------------------- cholesky


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, upper):
    check(lambda m, x: m.linalg.cholesky(spd(m, x), upper=upper), [shape])


def test_cholesky_reads_one_triangle():
    # the gradient is symmetric, as torch's, so finite differences (which see one triangle
    # only) would disagree by design
    check(lambda m, x: m.linalg.cholesky(spd(m, x).tril()), [(3, 3)], gradcheck_=False)
    check(lambda m, x: m.linalg.cholesky(spd(m, x).triu(), upper=True), [(3, 3)],
          gradcheck_=False)


def test_cholesky_gradgrad():
    ggc(lambda x: ember.linalg.cholesky(spd(ember, x)), (2, 3, 3))
    ggc(lambda x: ember.linalg.cholesky(spd(ember, x), upper=True), (3, 3))


# --------------------------------------------------------------------------------------- QR


def qr_fixed(m, x, mode="reduced"):
    """QR with R's diagonal made positive (Q's columns and R's rows flipped together)."""
    q, r = m.linalg.qr(x, mode=mode)
    k = min(x.shape[-2:])
    d = m.sign(m.linalg.diagonal(r))
    return q[..., :, :k] * d.unsqueeze(-2), r * d.unsqueeze(-1)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3), (2, 2, 4)])
def test_qr(shape):
    check(lambda m, x: qr_fixed(m, x), [shape])


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5)])
def test_qr_complete_wide(shape):
    check(lambda m, x: qr_fixed(m, x, "complete"), [shape])


def test_qr_modes_without_gradient():
    check(lambda m, x: m.linalg.qr(x, mode="complete")[1].abs(), [(2, 5, 3)], grad=False)
    check(lambda m, x: m.linalg.qr(x, mode="r")[1].abs(), [(2, 5, 3)], grad=False)
    q, r = ember.linalg.qr(ember.randn(4, 3), mode="r")
    assert tuple(q.shape) == (0,) and tuple(r.shape) == (3, 3)
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    for mode, msg in [("complete", "nrows > ncols"), ("r", "not computed when mode='r'")]:
        with pytest.raises(RuntimeError, match=msg):
            ember.linalg.qr(x, mode=mode)[1].sum().backward()


def test_qr_gradgrad():
    ggc(lambda x: qr_fixed(ember, x), (4, 3))
    ggc(lambda x: qr_fixed(ember, x), (2, 4))


# ------------------------------------------------------------------------------------ eigh


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(shape, uplo):
    def fn(m, x):
        w, v = m.linalg.eigh(sym(m, x), UPLO=uplo)
        return w, fix_cols(m, v)

    check(fn, [shape])
    check(lambda m, x: m.linalg.eigvalsh(sym(m, x), UPLO=uplo), [shape])


def test_eigh_one_output_and_gradgrad():
    check(lambda m, x: fix_cols(m, m.linalg.eigh(sym(m, x)).eigenvectors), [(3, 3)])
    check(lambda m, x: m.linalg.eigh(spd(m, x))[0], [(2, 3, 3)])
    ggc(lambda x: ember.linalg.eigvalsh(sym(ember, x)), (3, 3))
    ggc(lambda x: fix_cols(ember, ember.linalg.eigh(sym(ember, x))[1]), (3, 3))


def test_eigh_reads_one_triangle():
    x = np.random.default_rng(0).standard_normal((3, 3))
    for uplo, keep in [("L", np.tril), ("U", np.triu)]:
        w = ember.linalg.eigvalsh(ember.tensor(keep(x)), UPLO=uplo)
        np.testing.assert_allclose(w.numpy(), torch.linalg.eigvalsh(torch.tensor(x), UPLO=uplo))


# ------------------------------------------------------------------------------------- SVD


def svd_fixed(m, x, full_matrices=False):
    """U (first k columns), S, Vh (first k rows) with each U column's first entry positive."""
    u, s, vh = m.linalg.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    flip = m.sign(u[..., :1, :])
    return u * flip, s, vh * flip.mT


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3), (2, 2, 5)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full):
    check(lambda m, x: svd_fixed(m, x, full), [shape])


def test_svd_outputs_one_at_a_time_and_svdvals():
    check(lambda m, x: svd_fixed(m, x)[0], [(4, 3)])
    check(lambda m, x: svd_fixed(m, x)[2], [(3, 4)])
    check(lambda m, x: m.linalg.svd(x).S, [(2, 3, 4)])
    check(lambda m, x: m.linalg.svdvals(x), [(2, 4, 3)])
    check(lambda m, x: m.linalg.svdvals(x), [(3, 5)], grad=False)
    u, s, vh = ember.linalg.svd(ember.randn(2, 5, 3))
    assert (tuple(u.shape), tuple(s.shape), tuple(vh.shape)) == ((2, 5, 5), (2, 3), (2, 3, 3))


def test_svd_gradgrad():
    ggc(lambda x: svd_fixed(ember, x), (4, 3))
    ggc(lambda x: ember.linalg.svdvals(x), (2, 3))


# -------------------------------------------------------------------------- pinv, matrix_rank


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (2, 3, 5)])
def test_pinv(shape):
    check(lambda m, x: m.linalg.pinv(x), [shape])


def test_pinv_hermitian_and_rank_deficient():
    check(lambda m, x: m.linalg.pinv(sym(m, x), hermitian=True), [(2, 3, 3)])
    # rank 2: perturbations of the factors keep the rank, so gradcheck sees a smooth function
    check(lambda m, x, y: m.linalg.pinv(x @ y), [(4, 2), (2, 3)])
    # a cut-off singular value: the gradient (torch's formula) treats the rank as the matrix's
    # own, so it is compared with torch only, not with finite differences
    check(lambda m, x: m.linalg.pinv(x, atol=1.0), [(4, 3)], gradcheck_=False,
          inputs=[np.diag([3.0, 2.0, 1e-3])[[0, 1, 2, 0]] + 0.0])
    check(lambda m, x: m.linalg.pinv(x, rtol=0.5), [(3, 3)], inputs=[np.diag([4.0, 3.0, 1.0])],
          gradcheck_=False)
    ggc(lambda x: ember.linalg.pinv(x), (3, 2))


def test_matrix_rank():
    rng = np.random.default_rng(0)
    low = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))
    check(lambda m, x: m.linalg.matrix_rank(x), [(5, 4)], inputs=[low], grad=False)
    check(lambda m, x: m.linalg.matrix_rank(x), [(3, 4)], grad=False)
    check(lambda m, x: m.linalg.matrix_rank(x, atol=1.0, rtol=0.0), [(2, 4, 4)], grad=False)
    check(lambda m, x: m.linalg.matrix_rank(x, rtol=0.3), [(2, 4, 4)], grad=False)
    sym_low = low[0] @ low[0].T
    check(lambda m, x: m.linalg.matrix_rank(x, hermitian=True), [(5, 5)], inputs=[sym_low],
          grad=False)


# ------------------------------------------------------------------------------ products


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power(n):
    check(lambda m, x: m.linalg.matrix_power(wc(m, x) / 4, n), [(2, 3, 3)])


def test_multi_dot():
    check(lambda m, a, b: m.linalg.multi_dot([a, b]), [(3, 4), (4, 2)])
    check(lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(4,), (4, 5), (5,)])
    check(lambda m, a, b, c, d: m.linalg.multi_dot((a, b, c, d)),
          [(2, 10), (10, 1), (1, 8), (8, 3)])
    check(lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(6,), (6, 2), (2, 7)])


def test_multi_dot_order_is_the_cheapest():
    from ember.ops.linalg_decomp import _chain_order

    # (10x30)(30x5)(5x60): (AB)C costs 4500, A(BC) 27000
    assert _chain_order([10, 30, 5, 60])[0][2] == 1
    assert _chain_order([50, 10, 40, 30])[0][2] == 0


def test_vecdot_cross_matmul_diagonal():
    check(lambda m, x, y: m.linalg.vecdot(x, y), [(2, 3), (3,)])
    check(lambda m, x, y: m.linalg.vecdot(x, y, dim=0), [(3, 2), (3, 1)])
    check(lambda m, x, y: m.linalg.cross(x, y), [(2, 3), (1, 3)])
    check(lambda m, x, y: m.linalg.cross(x, y, dim=0), [(3, 4), (3, 4)])
    check(lambda m, x, y: m.linalg.matmul(x, y), [(2, 3, 4), (4, 2)])
    check(lambda m, x: m.linalg.diagonal(x, offset=1), [(2, 3, 4)])
    check(lambda m, x: m.linalg.diagonal(x, dim1=0, dim2=2), [(3, 2, 4)])
    assert ember.linalg.matmul is ember.matmul


# -------------------------------------------------------------------------------- float32


@pytest.mark.parametrize("fn", [
    lambda m, x: m.linalg.inv(wc(m, x)),
    lambda m, x: m.linalg.det(wc(m, x)),
    lambda m, x: m.linalg.cholesky(spd(m, x)),
    lambda m, x: m.linalg.eigvalsh(sym(m, x)),
    lambda m, x: m.linalg.svdvals(x),
    lambda m, x: m.linalg.pinv(x),
    lambda m, x: m.linalg.matrix_norm(x, "nuc"),
    lambda m, x: m.linalg.solve(wc(m, x), x[..., 0]),
    lambda m, x: qr_fixed(m, x),
])
def test_float32_stays_float32(fn):
    check(lambda m, x: fn(m, x.float()), [(2, 3, 3)], atol=1e-4, rtol=1e-4, grad_atol=1e-4,
          grad_rtol=1e-4, gradcheck_=False)


# ---------------------------------------------------------------------------------- errors


def _singular_batch(m):
    a = m.eye(3, dtype=m.float64).repeat(2, 1, 1)
    a[1, 2, 2] = 0.0
    return a


def _not_pd_batch(m):
    a = m.eye(3, dtype=m.float64).repeat(2, 1, 1)
    a[1, 2, 2] = -1.0
    return a


SAME_ERRORS = [  # ember raises torch's exception type, its message starting with torch's
    lambda m: m.linalg.inv(m.ones(2, 3)),
    lambda m: m.linalg.det(m.ones(3)),
    lambda m: m.linalg.eigh(m.ones(3, 4)),
    lambda m: m.linalg.cholesky(m.ones(4, 3)),
    lambda m: m.linalg.inv(m.ones(3, 3, dtype=m.int64)),
    lambda m: m.linalg.inv(m.ones(3, 3, dtype=m.float16)),
    lambda m: m.linalg.cholesky(-m.eye(3, dtype=m.float64)),
    lambda m: m.linalg.cholesky(_not_pd_batch(m)),
    lambda m: m.linalg.solve(m.eye(3), m.ones(4)),
    lambda m: m.linalg.solve(m.eye(3), m.ones(3), left=False),
    lambda m: m.linalg.solve(m.eye(3), m.ones(3, dtype=m.float64)),
    lambda m: m.linalg.solve(_singular_batch(m), m.ones(2, 3, dtype=m.float64)),
    lambda m: m.linalg.solve(_singular_batch(m)[1], m.ones(3, dtype=m.float64)),
    lambda m: m.linalg.matrix_norm(m.ones(3)),
    lambda m: m.linalg.matrix_norm(m.ones(3, 3), ord=3),
    lambda m: m.linalg.matrix_norm(m.ones(3, 3), ord="abc"),
    lambda m: m.linalg.norm(m.ones(3, 3, 3), ord=2),
    lambda m: m.linalg.norm(m.ones(3, 3, 3), ord=3, dim=(0, 2)),
    lambda m: m.linalg.norm(m.ones(3, 3), ord="fro", dim=0),
    lambda m: m.linalg.vector_norm(m.ones(3), ord="fro"),
    lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.int64)),
    lambda m: m.linalg.multi_dot([m.ones(3)]),
    lambda m: m.linalg.multi_dot([m.ones(3, 3), m.ones(3, 3, 3)]),
    lambda m: m.linalg.multi_dot([m.ones(3, 3), m.ones(4, 3)]),
    lambda m: m.linalg.qr(m.ones(3, 3), mode="x"),
    lambda m: m.linalg.eigh(m.ones(3, 3), UPLO="X"),
    lambda m: m.linalg.matrix_power(m.ones(3, 3), 1.5),
    lambda m: m.linalg.matrix_power(m.ones(2, 3), 2),
    lambda m: m.linalg.cross(m.ones(3), m.ones(2, 3)),
]


@pytest.mark.parametrize("case", range(len(SAME_ERRORS)))
def test_errors_match_torch(case):
    fn = SAME_ERRORS[case]
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(Exception) as e_err:
        fn(ember)
    assert isinstance(e_err.value, type(t_err.value).__mro__[1] if type(t_err.value).__name__
                      == "_LinAlgError" else type(t_err.value))
    assert str(e_err.value).startswith(str(t_err.value).rstrip(".")), (e_err.value, t_err.value)


def test_singular_inv_raises_linalg_error_naming_the_batch_element():
    with pytest.raises(ember.linalg.LinAlgError, match=r"linalg\.inv: \(Batch element 1\): .*"
                                                       "singular"):
        ember.linalg.inv(_singular_batch(ember))
    with pytest.raises(RuntimeError, match=r"^linalg\.inv: The inversion .* singular"):
        ember.linalg.inv(ember.zeros(2, 2))
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 3\)"):
        a = np.tile(np.eye(2), (2, 2, 1, 1))
        a[1, 1] = 0
        ember.linalg.solve(ember.tensor(a), ember.ones(2, 2, 2, dtype=ember.float64))
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


def test_namespace_loads_lazily():
    import subprocess
    import sys

    code = ("import sys, ember; assert 'ember.linalg' not in sys.modules; "
            "print(ember.linalg.det(ember.eye(2) * 3).item())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "9.0"


def test_namespace_is_importable_and_documented():
    import importlib

    mod = importlib.import_module("ember.linalg")
    assert ember.linalg is mod
    for name in mod.__all__:
        obj = getattr(mod, name)
        assert obj.__doc__, name
        assert hasattr(torch.linalg, name), name
    for name in ("cholesky", "eigh", "svd", "qr", "det", "inv", "solve", "norm", "pinv"):
        assert name in mod.__all__


# ------------------------------------------- gradcheck and gradgradcheck for every op, float64

E = ember
GRAD_CASES = [
    # ember/ops/linalg.py: products
    ("matmul_batched", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul_vector_left", lambda a, b: a @ b, [(4,), (2, 4, 3)]),
    ("matmul_vector_right", lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    ("matmul_weight", lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    ("mm", lambda a, b: a.mm(b), [(2, 3), (3, 4)]),
    ("bmm", lambda a, b: a.bmm(b), [(2, 2, 3), (2, 3, 2)]),
    ("mv", lambda a, v: a.mv(v), [(2, 3), (3,)]),
    ("dot", lambda a, b: a.dot(b), [(3,), (3,)]),
    ("inner", lambda a, b: E.inner(a, b), [(2, 3), (4, 3)]),
    ("outer", lambda a, b: E.outer(a, b), [(3,), (2,)]),
    ("einsum", lambda a, b: E.einsum("bij,jk->bik", a, b), [(2, 2, 3), (3, 2)]),
    ("einsum_trace", lambda a: E.einsum("ii->", a), [(3, 3)]),
    ("tensordot", lambda a, b: E.tensordot(a, b, ([1, 2], [0, 1])), [(2, 3, 4), (3, 4, 2)]),
    ("addmm", lambda i, a, b: E.addmm(i, a, b, beta=0.5, alpha=2), [(3,), (2, 4), (4, 3)]),
    ("addmv", lambda i, a, v: E.addmv(i, a, v, alpha=-1), [(1,), (2, 3), (3,)]),
    ("addbmm", lambda i, a, b: E.addbmm(i, a, b), [(2, 2), (3, 2, 4), (3, 4, 2)]),
    ("baddbmm", lambda i, a, b: E.baddbmm(i, a, b, beta=2), [(1, 2), (3, 2, 4), (3, 4, 2)]),
    ("addr", lambda i, a, b: E.addr(i, a, b), [(3, 1), (3,), (2,)]),
    ("trace", lambda a: a.trace(), [(3, 4)]),
    ("cross", lambda a, b: E.cross(a, b, dim=1), [(2, 3), (1, 3)]),
    ("kron", lambda a, b: E.kron(a, b), [(2, 3), (2, 2)]),
    ("cdist_2", lambda a, b: E.cdist(a, b), [(2, 3, 2), (4, 2)]),
    ("cdist_1", lambda a, b: E.cdist(a, b, p=1.0), [(3, 2), (4, 2)]),
    ("cdist_3", lambda a, b: E.cdist(a, b, p=3.0), [(3, 2), (4, 2)]),
    # ember/ops/linalg_decomp.py: ember.linalg and its torch-level aliases
    ("vector_norm", lambda x: E.linalg.vector_norm(x, 2.5, dim=(0, 1)), [(2, 3, 2)]),
    ("matrix_norm_fro", lambda x: E.linalg.matrix_norm(x), [(2, 3, 4)]),
    ("matrix_norm_nuc", lambda x: E.linalg.matrix_norm(x, "nuc"), [(3, 2)]),
    ("matrix_norm_2", lambda x: E.linalg.matrix_norm(x, 2), [(3, 2)]),
    ("matrix_norm_1", lambda x: E.linalg.matrix_norm(x, 1), [(3, 2)]),
    ("norm", lambda x: E.linalg.norm(x, dim=1), [(3, 2)]),
    ("cond", lambda x: E.linalg.cond(wc(E, x)), [(3, 3)]),
    ("inv", lambda x: E.linalg.inv(wc(E, x)), [(2, 3, 3)]),
    ("inverse", lambda x: E.inverse(wc(E, x)), [(3, 3)]),
    ("det", lambda x: E.linalg.det(wc(E, x)), [(2, 3, 3)]),
    ("det_singular", lambda x, y: E.det(x @ y), [(3, 2), (2, 3)]),
    ("slogdet", lambda x: E.linalg.slogdet(wc(E, x)).logabsdet, [(3, 3)]),
    ("logdet", lambda x: E.logdet(spd(E, x)), [(3, 3)]),
    ("solve", lambda a, b: E.linalg.solve(wc(E, a), b), [(2, 3, 3), (3, 2)]),
    ("solve_vector", lambda a, b: E.linalg.solve(wc(E, a), b), [(3, 3), (3,)]),
    ("cholesky", lambda x: E.linalg.cholesky(spd(E, x)), [(2, 3, 3)]),
    ("qr", lambda x: qr_fixed(E, x), [(4, 3)]),
    ("qr_wide", lambda x: qr_fixed(E, x), [(2, 4)]),
    ("eigh", lambda x: (lambda r: (r[0], fix_cols(E, r[1])))(E.linalg.eigh(sym(E, x))),
     [(3, 3)]),
    ("eigvalsh", lambda x: E.linalg.eigvalsh(sym(E, x), UPLO="U"), [(3, 3)]),
    ("svd", lambda x: svd_fixed(E, x), [(4, 3)]),
    ("svd_wide", lambda x: svd_fixed(E, x), [(2, 3)]),
    ("svdvals", lambda x: E.linalg.svdvals(x), [(2, 3)]),
    ("pinv", lambda x: E.linalg.pinv(x), [(3, 2)]),
    ("pinverse", lambda x: E.pinverse(x), [(2, 3)]),
    ("matrix_power", lambda x: E.linalg.matrix_power(x, 3), [(3, 3)]),
    ("matrix_power_negative", lambda x: E.linalg.matrix_power(wc(E, x), -2), [(3, 3)]),
    ("multi_dot", lambda a, b, c: E.linalg.multi_dot([a, b, c]), [(4,), (4, 3), (3, 2)]),
    ("vecdot", lambda x, y: E.linalg.vecdot(x, y, dim=0), [(3, 2), (3, 1)]),
    ("linalg_cross", lambda x, y: E.linalg.cross(x, y), [(2, 3), (2, 3)]),
    ("linalg_diagonal", lambda x: E.linalg.diagonal(x, offset=1), [(2, 3, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_and_gradgradcheck_per_op(name, fn, shapes):
    """First and second derivatives of every differentiable op in ops/linalg.py and
    ops/linalg_decomp.py against finite differences, in float64."""
    xs = tuple(ember.tensor(a, requires_grad=True) for a in make_inputs(shapes, seed=5))
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


FREED = {
    "inv": lambda x: E.linalg.inv(wc(E, x)),
    "solve": lambda x: E.linalg.solve(wc(E, x), x),
    "cholesky": lambda x: E.linalg.cholesky(spd(E, x)),
    "pinv": lambda x: E.linalg.pinv(x),
    "cdist": lambda x: E.cdist(x, x),
    "median": lambda x: x.median(),
    "scatter_reduce": lambda x: x.scatter_reduce(1, E.tensor([[0, 1, 1]] * 3), x, "amax"),
}


@pytest.mark.parametrize("name", list(FREED))
def test_ops_that_read_their_result_are_freed_without_the_cycle_collector(name):
    """These ops' backwards read their own result; it is handed to record() as a history-free
    alias, so dropping the result frees it and its node by reference counting alone."""
    import gc
    import weakref

    x = ember.tensor(make_inputs([(3, 3)], seed=6)[0], requires_grad=True)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out = FREED[name](x)
        node_ref, out_ref = weakref.ref(out.grad_fn), weakref.ref(out)
        del out
        assert out_ref() is None and node_ref() is None
    finally:
        if was_enabled:
            gc.enable()
