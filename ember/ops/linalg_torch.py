"""The linear algebra of the ``torch`` namespace whose names or argument conventions differ from
``torch.linalg``'s: ``torch.lu`` and ``torch.lu_solve(b, LU_data, LU_pivots)``, ``torch.svd``
(``V``, not ``Vh``; ``some=``), ``torch.qr(some=)``, ``torch.cholesky(upper=)``,
``cholesky_inverse``, ``geqrf`` / ``orgqr`` / ``ormqr`` (LAPACK's Householder form), ``vdot``,
``ger``, ``chain_matmul``, ``nuclear_norm``, ``frobenius_norm``. The work is done by
:mod:`ember.ops.linalg_decomp`; gradients come from the ops used there.
"""

from __future__ import annotations

import collections

import numpy as np

from ember.backend import get_array_module
from ember.ops import linalg_decomp as _la
from ember.ops.common import Tensor, attach
from ember.ops.linalg_decomp import lu_factor_ex
from ember.ops.linalg_decomp import lu_solve as _linalg_lu_solve

SVDResult = collections.namedtuple("svd", ["U", "S", "V"])
QRResult = collections.namedtuple("qr", ["Q", "R"])
GeqrfResult = collections.namedtuple("geqrf", ["a", "tau"])


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``(LU, pivots)`` of each matrix, plus ``infos`` when ``get_infos``
    (``torch.linalg.lu_factor_ex`` under its older name)."""
    out = lu_factor_ex(A, pivot=pivot)
    return (out.LU, out.pivots, out.info) if get_infos else (out.LU, out.pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The solution of ``A X = b`` from ``A``'s :func:`lu` (``torch.linalg.lu_solve`` with the
    older argument order)."""
    return _linalg_lu_solve(LU_data, LU_pivots, b)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDResult:
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (``torch.svd``: ``V``, not ``Vh``; ``some``
    gives the reduced factors). Without ``compute_uv``, ``U`` and ``V`` are zero matrices."""
    if not compute_uv:
        S = _la.svdvals(input)
        xp = get_array_module(input._data)
        m, n = input.shape[-2:]
        shape_u = input.shape[:-2] + ((m, m) if not some else (m, min(m, n)))
        shape_v = input.shape[:-2] + ((n, n) if not some else (n, min(m, n)))
        return SVDResult(Tensor._wrap(xp.zeros(shape_u, dtype=input._data.dtype)), S,
                         Tensor._wrap(xp.zeros(shape_v, dtype=input._data.dtype)))
    U, S, Vh = _la.svd(input, full_matrices=not some)
    return SVDResult(U, S, Vh.mT)


def qr(input: Tensor, some: bool = True) -> QRResult:
    """``(Q, R)`` (``torch.qr``: ``some=False`` gives the complete ``Q``)."""
    Q, R = _la.qr(input, mode="reduced" if some else "complete")
    return QRResult(Q, R)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor (``torch.cholesky``: ``upper`` is positional)."""
    return _la.cholesky(input, upper=upper)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """The inverse of ``A`` from its Cholesky factor (``A = L L^T``, or ``U^T U`` when
    ``upper``)."""
    n = input.shape[-1]
    eye = Tensor._wrap(get_array_module(input._data).eye(n, dtype=input._data.dtype))
    return _la.cholesky_solve(eye, input, upper)


def slogdet(input: Tensor):
    """``(sign, logabsdet)``: :func:`ember.linalg.slogdet`."""
    return _la.slogdet(input)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` to the integer power ``n``: :func:`ember.linalg.matrix_power`."""
    return _la.matrix_power(input, n)


def geqrf(input: Tensor) -> GeqrfResult:
    """LAPACK's QR in Householder form: ``R`` in the upper triangle of ``a``, the reflection
    vectors below it, and their scales ``tau`` (no gradient, as in PyTorch)."""
    import scipy.linalg

    a = _la._matrix_input("geqrf", input, square=False)
    host = a if isinstance(a, np.ndarray) else a.get()
    flat = host.reshape((-1,) + host.shape[-2:])
    k = min(host.shape[-2:])
    out = np.empty_like(flat)
    taus = np.empty((flat.shape[0], k), dtype=host.dtype)
    routine = scipy.linalg.lapack.get_lapack_funcs("geqrf", (host,))
    for i, mat in enumerate(flat):
        qr_, tau, _, _ = routine(mat)
        out[i], taus[i] = qr_, tau[:k]
    xp = get_array_module(a)
    return GeqrfResult(Tensor._wrap(xp.asarray(out.reshape(host.shape))),
                       Tensor._wrap(xp.asarray(taus.reshape(host.shape[:-2] + (k,)))))


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """The ``Q`` of :func:`geqrf`'s Householder form: :func:`ember.linalg.householder_product`."""
    return _la.householder_product(input, tau)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """``Q @ other`` (``Q^T`` with ``transpose``; ``other @ Q`` when not ``left``) for the full
    ``Q = H_1 ... H_k`` of :func:`geqrf`'s Householder form, one reflection at a time."""
    m = input.shape[-2]
    xp = get_array_module(input._data)
    k = tau.shape[-1]
    out = other
    # Q C = H_1 (H_2 (... H_k C)); Q^T C = H_k (... H_1 C); C Q = ((C H_1) H_2) ...
    order = range(k) if (left == transpose) else range(k - 1, -1, -1)
    for i in order:
        below = Tensor._wrap((xp.arange(m) > i).astype(input._data.dtype))
        unit = Tensor._wrap((xp.arange(m) == i).astype(input._data.dtype))
        v = input[..., :, i] * below + unit
        t = tau[..., i].unsqueeze(-1).unsqueeze(-1)
        if left:
            out = out - t * v.unsqueeze(-1) * (v.unsqueeze(-2) @ out)
        else:
            out = out - t * (out @ v.unsqueeze(-1)) * v.unsqueeze(-2)
    return out


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (real tensors: :func:`ember.dot`)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return (input * other).sum()


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product (``torch.ger``, the old name of ``outer``)."""
    return input.unsqueeze(-1) * vec2.unsqueeze(0)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices in the cheapest order: :func:`ember.linalg.multi_dot`."""
    if len(matrices) == 1:
        return matrices[0].clone()
    return _la.multi_dot(matrices)


def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The sum of the singular values (over the last two dims, or ``dim``)."""
    return _la.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The square root of the sum of squares over ``dim``."""
    return _la.vector_norm(input, 2, dim, keepdim)


__all__ = ["lu", "lu_solve", "svd", "qr", "cholesky", "cholesky_inverse", "slogdet",
           "matrix_power", "geqrf", "orgqr", "ormqr", "vdot", "ger", "chain_matmul",
           "nuclear_norm", "frobenius_norm"]

attach(lu=lu, lu_solve=lu_solve, svd=svd, qr=qr, cholesky=cholesky,
       cholesky_inverse=cholesky_inverse, slogdet=slogdet, matrix_power=matrix_power,
       geqrf=geqrf, orgqr=orgqr, ormqr=ormqr, vdot=vdot, ger=ger)
