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
from ember.ops.common import write_out, Tensor, attach, record
from ember.ops.compare import where
from ember.ops.dims import const, normalize_dim
from ember.ops.unary import zero_grad_like



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
