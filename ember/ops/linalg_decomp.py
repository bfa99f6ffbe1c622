"""The ``torch.linalg`` functions (``ember.linalg`` is their public face), plus ``torch.det``,
``logdet``, ``inverse`` and ``pinverse``, on NumPy/CuPy arrays.

Every function takes a matrix ``(m, n)`` or a batch of them ``(*, m, n)`` in float32 or float64
and follows ``torch.linalg``'s names, argument names, defaults and errors. The factorisations run
in LAPACK (``xp.linalg``: NumPy on the CPU, CuPy on a GPU); their gradients are written with ember
ops, so gradients of gradients work too.

Decompositions with several outputs (``eigh``, ``svd``, ``qr``, ``slogdet``) record one op per
output. Each op's backward is the part of the decomposition's gradient that comes from that
output; the full gradient is linear in the output gradients, so the engine's sum of the parts is
exactly PyTorch's formula, and an output nobody uses costs nothing in the backward pass.
"""

from __future__ import annotations

import collections
import contextlib
import math
from typing import Any, Sequence, Union

import numpy as np

from ember.backend import get_array_module
from ember.ops import linalg as _ops_linalg
from ember.ops import reduce as _reduce
from ember.ops import shape as _shape
from ember.ops.common import write_out, Tensor, attach, record, zero_grad_like
from ember.ops.compare import where
from ember.ops.dims import const, normalize_dim



class LinAlgError(RuntimeError):
    """A matrix could not be factorised (singular in ``inv``/``solve``, not positive-definite in
    ``cholesky``), as ``torch.linalg.LinAlgError``. The message names the op and, for a batch,
    the flat index of the first failing matrix."""


# argument types, as PyTorch's: dims are an int or a sequence of ints; a matrix norm's order a
# number or 'fro' / 'nuc'; a tolerance a number or a tensor broadcast over the batch
Dims = Union[int, Sequence[int], None]
Ord = Union[float, str]
Tol = Union[float, Tensor, None]
DType = Any

SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])

# PyTorch's scalar-type names, which its error messages use
_TORCH_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool"}


def _type_name(arr) -> str:
    return _TORCH_NAMES.get(arr.dtype.name, arr.dtype.name)


# ------------------------------------------------------------------------------ input checks


def _tensor_arg(name: str, arg: str, t) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"linalg.{name}(): argument '{arg}' must be Tensor, not "
                        f"{type(t).__name__}")
    return t


def _matrix_input(name: str, A, square: bool = True, arg: str = "A"):
    """The raw array of a float32/float64 batch of (square) matrices, or PyTorch's error."""
    a = _tensor_arg(name, arg, A)._data
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor {arg} must have at least 2 "
                           "dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: {arg} must be batches of square matrices, but they "
                           f"are {a.shape[-2]} by {a.shape[-1]} matrices")
    _float_check(name, a)
    return a


def _float_check(name: str, a) -> None:
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(a)}")
    if a.dtype.itemsize < 4:
        raise RuntimeError(f"linalg.{name}: Low precision dtypes not supported. Got "
                           f"{_type_name(a)}")


def _eye_like(n: int, like: Tensor) -> Tensor:
    return const(get_array_module(like._data).eye(n, dtype=like._data.dtype))


def _batch_shape(name: str, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise RuntimeError(f"linalg.{name}: the batch dimensions {listed} cannot be broadcast "
                           "together") from None


# ------------------------------------------------------------------- LAPACK failure reports


def _raising(xp):
    """A context in which ``xp.linalg`` raises ``LinAlgError`` on a failed factorisation.

    NumPy always does; CuPy only inside ``cupyx.errstate(linalg='raise')`` (the check reads the
    solver's status back from the GPU, as PyTorch's does)."""
    if xp.__name__ == "numpy":
        return contextlib.nullcontext()
    import cupyx

    return cupyx.errstate(linalg="raise")


def _first_failure(fn, *arrays):
    """The flat batch index of the first matrix (or matrix pair) on which ``fn`` fails."""
    batch = arrays[0].shape[:-2]
    flat = [a.reshape((-1,) + a.shape[-2:]) for a in arrays]
    xp = get_array_module(arrays[0])
    with _raising(xp):
        for i in range(math.prod(batch)):
            try:
                fn(*(f[i] for f in flat))
            except np.linalg.LinAlgError:
                return i
    return 0


def _run_lapack(prefix: str, reason: str, fn, *arrays):
    """``fn(*arrays)``, turning a failed factorisation into :class:`LinAlgError` that names the
    op (``prefix``) and, for a batch, the first failing matrix."""
    xp = get_array_module(arrays[0])
    try:
        with _raising(xp):
            return fn(*arrays)
    except np.linalg.LinAlgError:
        pass
    where = ""
    if arrays[0].ndim > 2:
        where = f"(Batch element {_first_failure(fn, *arrays)}): "
    raise LinAlgError(f"{prefix}: {where}{reason}")


_SINGULAR_INV = "The inversion could not be completed because the input matrix is singular."
_SINGULAR_SOLVE = "The solver failed because the input matrix is singular."


# ----------------------------------------------------------------------------------- norms


def vector_norm(x: Tensor, ord: float = 2, dim: Dims = None, keepdim: bool = False, *,
                dtype: DType = None, out: Tensor | None = None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (every element when ``None``).

    ``ord`` is 2, 1, ``inf``, ``-inf``, 0 (the count of nonzeros) or any other number;
    ``dtype`` casts the input first. The gradient at a zero norm is 0 (PyTorch's subgradient).
    """
    if out is not None:
        return write_out("linalg.vector_norm", out, vector_norm(x, ord, dim, keepdim, dtype=dtype))
    _tensor_arg("vector_norm", "x", x)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if dtype is None and x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(x._data)}")
    return _reduce.vector_norm(x, ord, dim, keepdim, dtype=dtype)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _matrix_dims(name: str, dim, ndim: int):
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.{name}: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    out = [normalize_dim(d, ndim) for d in dims]
    if out[0] == out[1]:
        raise RuntimeError(f"linalg.{name}: dims must be different. Got ({dims[0]}, {dims[1]})")
    return tuple(out)


def matrix_norm(A: Tensor, ord: Ord = "fro", dim: tuple[int, int] = (-2, -1),
                keepdim: bool = False, *, dtype: DType = None, out: Tensor | None = None) -> Tensor:
    """The matrix norm of ``A`` over the two dims ``dim``: ``'fro'`` (Frobenius), ``'nuc'`` (sum
    of singular values), 2 / -2 (largest / smallest singular value), 1 / -1 (largest / smallest
    column sum of ``|A|``), ``inf`` / ``-inf`` (largest / smallest row sum)."""
    if out is not None:
        return write_out("linalg.matrix_norm", out, matrix_norm(A, ord, dim, keepdim, dtype=dtype))
    a = _tensor_arg("matrix_norm", "A", A)._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if (isinstance(ord, str) and ord not in ("fro", "nuc")) or (
            not isinstance(ord, str) and ord not in _MATRIX_ORDS):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    d0, d1 = _matrix_dims("matrix_norm", dim, a.ndim)
    if dtype is not None:
        A = A.to(dtype)
    _float_check("matrix_norm", A._data)
    if ord == "fro":
        return _reduce.vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(_shape.movedim(A, (d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    # 1 / -1: sum over rows, extreme over columns; inf / -inf the other way round
    total, pick = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = A.abs().sum(total, keepdim=True)
    out = sums.amax(pick, keepdim=True) if ord > 0 else sums.amin(pick, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def norm(input: Tensor, ord: Ord | None = None, dim: Dims = None, keepdim: bool = False, *,
         dtype: DType = None, out: Tensor | None = None) -> Tensor:
    """A vector or matrix norm, chosen as ``torch.linalg.norm`` does: a 2-element ``dim``, a
    string ``ord``, or a 2-D input with ``ord`` given and no ``dim`` mean :func:`matrix_norm`;
    otherwise :func:`vector_norm` (``ord=None`` is the 2-norm of all the elements)."""
    if out is not None:
        return write_out("linalg.norm", out, norm(input, ord, dim, keepdim, dtype=dtype))
    A = input
    a = _tensor_arg("norm", "A", A)._data
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dims)}")
    else:
        dims = None
        if ord is not None and a.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {a.ndim}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, dims if dims is not None else (0, 1), keepdim, dtype=dtype)
    if ord is not None and ((dims is not None and len(dims) == 2) or
                            (dims is None and a.ndim == 2)):
        return matrix_norm(A, ord, dims if dims is not None else (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def cond(A: Tensor, p: Ord | None = None, *, out: Tensor | None = None) -> Tensor:
    """The condition number of ``A`` in the norm ``p``: for ``None``/2/-2 the ratio of extreme
    singular values (any shape), otherwise ``matrix_norm(A, p) * matrix_norm(inv(A), p)``."""
    if out is not None:
        return write_out("linalg.cond", out, cond(A, p))
    if p in (None, 2, -2):
        _matrix_input("cond", A, square=False)
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    _matrix_input("cond", A)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# --------------------------------------------------------------------------- inverse, det


def inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of each square matrix; a singular one raises :class:`LinAlgError`."""
    if out is not None:
        return write_out("linalg.inv", out, inv(A))
    a = _matrix_input("inv", A)
    xp = get_array_module(a)
    out = _run_lapack("linalg.inv", _SINGULAR_INV, xp.linalg.inv, a)

    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        r = result.mT
        return (-matmul(matmul(r, g), r),)

    return record("LinalgInv", result, (A,), backward)


def _cofactor(A: Tensor) -> Tensor:
    """The cofactor matrix of each matrix, ``d(det A)/dA``, from the SVD: ``A = U S Vh`` gives
    ``det(U) det(Vh) U diag(prod_{j != i} s_j) Vh``. Smooth through singular matrices (a rank
    n - 1 matrix has a nonzero gradient), and differentiable again through :func:`svd`, where
    ``det(A) * inv(A)^T`` would cancel huge terms near a singular matrix.
    """
    U, S, Vh = svd(A, full_matrices=False)
    xp = get_array_module(A._data)
    flips = const(xp.linalg.det(U._data) * xp.linalg.det(Vh._data))
    others = _reduce._leave_one_out_prod(S, S.ndim - 1)
    return flips.unsqueeze(-1).unsqueeze(-1) * matmul(U * others.unsqueeze(-2), Vh)


def det(input: Tensor) -> Tensor:
    """``torch.det``: the determinant of each square matrix (:func:`ember.linalg.det` under
    PyTorch's top-level argument name ``input``)."""
    return linalg_det(input)


def linalg_det(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The determinant of each square matrix (singular matrices included, gradient too)."""
    if out is not None:
        return write_out("linalg.det", out, linalg_det(A))
    a = _matrix_input("det", A)
    out = get_array_module(a).linalg.det(a)

    def backward(g, needs):
        return (g.unsqueeze(-1).unsqueeze(-1) * _cofactor(A),)

    return record("LinalgDet", out, (A,), backward, saved=(A,))


def slogdet(A: Tensor, *, out: Tensor | None = None) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix: ``det = sign * exp(logabsdet)``, without
    overflow. ``sign`` gets a zero gradient (it is piecewise constant)."""
    if out is not None:
        return write_out("linalg.slogdet", out, slogdet(A))
    a = _matrix_input("slogdet", A)
    sign, logabs = get_array_module(a).linalg.slogdet(a)
    sign_t = record("LinalgSlogdetSign", sign, (A,), lambda g, needs: (zero_grad_like(A),))

    def backward(g, needs):
        return (g.unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)

    return SlogdetResult(sign_t, record("LinalgSlogdet", logabs, (A,), backward, saved=(A,)))


# ------------------------------------------------------------------------------------ solve


def _solve(A: Tensor, B: Tensor) -> Tensor:
    """``X`` with ``A X = B`` for ``A (*, n, n)`` and ``B (*, n, k)``; batch dims broadcast."""
    a, b = A._data, B._data
    batch = _batch_shape("solve", a.shape[:-2], b.shape[:-2])
    xp = get_array_module(a)
    ab = xp.broadcast_to(a, batch + a.shape[-2:])
    bb = xp.broadcast_to(b, batch + b.shape[-2:])
    out = _run_lapack("torch.linalg.solve", _SINGULAR_SOLVE, xp.linalg.solve, ab, bb)
    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        gb = _solve(A.mT, g)
        return -matmul(gb, result.mT) if needs[0] else None, gb

    return record("LinalgSolve", result, (A, B), backward, saved=(A,))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``).

    ``B`` is a batch of vectors ``(*, n)`` when it is 1-D or shaped like ``A`` without its last
    dim, else a batch of matrices ``(*, n, k)``; batch dims broadcast. A singular ``A`` raises
    :class:`LinAlgError`.
    """
    if out is not None:
        return write_out("linalg.solve", out, solve(A, B, left=left))
    a = _matrix_input("solve", A)
    b = _tensor_arg("solve", "B", B)._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {_type_name(a)} and B of type {_type_name(b)} instead")
    n = a.shape[-1]
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    B2 = B.unsqueeze(-1) if vector else B
    rows, cols = B2.shape[-2], B2.shape[-1]
    if (rows if left else cols) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {rows}x{cols})")
    X = _solve(A, B2) if left else _solve(A.mT, B2.mT).mT
    return X.squeeze(-1) if vector else X


# ------------------------------------------------------------------------------- cholesky


def cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """The Cholesky factor ``L`` (lower, ``A = L L^T``; ``U = L^T`` when ``upper``) of each
    symmetric positive-definite matrix; only the lower (``upper``: upper) triangle is read.
    A matrix that is not positive-definite raises :class:`LinAlgError`."""
    if out is not None:
        return write_out("linalg.cholesky", out, cholesky(A, upper=upper))
    a = _matrix_input("cholesky", A)
    xp = get_array_module(a)
    src = a.swapaxes(-1, -2) if upper else a
    try:
        with _raising(xp):
            L = xp.linalg.cholesky(src)
    except np.linalg.LinAlgError:
        raise _not_positive_definite(src) from None
    out = xp.ascontiguousarray(L.swapaxes(-1, -2)) if upper else L

    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        # gA = L^-T Phi L^-1 with Phi the symmetric matrix whose lower triangle is
        # tril(L^T gL) with its diagonal halved (Murray 2016, "Differentiation of the Cholesky
        # decomposition"): symmetric, like PyTorch's
        low, gl = (result.mT, g.mT) if upper else (result, g)
        p = matmul(low.mT, gl).tril()
        phi = (p + p.tril(-1).mT) * 0.5
        linv = inv(low)
        return (matmul(matmul(linv.mT, phi), linv),)

    return record("LinalgCholesky", result, (A,), backward)


def _not_positive_definite(src) -> LinAlgError:
    """PyTorch's error, naming the first leading minor that is not positive-definite."""
    xp = get_array_module(src)
    flat = src.reshape((-1,) + src.shape[-2:])
    i = _first_failure(xp.linalg.cholesky, src)
    order = src.shape[-1]
    with _raising(xp):
        for k in range(1, src.shape[-1] + 1):
            try:
                xp.linalg.cholesky(flat[i, :k, :k])
            except np.linalg.LinAlgError:
                order = k
                break
    where = f"(Batch element {i}): " if src.ndim > 2 else ""
    return LinAlgError(f"linalg.cholesky: {where}The factorization could not be completed "
                       f"because the input is not positive-definite (the leading minor of order "
                       f"{order} is not positive-definite).")


# ------------------------------------------------------------------------------------- QR


def _copyltu(M: Tensor) -> Tensor:
    """The symmetric matrix whose lower triangle (diagonal included) is ``M``'s."""
    low = M.tril()
    return low + low.tril(-1).mT


def _qr_square_grad(Q: Tensor, R: Tensor, gQ, gR) -> Tensor:
    """Gradient of ``A = Q R`` with ``R`` square (``m >= n``) from ``gQ`` and/or ``gR``:
    ``(gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q``."""
    if gR is not None:
        M = matmul(R, gR.mT)
        if gQ is not None:
            M = M - matmul(gQ.mT, Q)
    else:
        M = -matmul(gQ.mT, Q)
    top = matmul(Q, _copyltu(M))
    if gQ is not None:
        top = top + gQ
    return _solve(R, top.mT).mT


def qr(A: Tensor, mode: str = "reduced", *, out: Tensor | None = None) -> QRResult:
    """The QR decomposition ``A = Q R`` of each matrix: ``mode`` ``'reduced'`` (Q ``(m, k)``,
    R ``(k, n)``, ``k = min(m, n)``), ``'complete'`` (Q ``(m, m)``) or ``'r'`` (R only; Q is an
    empty tensor). Differentiable except ``'r'`` and ``'complete'`` with ``m > n``, as in
    PyTorch."""
    if out is not None:
        return write_out("linalg.qr", out, qr(A, mode))
    a = _matrix_input("qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    xp = get_array_module(a)
    m, n = a.shape[-2:]
    if mode == "r":
        q_arr, r_arr = xp.zeros((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
    else:
        q_arr, r_arr = xp.linalg.qr(a, mode=mode)

    def refuse():
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                               "going to differentiate through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")

    def grad_from(gQ, gR):
        refuse()
        if m >= n:
            return _qr_square_grad(Q, R, gQ, gR)
        # A = Q [R1 R2]: X = A[:, :m] = Q R1 is a square QR; Y = A[:, m:] = Q R2 only adds
        # Y gR2^T to Q's gradient and Q gR2 to Y's
        R1, R2 = R[..., :, :m], R[..., :, m:]
        gq = gQ
        if gR is not None:
            extra = matmul(matmul(Q, R2), gR[..., :, m:].mT)
            gq = extra if gq is None else gq + extra
        gx = _qr_square_grad(Q, R1, gq, None if gR is None else gR[..., :, :m])
        gy = (matmul(Q, gR[..., :, m:]) if gR is not None
              else const(xp.zeros(gx.shape[:-1] + (n - m,), dtype=a.dtype)))
        return _shape.cat([gx, gy], -1)

    Q = record("LinalgQrQ", q_arr, (A,), lambda g, needs: (grad_from(g, None),))
    R = record("LinalgQrR", r_arr, (A,), lambda g, needs: (grad_from(None, g),))
    return QRResult(Q, R)


# ---------------------------------------------------------------------------------- eigh


def _gaps(w: Tensor, square: bool = False) -> Tensor:
    """``E[i, j] = w_j - w_i`` (of ``w**2`` when ``square``) with ones on the diagonal."""
    v = w * w if square else w
    return v.unsqueeze(-2) - v.unsqueeze(-1) + _eye_like(w.shape[-1], w)


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric matrix;
    only the ``UPLO`` triangle is read. The gradient assumes distinct eigenvalues (it divides by
    their gaps) and, like PyTorch's, is symmetric."""
    if out is not None:
        return write_out("linalg.eigh", out, eigh(A, UPLO))
    a = _matrix_input("eigh", A)
    _check_uplo(UPLO)
    w_arr, v_arr = get_array_module(a).linalg.eigh(a, UPLO=UPLO)

    def vectors_backward(gV, needs):
        # V (skew(V^T gV) / E) V^T: the skew part keeps the gradient on symmetric matrices
        vg = matmul(V.mT, gV)
        inner = (vg - vg.mT) * 0.5 / _gaps(w)
        return (matmul(matmul(V, inner), V.mT),)

    def values_backward(gw, needs):
        return (matmul(V * gw.unsqueeze(-2), V.mT),)

    V = record("LinalgEighVectors", v_arr, (A,), vectors_backward, save_output=True)
    w = record("LinalgEighValues", w_arr, (A,), values_backward, saved=(V,))
    return EighResult(w, V)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix (gradient as :func:`eigh`)."""
    if out is not None:
        return write_out("linalg.eigvalsh", out, eigvalsh(A, UPLO))
    a = _matrix_input("eigvalsh", A)
    _check_uplo(UPLO)
    if A.requires_grad:  # the gradient needs the eigenvectors
        return eigh(A, UPLO).eigenvalues
    return Tensor._wrap(get_array_module(a).linalg.eigvalsh(a, UPLO=UPLO))


# ----------------------------------------------------------------------------------- SVD


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None,
        out: Tensor | None = None) -> SVDResult:
    """``A = U diag(S) Vh`` for each matrix, singular values descending.

    ``full_matrices=False`` gives ``U (m, k)``, ``Vh (k, n)`` with ``k = min(m, n)``. The
    gradient assumes distinct nonzero singular values; with ``full_matrices=True`` it ignores the
    gradient of the extra columns of ``U`` / rows of ``Vh`` (they are arbitrary), as PyTorch's.
    ``driver`` (a cuSOLVER choice in PyTorch) is accepted and ignored.
    """
    if out is not None:
        return write_out("linalg.svd", out, svd(A, full_matrices, driver=driver))
    a = _matrix_input("svd", A, square=False)
    xp = get_array_module(a)
    u_arr, s_arr, vh_arr = xp.linalg.svd(a, full_matrices=full_matrices)
    m, n = a.shape[-2:]
    k = min(m, n)

    def thin():
        return (U[..., :, :k] if u_arr.shape[-1] != k else U,
                Vh[..., :k, :] if vh_arr.shape[-2] != k else Vh)

    def u_backward(gU, needs):
        # U [(skew(U^T gU) S) / E] Vh + (I - U U^T) gU S^-1 Vh, E[i, j] = s_j^2 - s_i^2
        Uk, Vk = thin()
        gU = gU[..., :, :k] if gU.shape[-1] != k else gU
        ug = matmul(Uk.mT, gU)
        inner = (ug - ug.mT) * S.unsqueeze(-2) / _gaps(S, square=True)
        left = matmul(Uk, inner)
        if m > k:
            scaled = gU / S.unsqueeze(-2)
            left = left + scaled - matmul(Uk, matmul(Uk.mT, scaled))
        return (matmul(left, Vk),)

    def vh_backward(gVh, needs):
        # U [S skew(V^T gV) / E] Vh + U S^-1 gVh (I - V Vh)
        Uk, Vk = thin()
        gVh = gVh[..., :k, :] if gVh.shape[-2] != k else gVh
        vg = matmul(Vk, gVh.mT)
        inner = S.unsqueeze(-1) * (vg - vg.mT) / _gaps(S, square=True)
        right = matmul(inner, Vk)
        if n > k:
            scaled = gVh / S.unsqueeze(-1)
            right = right + scaled - matmul(matmul(scaled, Vk.mT), Vk)
        return (matmul(Uk, right),)

    def s_backward(gS, needs):
        Uk, Vk = thin()
        return (matmul(Uk * gS.unsqueeze(-2), Vk),)

    U = record("LinalgSvdU", u_arr, (A,), u_backward, save_output=True)
    Vh = record("LinalgSvdVh", vh_arr, (A,), vh_backward, save_output=True)
    S = record("LinalgSvdS", s_arr, (A,), s_backward, saved=(U, Vh), save_output=True)
    return SVDResult(U, S, Vh)


def svdvals(A: Tensor, *, driver: str | None = None, out: Tensor | None = None) -> Tensor:
    """The singular values of each matrix, descending (gradient as :func:`svd`)."""
    if out is not None:
        return write_out("linalg.svdvals", out, svdvals(A, driver=driver))
    a = _matrix_input("svdvals", A, square=False)
    if A.requires_grad:  # the gradient needs the singular vectors
        return svd(A, full_matrices=False).S
    return Tensor._wrap(get_array_module(a).linalg.svd(a, compute_uv=False))


# ----------------------------------------------------------------------- pinv, matrix_rank


def _tolerance(values, atol, rtol, shape):
    """PyTorch's cutoff ``max(atol, rtol * largest)`` per matrix, broadcast against ``values``
    (magnitudes ``(*, k)``); ``rtol`` defaults to ``eps * max(m, n)`` unless ``atol > 0`` is
    given."""
    xp = get_array_module(values)

    def as_array(v):
        if v is None:
            return None
        if isinstance(v, Tensor):
            return v._data.astype(values.dtype, copy=False)
        return xp.asarray(v, dtype=values.dtype)

    atol_a, rtol_a = as_array(atol), as_array(rtol)
    if rtol_a is None:
        if atol_a is not None and bool((atol_a > 0).all()):
            rtol_a = xp.zeros((), dtype=values.dtype)
        else:
            rtol_a = xp.asarray(np.finfo(values.dtype).eps * max(shape[-2:]), dtype=values.dtype)
    if atol_a is None:
        atol_a = xp.zeros((), dtype=values.dtype)
    top = values.max(axis=-1) if values.shape[-1] else xp.zeros(values.shape[:-1], values.dtype)
    return xp.maximum(atol_a, rtol_a * top)[..., None]


def pinv(A: Tensor, *, atol: Tol = None, rtol: Tol = None, hermitian: bool = False,
         out: Tensor | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, from its SVD (from ``eigh`` when
    ``hermitian``); singular values at or below ``max(atol, rtol * largest)`` count as zero.

    The gradient is the pseudo-inverse's own (Golub and Pereyra 1973), valid for rank-deficient
    matrices and repeated singular values, like PyTorch's.
    """
    if out is not None:
        return write_out("linalg.pinv", out, pinv(A, atol=atol, rtol=rtol, hermitian=hermitian))
    a = _matrix_input("pinv", A, square=hermitian)
    xp = get_array_module(a)
    if hermitian:
        w, V = xp.linalg.eigh(a)
        keep = xp.abs(w) > _tolerance(xp.abs(w), atol, rtol, a.shape)
        winv = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
        out = xp.matmul(V * winv[..., None, :], V.swapaxes(-1, -2))
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        keep = s > _tolerance(s, atol, rtol, a.shape)
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
        out = xp.matmul(vh.swapaxes(-1, -2) * sinv[..., None, :], u.swapaxes(-1, -2))

    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, transposed
        P, Pt, gt = result, result.mT, g.mT
        x = matmul(gt, matmul(P, Pt))
        y = matmul(matmul(Pt, P), gt)
        return (-matmul(matmul(Pt, g), Pt) + x - matmul(A, matmul(P, x))
                + y - matmul(matmul(y, P), A),)

    return record("LinalgPinv", result, (A,), backward, saved=(A,))


def matrix_rank(A: Tensor, *, atol: Tol = None, rtol: Tol = None,
                hermitian: bool = False, out: Tensor | None = None) -> Tensor:
    """The number of singular values (``|eigenvalues|`` when ``hermitian``) above
    ``max(atol, rtol * largest)`` for each matrix, as int64 (no gradient)."""
    if out is not None:
        return write_out("linalg.matrix_rank", out, matrix_rank(A, atol=atol, rtol=rtol, hermitian=hermitian))
    a = _matrix_input("matrix_rank", A, square=hermitian)
    xp = get_array_module(a)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a))
    else:
        s = xp.linalg.svd(a, compute_uv=False)
    tol = _tolerance(s, atol, rtol, a.shape)
    return Tensor._wrap((s > tol).sum(axis=-1).astype(np.int64))


# ------------------------------------------------------------------------ products, powers


matmul = _ops_linalg.matmul


def matrix_power(A: Tensor, n: int, *, out: Tensor | None = None) -> Tensor:
    """``A`` multiplied by itself ``n`` times (the identity for 0, powers of ``inv(A)`` for a
    negative ``n``), by repeated squaring; the gradient flows through the products."""
    if out is not None:
        return write_out("linalg.matrix_power", out, matrix_power(A, n))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    a = _tensor_arg("matrix_power", "A", A)._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {a.shape[-2]} by {a.shape[-1]} matrices")
    n = int(n)
    if n == 0:
        # the identity, still attached to A's graph (with a zero gradient), as in PyTorch
        xp = get_array_module(a)
        eye = xp.ascontiguousarray(xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape))
        return record("LinalgMatrixPowerZero", eye, (A,), lambda g, needs: (zero_grad_like(A),))
    if n == 1:
        return A.clone()
    base = inv(A) if n < 0 else A
    n = abs(n)
    out = None
    while True:
        if n & 1:
            out = base if out is None else matmul(out, base)
        n >>= 1
        if not n:
            return out
        base = matmul(base, base)


def multi_dot(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The product of a list of matrices, multiplied in the cheapest order; the first may be a
    row vector (1-D) and the last a column vector (1-D), which are removed from the result."""
    if out is not None:
        return write_out("linalg.multi_dot", out, multi_dot(tensors))
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        _tensor_arg("multi_dot", f"tensors[{i}]", t)
        where = "first" if i == 0 else "last" if i == len(ts) - 1 else None
        if where is not None and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got "
                               f"{t.ndim}D")
        if where is None and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
        if t.dtype != ts[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_type_name(ts[0]._data)} and tensor {i} is "
                               f"{_type_name(t._data)}")
    row, col = ts[0].ndim == 1, ts[-1].ndim == 1
    if row:
        ts[0] = ts[0].unsqueeze(0)
    if col:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
    out = _chain(ts, _chain_order([t.shape[0] for t in ts] + [ts[-1].shape[1]]), 0, len(ts) - 1)
    if row:
        out = out.squeeze(0)
    if col:
        out = out.squeeze(-1)
    return out


def _chain_order(dims):
    """``split[i][j]``: where the cheapest product of matrices ``i..j`` splits (the classic
    O(n^3) dynamic programme over scalar multiplications)."""
    k = len(dims) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = math.inf
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    s = split[i][j]
    return matmul(_chain(ts, split, i, s), _chain(ts, split, s + 1, j))


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The dot product of vectors along ``dim``; the other dims broadcast."""
    if out is not None:
        return write_out("linalg.vecdot", out, vecdot(x, y, dim=dim))
    xa = _tensor_arg("vecdot", "x", x)._data
    ya = _tensor_arg("vecdot", "y", y)._data
    if xa.dtype != ya.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {_type_name(xa)} and y of type {_type_name(ya)} instead")
    return (x * y).sum(dim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim``; the other dims broadcast
    (``ember.cross``)."""
    if out is not None:
        return write_out("linalg.cross", out, cross(input, other, dim=dim))
    return _ops_linalg.cross(input, other, dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonal of each matrix (``ember.diagonal`` over the last two dims)."""
    return _shape.diagonal(A, offset, dim1, dim2)


# ------------------------------------------------------ torch.det & co: ember.linalg by other names


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant of each square matrix: ``nan`` where it is negative, ``-inf``
    where it is 0 (as ``torch.logdet``); computed from :func:`slogdet`, no overflow."""
    sign, logabs = slogdet(input)
    return where(const(sign._data < 0), math.nan, logabs)


def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of each square matrix: :func:`inv`."""
    if out is not None:
        return write_out("inverse", out, inverse(input))
    return inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse of each matrix, singular values up to ``rcond`` times the largest
    treated as zero: ``pinv(input, rtol=rcond)``."""
    return pinv(input, rtol=rcond)


__all__ = ["det", "logdet", "inverse", "pinverse"]

attach(det=det, logdet=logdet, inverse=inverse, pinverse=pinverse)


# =============================================================================================
# Triangular solves, the LU family, least squares, the matrix exponential, Householder products.
# Forward passes call LAPACK (through NumPy/CuPy, or SciPy for LU pivots and expm); gradients
# are compositions of the ops above, so they differentiate again.

LUResult = collections.namedtuple("linalg_lu", ["P", "L", "U"])
LUFactorResult = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LstsqResult = collections.namedtuple("linalg_lstsq",
                                     ["solution", "residuals", "rank", "singular_values"])
CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
InvExResult = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
SolveExResult = collections.namedtuple("linalg_solve_ex", ["result", "info"])


def _triangle(A: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of ``A`` a triangular solve reads (strict when the diagonal is implicit)."""
    if unitriangular:
        return A.triu(1) if upper else A.tril(-1)
    return A.triu() if upper else A.tril()


def _solve_triangular_left(A: Tensor, B: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    a, b = A._data, B._data
    xp = get_array_module(a)
    batch = _batch_shape("solve_triangular", a.shape[:-2], b.shape[:-2])
    tri = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        n = a.shape[-1]
        tri = tri.copy()
        tri[..., xp.arange(n), xp.arange(n)] = 1
    ab = xp.broadcast_to(tri, batch + a.shape[-2:])
    bb = xp.broadcast_to(b, batch + b.shape[-2:])
    with np.errstate(all="ignore"):
        try:
            out = xp.linalg.solve(ab, bb)
        except np.linalg.LinAlgError:  # a zero on the diagonal: PyTorch returns inf/nan
            out = xp.full(batch + b.shape[-2:], xp.nan, dtype=a.dtype)
    result = Tensor._wrap(out)

    def backward(g, needs):
        gb = _solve_triangular_left(A.mT, g, not upper, unitriangular)
        ga = _triangle(-matmul(gb, result.mT), upper, unitriangular) if needs[0] else None
        return ga, gb

    return record("LinalgSolveTriangular", result, (A, B), backward, saved=(A,))


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out: Tensor | None = None) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``) for triangular ``A``:
    only its upper (``upper=True``) or lower triangle is read, and with ``unitriangular`` its
    diagonal is taken to be ones. Batch dims broadcast."""
    if out is not None:
        return write_out("linalg.solve_triangular", out, solve_triangular(A, B, upper=upper, left=left,
                         unitriangular=unitriangular))
    a = _matrix_input("solve_triangular", A)
    b = _tensor_arg("solve_triangular", "B", B)._data
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, "
                           f"but found A of type {_type_name(a)} and B of type {_type_name(b)}")
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {eq} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if left:
        return _solve_triangular_left(A, B, upper, unitriangular)
    return _solve_triangular_left(A.mT, B.mT, not upper, unitriangular).mT


def _cholesky_solve(B: Tensor, L: Tensor, upper: bool) -> Tensor:
    low = L.mT if upper else L
    y = _solve_triangular_left(low, B, False, False)
    result = Tensor._wrap(_solve_triangular_left(low.mT, y, True, False)._data)

    def backward(g, needs):
        # A = L L^T (U^T U), X = A^-1 B: gB = A^-1 g; gA = -gB X^T, taken through A's product
        # with the full factor, as PyTorch does: gL = (gA + gA^T) L, gU = U (gA + gA^T)
        gb = _cholesky_solve(g, L, upper)
        if not needs[1]:
            return gb, None
        ga = -matmul(gb, result.mT)
        sym = ga + ga.mT
        return gb, (matmul(L, sym) if upper else matmul(sym, L))

    return record("CholeskySolve", result, (B, L), backward, saved=(L,))


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """The solution of ``A X = B`` given the Cholesky factor of ``A`` (``L`` lower with
    ``A = L L^T``, or upper with ``A = U^T U`` when ``upper``); only that triangle of ``L`` is
    read. Batch dims broadcast."""
    if out is not None:
        return write_out("cholesky_solve", out, cholesky_solve(B, L, upper))
    lo = _matrix_input("cholesky_solve", L, arg="L")
    b = _tensor_arg("cholesky_solve", "B", B)._data
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions "
                           "instead")
    if b.shape[-2] != lo.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{lo.shape[-1]} by {lo.shape[-1]} but each b matrix is "
                           f"{b.shape[-2]} by {b.shape[-1]}")
    return _cholesky_solve(B, L, upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False,
                out: Tensor | None = None) -> CholeskyExResult:
    """``(L, info)``: :func:`cholesky`, with ``info`` 0 on success and the order of the first
    leading minor that is not positive-definite otherwise (an error only with
    ``check_errors``)."""
    if out is not None:
        return write_out("linalg.cholesky_ex", out, cholesky_ex(A, upper=upper, check_errors=check_errors))
    try:
        L = cholesky(A, upper=upper)
        info = np.zeros(A.shape[:-2], dtype=np.int32)
    except LinAlgError:
        if check_errors:
            raise
        a = A._data
        xp = get_array_module(a)
        info = np.zeros(a.shape[:-2], dtype=np.int32)
        flat = a.reshape((-1,) + a.shape[-2:])
        for i in range(flat.shape[0]):
            for k in range(1, a.shape[-1] + 1):
                try:
                    xp.linalg.cholesky(flat[i, :k, :k])
                except np.linalg.LinAlgError:
                    info.reshape(-1)[i] = k
                    break
        L = Tensor._wrap(xp.full(a.shape, xp.nan, dtype=a.dtype))
    return CholeskyExResult(L, Tensor._wrap(info))


def inv_ex(A: Tensor, *, check_errors: bool = False, out: Tensor | None = None) -> InvExResult:
    """``(inverse, info)``: :func:`inv`, with ``info`` 0 for an invertible matrix (a singular
    one gives a nonzero ``info``, and an error only with ``check_errors``)."""
    if out is not None:
        return write_out("linalg.inv_ex", out, inv_ex(A, check_errors=check_errors))
    try:
        return InvExResult(inv(A), Tensor._wrap(np.zeros(A.shape[:-2], dtype=np.int32)))
    except LinAlgError:
        if check_errors:
            raise
        a = A._data
        xp = get_array_module(a)
        return InvExResult(Tensor._wrap(xp.full(a.shape, xp.nan, dtype=a.dtype)),
                           Tensor._wrap(np.ones(a.shape[:-2], dtype=np.int32)))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True,
             check_errors: bool = False, out: Tensor | None = None) -> SolveExResult:
    """``(result, info)``: :func:`solve`, with ``info`` 0 when ``A`` is invertible."""
    if out is not None:
        return write_out("linalg.solve_ex", out, solve_ex(A, B, left=left, check_errors=check_errors))
    try:
        return SolveExResult(solve(A, B, left=left),
                             Tensor._wrap(np.zeros(A.shape[:-2], dtype=np.int32)))
    except LinAlgError:
        if check_errors:
            raise
        xp = get_array_module(A._data)
        shape = _batch_shape("solve_ex", A.shape[:-2], B.shape[:-2]) + tuple(B.shape[-2:])
        return SolveExResult(Tensor._wrap(xp.full(shape, xp.nan, dtype=A._data.dtype)),
                             Tensor._wrap(np.ones(A.shape[:-2], dtype=np.int32)))


# ------------------------------------------------------------------------------------- LU


def _lu_arrays(a):
    """``(P, L, U)`` and LAPACK's 1-based pivots of each matrix of ``a`` (SciPy's getrf)."""
    import scipy.linalg

    host = a if isinstance(a, np.ndarray) else a.get()
    m, n = host.shape[-2:]
    k = min(m, n)
    flat = host.reshape((-1, m, n))
    packed = np.empty_like(flat)
    pivots = np.empty((flat.shape[0], k), dtype=np.int32)
    for i, mat in enumerate(flat):
        # lu_factor wants a square matrix; scipy.linalg.lapack.getrf takes any shape
        lu, piv, _ = scipy.linalg.lapack.get_lapack_funcs("getrf", (mat,))(mat)
        packed[i], pivots[i] = lu, piv[:k] + 1
    packed = packed.reshape(host.shape)
    pivots = pivots.reshape(host.shape[:-2] + (k,))
    xp = get_array_module(a)
    return xp.asarray(packed), xp.asarray(pivots)


def _permutation_from_pivots(pivots, m: int, dtype):
    """The permutation matrices ``P`` (``A = P L U``) of LAPACK's 1-based row swaps."""
    piv = pivots if isinstance(pivots, np.ndarray) else pivots.get()
    flat = piv.reshape((-1, piv.shape[-1]))
    out = np.zeros((flat.shape[0], m, m), dtype=dtype)
    for b, row in enumerate(flat):
        perm = np.arange(m)
        for i, p in enumerate(row):
            j = int(p) - 1
            perm[i], perm[j] = perm[j], perm[i]
        out[b, perm, np.arange(m)] = 1
    return get_array_module(pivots).asarray(out.reshape(piv.shape[:-1] + (m, m)))


def _lu_grad(P: Tensor, L: Tensor, U: Tensor, gL, gU) -> Tensor:
    """Gradient of ``A = P L U`` for square ``A`` (and the wide / tall cases through the square
    block): ``P L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T``."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        phi = 0
        if gL is not None:
            phi = matmul(L.mT, gL).tril(-1)
        if gU is not None:
            phi = phi + matmul(gU, U.mT).triu()
        left = solve_triangular(L.mT, phi, upper=True, unitriangular=True)
        return matmul(P, solve_triangular(U.mT, left, upper=False, left=False))
    if m < n:  # A = P L [U1 U2]: the square part, plus U2's share through L
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gL_all = gL
        if gU is not None:  # U2 = L^-1 P^T A2 moves with L too: -L^-T gU2 U2^T
            extra = -solve_triangular(L.mT, matmul(gU[..., :, k:], U2.mT), upper=True,
                                      unitriangular=True)
            gL_all = extra if gL_all is None else gL_all + extra
        g1 = _lu_grad(P, L, U1, gL_all, None if gU is None else gU[..., :, :k])
        if gU is not None:
            g2 = matmul(P, solve_triangular(L.mT, gU[..., :, k:], upper=True, unitriangular=True))
        else:
            g2 = const(get_array_module(U._data).zeros(g1.shape[:-1] + (n - k,), dtype=U._data.dtype))
        return _shape.cat([g1, g2], -1)
    # tall: A = P [L1; L2] U
    L1, L2 = L[..., :k, :], L[..., k:, :]
    gU_all = gU
    if gL is not None:  # L2 = B2 U^-1 moves with U too: -L2^T gL2 U^-T
        extra = -solve_triangular(U.mT, matmul(L2.mT, gL[..., k:, :]), upper=False, left=False)
        gU_all = extra if gU_all is None else gU_all + extra
    g1 = _lu_grad(_eye_like(k, L), L1, U, None if gL is None else gL[..., :k, :], gU_all)
    if gL is not None:
        g2 = solve_triangular(U.mT, gL[..., k:, :], upper=False, left=False)
    else:
        g2 = const(get_array_module(L._data).zeros(g1.shape[:-2] + (m - k, k), dtype=L._data.dtype))
    return matmul(P, _shape.cat([g1, g2], -2))  # P permutes the stacked rows


def lu(A: Tensor, *, pivot: bool = True, out: Tensor | None = None) -> LUResult:
    """The LU decomposition with partial pivoting ``A = P L U`` of each matrix: ``P`` a
    permutation, ``L`` unit lower triangular ``(m, k)``, ``U`` upper triangular ``(k, n)``,
    ``k = min(m, n)``. Differentiable in ``L`` and ``U`` (``P`` is piecewise constant)."""
    if out is not None:
        return write_out("linalg.lu", out, lu(A, pivot=pivot))
    a = _matrix_input("lu", A, square=False)
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    packed, pivots = _lu_arrays(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    xp = get_array_module(a)
    l_arr = xp.tril(packed[..., :, :k], -1)
    l_arr[..., xp.arange(k), xp.arange(k)] = 1
    u_arr = xp.triu(packed[..., :k, :])
    p_arr = _permutation_from_pivots(pivots, m, a.dtype)
    P = Tensor._wrap(p_arr)
    Lw, Uw = Tensor._wrap(l_arr), Tensor._wrap(u_arr)
    L = record("LinalgLuL", Lw, (A,), lambda g, needs: (_lu_grad(P, Lw, Uw, g, None),))
    U = record("LinalgLuU", Uw, (A,), lambda g, needs: (_lu_grad(P, Lw, Uw, None, g),))
    return LUResult(P, L, U)


def lu_factor(A: Tensor, *, pivot: bool = True, out: Tensor | None = None) -> LUFactorResult:
    """``(LU, pivots)``: ``L`` (without its unit diagonal) and ``U`` packed in one matrix, and
    LAPACK's 1-based row swaps (int32), as ``torch.linalg.lu_factor``. Differentiable."""
    if out is not None:
        return write_out("linalg.lu_factor", out, lu_factor(A, pivot=pivot))
    P, L, U = lu(A, pivot=pivot)
    m, n = A.shape[-2:]
    k = min(m, n)
    packed = _shape.cat([L[..., :, :k].tril(-1) + U[..., :k, :k], U[..., :k, k:]], -1) if m <= n \
        else _shape.cat([L.tril(-1)[..., :k, :] + U, L[..., k:, :]], -2)
    _, pivots = _lu_arrays(A._data)
    return LUFactorResult(packed, Tensor._wrap(pivots))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False,
                 out: Tensor | None = None) -> LUFactorExResult:
    """``(LU, pivots, info)``: :func:`lu_factor`, with ``info`` the 1-based index of the first
    zero on ``U``'s diagonal (0 when there is none)."""
    if out is not None:
        return write_out("linalg.lu_factor_ex", out, lu_factor_ex(A, pivot=pivot, check_errors=check_errors))
    LU, pivots = lu_factor(A, pivot=pivot)
    d = LU._data.diagonal(0, -2, -1)
    xp = get_array_module(d)
    zero = d == 0
    info = xp.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
    if check_errors and bool(info.any()):
        raise LinAlgError("linalg.lu_factor_ex: U is singular")
    return LUFactorExResult(LU, pivots, Tensor._wrap(info))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True, *, out: Tensor | None = None) -> LUResult:
    """``(P, L, U)`` from the packed output of :func:`lu_factor` (differentiable in ``LU``)."""
    if out is not None:
        return write_out("lu_unpack", out, lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots))
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    xp = get_array_module(LU_data._data)
    empty = Tensor._wrap(xp.zeros((0,), dtype=LU_data._data.dtype))
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + _eye_like(m, LU_data)[:, :k]
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty
    P = (Tensor._wrap(_permutation_from_pivots(LU_pivots._data, m, LU_data._data.dtype))
         if unpack_pivots else empty)
    return LUResult(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False, out: Tensor | None = None) -> Tensor:
    """The solution of ``A X = B`` (``X A = B`` when ``left=False``; with ``A^T`` when
    ``adjoint``) from ``A``'s :func:`lu_factor`. Differentiable in ``LU`` and ``B``."""
    if out is not None:
        return write_out("linalg.lu_solve", out, lu_solve(LU, pivots, B, left=left, adjoint=adjoint))
    _matrix_input("lu_solve", LU, arg="LU")
    P, L, U = lu_unpack(LU, pivots)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        y = solve_triangular(L, matmul(P.mT, B), upper=False, unitriangular=True)
        return solve_triangular(U, y, upper=True)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = solve_triangular(U.mT, B, upper=False)
    return matmul(P, solve_triangular(L.mT, y, upper=True, unitriangular=True))


# --------------------------------------------------------------------------- least squares


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,
          driver: str | None = None) -> LstsqResult:
    """The least-squares solution of ``A X = B`` (the minimum-norm one when ``A`` is wide or
    rank-deficient), as ``torch.linalg.lstsq``: ``(solution, residuals, rank,
    singular_values)``. As on PyTorch's CPU, ``driver`` is ``'gelsy'`` by default; ``rank`` is
    filled except for ``'gels'``, ``singular_values`` for ``'gelsd'`` / ``'gelss'``, and
    ``residuals`` (squared, per column) when ``m > n``, every matrix has full rank and the driver
    is not ``'gelsy'``. Differentiable in ``A`` and ``B`` (through the pseudo-inverse)."""
    a = _matrix_input("lstsq", A, square=False)
    b = _tensor_arg("lstsq", "B", B)._data
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), but got {driver}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected A and B to have the same dtype, but "
                           f"found A of type {_type_name(a)} and B of type {_type_name(b)}")
    vector = b.ndim == a.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    m, n = a.shape[-2:]
    if B2.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), "
                           f"but got {m} and {B2.shape[-2]}")
    xp = get_array_module(a)
    s = xp.linalg.svd(a, compute_uv=False)
    cutoff = (np.finfo(a.dtype).eps * max(m, n) if rcond is None else rcond) * \
        (s.max(-1, keepdims=True) if s.shape[-1] else 0)
    rank_arr = (s > cutoff).sum(-1).astype(np.int64)
    X = matmul(pinv(A, rtol=None if rcond is None else rcond), B2)
    empty = Tensor._wrap(xp.zeros((0,), dtype=a.dtype))
    residuals = empty
    if m > n and driver != "gelsy" and bool((rank_arr == n).all()):
        r = matmul(A, X) - B2
        residuals = (r * r).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    rank = Tensor._wrap(rank_arr) if driver != "gels" else Tensor._wrap(
        xp.zeros((0,), dtype=np.int64))
    svals = Tensor._wrap(s) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, svals)


# ------------------------------------------------------------------------ matrix exponential


def matrix_exp(A: Tensor) -> Tensor:
    """``exp(A) = sum_k A^k / k!`` of each square matrix (SciPy's Pade approximation with
    scaling and squaring). The gradient is the Frechet derivative of ``exp`` at ``A^T`` applied
    to the incoming gradient: the top-right block of ``exp([[A^T, G], [0, A^T]])``."""
    a = _matrix_input("matrix_exp", A)
    xp = get_array_module(a)
    if xp is np:
        import scipy.linalg

        out = np.asarray(scipy.linalg.expm(a), dtype=a.dtype) if a.size else a.copy()
    else:  # pragma: no cover - needs a GPU
        import cupyx.scipy.linalg

        # cupyx's expm takes one 2-D matrix: a Python loop over the batch (each stays on the GPU)
        n = a.shape[-1]
        flat = a.reshape(-1, n, n)
        out = xp.empty_like(flat)
        for i in range(flat.shape[0] if a.size else 0):
            out[i] = cupyx.scipy.linalg.expm(flat[i])
        out = out.reshape(a.shape)

    def backward(g, needs):
        n = a.shape[-1]
        At = A.mT
        zeros = const(xp.zeros(A.shape, dtype=a.dtype))
        top = _shape.cat([At, g], -1)
        bottom = _shape.cat([zeros, At], -1)
        return (matrix_exp(_shape.cat([top, bottom], -2))[..., :n, n:],)

    return record("LinalgMatrixExp", out, (A,), backward, saved=(A,))


# -------------------------------------------------------------------- vander, householder


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``torch.linalg.vander``: the Vandermonde matrices of the vectors ``x (*, n)``, increasing
    powers ``x ** 0 .. x ** (N - 1)`` in the last dim (``N = n`` by default)."""
    _tensor_arg("vander", "x", x)
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1 and N is not None and n < 1:
        raise RuntimeError("N must be greater than 1.")
    xp = get_array_module(x._data)
    cols = [Tensor._wrap(xp.ones_like(x._data))] + [x if k == 1 else x ** k for k in range(1, n)]
    return _shape.stack(cols[:n], -1)


def householder_product(A: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first ``n`` columns of ``H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^T`` and ``v_i``
    column ``i`` of ``A`` below the diagonal with an implicit 1 on it (LAPACK's orgqr).
    Differentiable, as a product of the reflections."""
    if out is not None:
        return write_out("linalg.householder_product", out, householder_product(A, tau))
    a = _matrix_input("householder_product", A, square=False)
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    if n > m:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    xp = get_array_module(a)
    eye = _eye_like(m, A)
    Q = None
    for i in range(k):
        below = const((xp.arange(m) > i).astype(a.dtype))
        unit = const((xp.arange(m) == i).astype(a.dtype))
        v = A[..., :, i] * below + unit
        H = eye - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (v.unsqueeze(-1) * v.unsqueeze(-2))
        Q = H if Q is None else matmul(Q, H)
    if Q is None:
        Q = eye + A[..., :, :1].sum(-1, keepdim=True) * 0 if a.size else eye
    return Q[..., :, :n]


def tensorinv(A: Tensor, ind: int = 2, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ``A`` seen as a linear map from its last dims (from ``ind`` on) to its
    first ``ind`` dims: shaped ``A.shape[ind:] + A.shape[:ind]``."""
    if out is not None:
        return write_out("linalg.tensorinv", out, tensorinv(A, ind))
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != "
                           f"{math.prod(rows)}")
    return inv(A.reshape(math.prod(rows), math.prod(cols))).reshape(cols + rows)


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out: Tensor | None = None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``; ``dims`` of ``A`` are moved to the end
    first."""
    if out is not None:
        return write_out("linalg.tensorsolve", out, tensorsolve(A, B, dims))
    if dims is not None:
        dims = [normalize_dim(d, A.ndim) for d in dims]
        A = _shape.movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    return solve(A.reshape(B.numel(), math.prod(rest)), B.reshape(-1)).reshape(rest)


__all__ += ["cholesky_solve", "lu_unpack", "matrix_exp"]


def _cholesky_solve_method(self: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    return cholesky_solve(self, input2, upper)


attach(cholesky_solve=_cholesky_solve_method, matrix_exp=matrix_exp)
