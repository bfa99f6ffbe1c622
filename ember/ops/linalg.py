"""Linear algebra: matmul (and the ``@`` operator), mm, bmm, mv, dot, outer, einsum, tensordot.

matmul is the hot path of every network: its forward is one BLAS call on the arrays as they are
(transposed views included, never copied to contiguous first) and its backward is two more
matmuls, computed only for the inputs that need a gradient.
"""

from __future__ import annotations

import math
import string

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import (
    write_out,
    Tensor,
    _broadcast_shape,
    as_tensor_like,
    attach,
    broadcast_error,
    check_same_device,
    dtype_mismatch_error,
    inplace_method,
    record,
    result_dtype,
    scalar_type_name,
    zero_grad_like,
)
from ember.ops.dims import normalize_dim
from ember.ops.elementwise import where_grad

# ---------------------------------------------------------------------------------- matmul


def _swap_last(x: Tensor) -> Tensor:
    """The last two dims swapped, as a view (``x.mT``); its gradient swaps them back."""
    return record("TransposeLast", x._data.swapaxes(-1, -2), (x,), lambda g, needs: (_swap_last(g),))


def _operands(name: str, a, b):
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}(): expected Tensors, got {type(a).__name__} and "
                            f"{type(b).__name__}")
        a = as_tensor_like(a, b)
    elif not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    x, y = a._data, b._data
    check_same_device(name, x, y)
    return a, b, x, y


def _same_dtype(name, a, b):
    if a._data.dtype != b._data.dtype:
        raise dtype_mismatch_error(name, "mat1", a._data, "mat2", b._data)


def _matmul_error(x_shape, y_shape) -> RuntimeError:
    xs, ys = tuple(x_shape), tuple(y_shape)
    k1 = xs[-1]
    k2 = ys[-2] if len(ys) >= 2 else ys[-1]
    if k1 != k2:
        return RuntimeError(f"matmul: shapes {xs} and {ys} cannot be multiplied ({k1} != {k2})")
    return RuntimeError(
        f"matmul: shapes {xs} and {ys} cannot be multiplied: their batch dimensions "
        f"{xs[:-2]} and {ys[:-2]} cannot be broadcast together"
    )


def matmul(input, other, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D operands are vectors (a leading or trailing dim
    that is removed again), dims before the last two are batch dims and broadcast."""
    if out is not None:
        return write_out("matmul", out, matmul(input, other))
    a, b = input, other
    a, b, x, y = _operands("matmul", a, b)
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need to be at least 1D, but they are {x.ndim}D and {y.ndim}D "
            f"(shapes {tuple(x.shape)} and {tuple(y.shape)})"
        )
    if x.shape[-1] != (y.shape[-2] if y.ndim >= 2 else y.shape[0]):
        raise _matmul_error(x.shape, y.shape)
    _same_dtype("matmul", a, b)
    xp = get_array_module(x)
    if y.ndim == 2 and x.ndim > 2 and x.flags.c_contiguous:
        # (..., n, k) @ (k, m) is a single GEMM on the folded batch, not one GEMM per matrix
        rows = math.prod(x.shape[:-1])  # not -1: a zero-size batch has no size to infer
        out = xp.matmul(x.reshape(rows, x.shape[-1]), y).reshape(x.shape[:-1] + (y.shape[-1],))
    else:
        try:
            out = xp.matmul(x, y)
        except ValueError:
            raise _matmul_error(x.shape, y.shape) from None
    need_a, need_b = a.requires_grad, b.requires_grad
    if x.ndim == 2 and y.ndim == 2:
        def backward(g, needs):
            return (matmul(g, _swap_last(b)) if needs[0] else None,
                    matmul(_swap_last(a), g) if needs[1] else None)

        return record("Mm", out, (a, b), backward, saved=_read_by_backward(a, b, need_a, need_b))

    sa, sb = x.shape, y.shape

    def backward(g, needs):
        # treat vectors as (1, k) and (k, 1) matrices; the engine sums the batch dims back
        a2 = a if len(sa) >= 2 else a.reshape(1, sa[0])
        b2 = b if len(sb) >= 2 else b.reshape(sb[0], 1)
        s2 = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        g2 = g if g.shape == s2 else g.reshape(s2)
        ga = gb = None
        if needs[0]:
            ga = matmul(g2, _swap_last(b2))
            ga = ga if len(sa) >= 2 else ga.squeeze(-2)
        if needs[1]:
            if len(sb) == 2 and len(s2) > 2 and len(sa) > 2:
                # the weight of a batched product: one GEMM over the folded batch
                rows = math.prod(sa[:-1])
                gb = matmul(_swap_last(a2.reshape(rows, sa[-1])), g2.reshape(rows, s2[-1]))
            else:
                gb = matmul(_swap_last(a2), g2)
            gb = gb if len(sb) >= 2 else gb.squeeze(-1)
        return ga, gb

    return record("Matmul", out, (a, b), backward, saved=_read_by_backward(a, b, need_a, need_b))


def _read_by_backward(a, b, need_a, need_b):
    """The inputs a product's backward reads: each one's gradient needs only the other, so an
    input that only feeds a gradient-free side may change in place afterwards (as in PyTorch)."""
    return ((a,) if need_b else ()) + ((b,) if need_a else ())


def rmatmul(a, b) -> Tensor:
    """``b @ a`` (the reflected ``@``)."""
    return matmul(b, a)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of two matrices (2-D only; see :func:`matmul` for broadcasting)."""
    if out is not None:
        return write_out("mm", out, mm(input, mat2))
    a, b = input, mat2
    for name, t in (("self", a), ("mat2", b)):
        if not isinstance(t, Tensor) or t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shape "
                               f"{tuple(getattr(t, 'shape', ()))}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _same_dtype("mm", a, b)
    return matmul(a, b)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched product of ``(B, n, k)`` and ``(B, k, m)`` (3-D only, batch sizes equal)."""
    if out is not None:
        return write_out("bmm", out, bmm(input, mat2))
    a, b = input, mat2
    for name, t in (("batch1", a), ("batch2", b)):
        if not isinstance(t, Tensor) or t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape "
                               f"{tuple(getattr(t, 'shape', ()))}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"bmm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied: expected "
            f"batch2 of shape [{a.shape[0]}, {a.shape[2]}, *], got {list(b.shape)}"
        )
    _same_dtype("bmm", a, b)
    return matmul(a, b)


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix ``(n, k)`` times vector ``(k,)``."""
    if out is not None:
        return write_out("mv", out, mv(input, vec))
    a, v = input, vec
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} and "
                           f"{tuple(v.shape)}")
    return matmul(a, v)


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors of the same length (a 0-d result)."""
    if out is not None:
        return write_out("dot", out, dot(input, tensor))
    a, b = input, tensor
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors "
                           f"(shapes {tuple(a.shape)} and {tuple(b.shape)})")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
            f"[{b.shape[0]}] to have the same number of elements, but got {a.shape[0]} and "
            f"{b.shape[0]} elements respectively"
        )
    return matmul(a, b)


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum of products over the last dim of both (``dot`` for vectors)."""
    if out is not None:
        return write_out("inner", out, inner(input, other))
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Outer product of vectors ``(n,)`` and ``(m,)``: an ``(n, m)`` matrix."""
    if out is not None:
        return write_out("outer", out, outer(input, vec2))
    a, b = input, vec2
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


# ------------------------------------------------------------------- fused add + product


def _check_dims(name: str, **tensors) -> None:
    """Each keyword names an argument and gives ``(tensor, ndim it must have)``."""
    for arg, (t, nd) in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(t).__name__}")
        if t.ndim != nd:
            kind = {1: "a vector (1-D)", 2: "a matrix (2-D)", 3: "a 3-D tensor"}[nd]
            raise RuntimeError(f"{name}: {arg} must be {kind}, got shape {tuple(t.shape)}")


def _check_dtypes(name: str, **tensors) -> None:
    dts = {t._data.dtype for t in tensors.values()}
    if len(dts) > 1:
        # PyTorch's wording names the first pair that differs: the product's two operands, else
        # the added input against the second one
        names = list(tensors)
        first, second = names[-2:] if tensors[names[-2]]._data.dtype != \
            tensors[names[-1]]._data.dtype else (names[0], names[-1])
        listed = ", ".join(f"{k} {t.dtype} {tuple(t.shape)}" for k, t in tensors.items())
        raise RuntimeError(
            f"{name}: {first} and {second} must have the same dtype, but got "
            f"{scalar_type_name(tensors[first]._data)} and "
            f"{scalar_type_name(tensors[second]._data)} ({listed}); convert with .to(dtype)")


def _add_scaled(name: str, input, beta, prod: Tensor, alpha, shapes: str) -> Tensor:
    """``beta * input + alpha * prod``, where ``input`` broadcasts to ``prod``'s shape.

    As in PyTorch, ``beta == 0`` ignores ``input``'s values (NaN and inf included) and gives it
    a zero gradient.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    x, p = input._data, prod._data
    check_same_device(name, x, p)
    if x.shape != p.shape and _broadcast_shape(x.shape, p.shape) != p.shape:
        raise RuntimeError(f"{name}: input of shape {tuple(x.shape)} cannot be broadcast to "
                           f"the result shape {tuple(p.shape)} ({shapes})")
    dt = result_dtype(x, p)
    if dt.kind in "iub":
        # PyTorch truncates float factors for integer products, except in addr, which refuses
        for arg, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float) and name == "addr":
                raise RuntimeError(f"{name}: for integral input tensors, argument {arg} must not "
                                   f"be a floating point number (got {v})")
        beta, alpha = int(beta), int(alpha)
    scaled = p * alpha if alpha != 1 else p
    if beta == 0:  # prod is a fresh array that nothing else reads: no copy needed
        out = scaled if scaled.dtype == dt else scaled.astype(dt)
    else:
        out = (x * beta if beta != 1 else x).astype(dt, copy=False) + scaled.astype(dt, copy=False)

    def backward(g, needs):
        return ((g * beta if beta != 1 else g) if needs[0] else None,
                (g * alpha if alpha != 1 else g) if needs[1] else None)

    return record(name.capitalize(), out, (input, prod), backward)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the ``(n, m)`` result."""
    if out is not None:
        return write_out("addmm", out, addmm(input, mat1, mat2, beta=beta, alpha=alpha))
    _check_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    _check_dtypes("addmm", input=input, mat1=mat1, mat2=mat2)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return _add_scaled("addmm", input, beta, matmul(mat1, mat2), alpha,
                       f"mat1 {tuple(mat1.shape)}, mat2 {tuple(mat2.shape)}")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``; ``input`` broadcasts to the ``(n,)`` result."""
    if out is not None:
        return write_out("addmv", out, addmv(input, mat, vec, beta=beta, alpha=alpha))
    _check_dims("addmv", mat=(mat, 2), vec=(vec, 1))
    _check_dtypes("addmv", input=input, mat=mat, vec=vec)
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, got input {tuple(input.shape)}, mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _add_scaled("addmv", input, beta, matmul(mat, vec), alpha,
                       f"mat {tuple(mat.shape)}, vec {tuple(vec.shape)}")


def _check_batches(name: str, b1: Tensor, b2: Tensor) -> None:
    _check_dims(name, batch1=(b1, 3), batch2=(b2, 3))
    if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"{name}: batch1 of shape {tuple(b1.shape)} and batch2 of shape "
                           f"{tuple(b2.shape)} cannot be multiplied: expected batch2 of shape "
                           f"[{b1.shape[0]}, {b1.shape[2]}, *]")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
           out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``: the batch is summed away."""
    if out is not None:
        return write_out("addbmm", out, addbmm(input, batch1, batch2, beta=beta, alpha=alpha))
    _check_batches("addbmm", batch1, batch2)
    _check_dtypes("addbmm", input=input, batch1=batch1, batch2=batch2)
    # the sum over the batch is one contraction: (n, B*k) @ (B*k, m)
    b, n, k = batch1.shape
    prod = matmul(batch1.permute(1, 0, 2).reshape(n, b * k), batch2.reshape(b * k, -1))
    return _add_scaled("addbmm", input, beta, prod, alpha,
                       f"batch1 {tuple(batch1.shape)}, batch2 {tuple(batch2.shape)}")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)``, batch by batch; ``input`` broadcasts to the
    ``(B, n, m)`` result."""
    if out is not None:
        return write_out("baddbmm", out, baddbmm(input, batch1, batch2, beta=beta, alpha=alpha))
    _check_batches("baddbmm", batch1, batch2)
    _check_dtypes("baddbmm", input=input, batch1=batch1, batch2=batch2)
    return _add_scaled("baddbmm", input, beta, matmul(batch1, batch2), alpha,
                       f"batch1 {tuple(batch1.shape)}, batch2 {tuple(batch2.shape)}")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``; dtypes promote, as in PyTorch."""
    if out is not None:
        return write_out("addr", out, addr(input, vec1, vec2, beta=beta, alpha=alpha))
    _check_dims("addr", vec1=(vec1, 1), vec2=(vec2, 1))
    return _add_scaled("addr", input, beta, outer(vec1, vec2), alpha,
                       f"vec1 {tuple(vec1.shape)}, vec2 {tuple(vec2.shape)}")


# --------------------------------------------------------------- trace, cross, kron, cdist


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (integers sum as int64)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"trace(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got a tensor of shape "
                           f"{tuple(input.shape)}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError(f"trace: not implemented for bool tensors (shape "
                                  f"{tuple(input.shape)})")
    return input.diagonal().sum()


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None,
          axis=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default -1, as ``torch.linalg.cross``);
    the other dims broadcast."""
    if axis is not None:
        dim = axis
    if out is not None:
        return write_out("cross", out, cross(input, other, dim))
    a, b, x, y = _operands("cross", input, other)
    if x.ndim != y.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"shapes {tuple(x.shape)} and {tuple(y.shape)}")
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.cross: expected both inputs to have the same dtype, got "
                           f"{a.dtype} and {b.dtype} (shapes {tuple(x.shape)} and "
                           f"{tuple(y.shape)})")
    nd = x.ndim
    d = normalize_dim(-1 if dim is None else dim, nd)
    if nd == 0 or x.shape[d] != 3 or y.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3, got shapes "
                           f"{tuple(x.shape)} and {tuple(y.shape)}")
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise broadcast_error("linalg.cross", x.shape, y.shape) from None
    xp = get_array_module(x)
    out = xp.cross(xp.broadcast_to(x, shape), xp.broadcast_to(y, shape), axis=d)
    def backward(g, needs):
        return (cross(b, g, d) if needs[0] else None, cross(g, a, d) if needs[1] else None)

    return record("Cross", out, (a, b), backward, saved=_read_by_backward(a, b, a.requires_grad,
                                                                           b.requires_grad))


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Kronecker product: block ``(i, j, ...)`` of the result is ``input[i, j, ...] * other``
    (the shorter shape is padded with leading 1s)."""
    if out is not None:
        return write_out("kron", out, kron(input, other))
    a, b, x, y = _operands("kron", input, other)
    nd = max(x.ndim, y.ndim)
    sa = (1,) * (nd - x.ndim) + tuple(x.shape)
    sb = (1,) * (nd - y.ndim) + tuple(y.shape)
    # interleave the dims, (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...), then merge each pair
    blocks = a.reshape(tuple(v for s in sa for v in (s, 1))) * \
        b.reshape(tuple(v for s in sb for v in (1, s)))
    return blocks.reshape(tuple(p * q for p, q in zip(sa, sb)))


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of ``x1`` ``(..., P, M)`` and each row of ``x2``
    ``(..., R, M)``: a ``(..., P, R)`` tensor; the batch dims broadcast.

    ``p = 2`` uses ``|a|^2 + |b|^2 - 2 a.b`` (one matrix product) when ``P`` or ``R`` exceeds 25,
    as PyTorch does by default; other ``p`` (0, 1, inf and any positive number) sum over the
    differences. The gradient at a zero distance is 0, as in PyTorch.
    """
    a, b, xa, xb = _operands("cdist", x1, x2)
    for arg, arr in (("X1", xa), ("X2", xb)):
        if arr.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {arg} got shape "
                               f"{tuple(arr.shape)}")
        if arr.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {arg} got "
                               f"{backend.dtype_of(arr)}")
    if xa.shape[-1] != xb.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: "
                           f"{xa.shape[-1]} X2: {xb.shape[-1]} (shapes {tuple(xa.shape)} and "
                           f"{tuple(xb.shape)})")
    _same_dtype("cdist", a, b)
    p = float(p)
    if not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: {compute_mode!r} is not a valid value for compute_mode "
                         f"(one of {', '.join(_CDIST_MODES)})")
    try:
        np.broadcast_shapes(xa.shape[:-2], xb.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: the batch dims of X1 {tuple(xa.shape)} and X2 "
                           f"{tuple(xb.shape)} cannot be broadcast together") from None
    xp = get_array_module(xa)
    P, R = xa.shape[-2], xb.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _CDIST_MODES[0] and (P > 25 or R > 25)))
    if use_mm:
        sq = ((xa * xa).sum(-1)[..., :, None] + (xb * xb).sum(-1)[..., None, :]
              - 2 * xp.matmul(xa, xb.swapaxes(-1, -2)))
        out = xp.sqrt(xp.maximum(sq, 0))
    else:
        diff = xp.abs(xa[..., :, None, :] - xb[..., None, :, :])
        if diff.shape[-1] == 0:
            out = xp.zeros(diff.shape[:-1], dtype=xa.dtype)
        elif p == 0:
            out = (diff != 0).sum(-1).astype(xa.dtype)
        elif p == 1:
            out = diff.sum(-1)
        elif p == 2:
            out = xp.sqrt((diff * diff).sum(-1))
        elif p == math.inf:
            out = diff.max(-1)
        else:
            out = (diff ** p).sum(-1) ** (1.0 / p)

    result = Tensor._wrap(out)  # what the closure reads (no reference cycle)

    def backward(g, needs):
        if p == 0:
            return (zero_grad_like(a) if needs[0] else None,
                    zero_grad_like(b) if needs[1] else None)
        zero = result._data == 0
        if zero.any():  # d = 0 gets gradient 0: g masked there, d made 1 so no 0/0 is formed
            g = where_grad(g, ~zero)
            dist = result + Tensor._wrap(zero.astype(result._data.dtype))
        else:
            dist = result
        if p == 2:
            # w = g / d; then sum_j w_ij (a_i - b_j) is two matrix products
            w = g / dist
            ga = w.sum(-1, keepdim=True) * a - matmul(w, b) if needs[0] else None
            gb = w.sum(-2).unsqueeze(-1) * b - matmul(_swap_last(w), a) if needs[1] else None
        else:
            diff = a.unsqueeze(-2) - b.unsqueeze(-3)
            s = diff.sign()
            if p == 1:
                t = s * g.unsqueeze(-1)
            elif p == math.inf:
                ad = xp.abs(diff._data)
                t = where_grad(s * g.unsqueeze(-1), ad == result._data[..., None])
            else:
                # sign(d) |d|^(p-1) / dist^(p-1), with |d| made 1 where d = 0 (sign is 0
                # there), so that p < 1 forms no 0 * inf
                dz = Tensor._wrap((diff._data == 0).astype(diff._data.dtype))
                t = s * (diff.abs() + dz) ** (p - 1) * (g / dist ** (p - 1)).unsqueeze(-1)
            ga = t.sum(-2) if needs[0] else None
            gb = -t.sum(-3) if needs[1] else None
        return ga, gb

    return record("Cdist", result, (a, b), backward, (a, b))


# ---------------------------------------------------------------------------------- einsum

_LETTERS = string.ascii_letters


def _einsum_error(equation, msg):
    return RuntimeError(f"einsum(): {msg} (equation {equation!r})")


def _parse_einsum(equation: str, shapes):
    """Rewrite ``equation`` with explicit letters for ``...`` and an explicit output.

    Returns ``(terms, output)``: one subscript string per operand, each exactly as long as the
    operand's ndim, and the output subscripts.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _einsum_error(equation, f"the equation has {len(terms)} operand(s) but "
                                      f"{len(shapes)} tensor(s) were given")
    for ch in lhs.replace(",", "").replace("...", "") + rhs.replace("...", ""):
        if ch not in _LETTERS:
            raise _einsum_error(equation, f"invalid subscript {ch!r}: use letters a-z, A-Z "
                                          "and '...'")
    used = set(c for c in eq if c in _LETTERS)
    extra = []
    for i, (t, s) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if t.count("...") > 1:
            raise _einsum_error(equation, f"operand {i} has more than one '...'")
        if "..." in t:
            if named > len(s):
                raise _einsum_error(equation, f"operand {i} of shape {tuple(s)} has fewer dims "
                                              f"than its {named} subscripts")
            extra.append(len(s) - named)
        else:
            if named != len(s):
                raise _einsum_error(
                    equation, f"the number of subscripts ({named}) does not match the number of "
                              f"dimensions ({len(s)}) of operand {i} (shape {tuple(s)}) and no "
                              "ellipsis was given")
            extra.append(0)
    n_ell = max(extra, default=0)
    free = [c for c in _LETTERS if c not in used]
    if n_ell > len(free):
        raise _einsum_error(equation, "too many dimensions: ran out of subscript letters")
    ell = "".join(free[:n_ell])
    terms = [t.replace("...", ell[n_ell - e:]) for t, e in zip(terms, extra)]
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise _einsum_error(equation, f"output subscript {c!r} appears more than once")
            if not any(c in t for t in terms):
                raise _einsum_error(equation, f"output subscript {c!r} does not appear in the "
                                              "operands")
    else:
        joined = "".join(t for t in terms)
        named = sorted(c for c in set(joined) if c not in ell and joined.count(c) == 1)
        out = ell + "".join(named)
    sizes = {}
    for i, (t, s) in enumerate(zip(terms, shapes)):
        for c, n in zip(t, s):
            if t.count(c) > 1 and sizes.get((i, c), n) != n:
                raise _einsum_error(equation, f"subscript {c!r} is repeated in operand {i} "
                                              f"(shape {tuple(s)}) but the dims differ")
            sizes[(i, c)] = n
            have = sizes.get(c, 1)
            if n != 1 and have != 1 and n != have:
                raise _einsum_error(
                    equation, f"subscript {c!r} has size {n} in operand {i} (shape {tuple(s)}) "
                              f"but size {have} elsewhere; shapes: "
                              f"{', '.join(str(tuple(x)) for x in shapes)}")
            sizes[c] = n if have == 1 else have
    return terms, out


def _einsum_arrays(eq: str, arrays):
    xp = get_array_module(arrays[0])
    # with two or more operands the optimised path contracts through BLAS (tensordot)
    out = xp.einsum(eq, *arrays, optimize=len(arrays) >= 2)
    if len(arrays) == 1 and getattr(out, "ndim", 0) and xp.may_share_memory(out, arrays[0]):
        out = out.copy()  # pure permutations/diagonals come back as views of the input
    return out


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)``.

    Supports implicit outputs, repeated subscripts (diagonals), ``...`` with broadcasting, and
    size-1 dims that broadcast. Each operand's gradient is itself an einsum.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    first = next((o for o in operands if isinstance(o, Tensor)), None)
    if first is None:
        raise TypeError("einsum(): expected Tensor operands")
    ops = [o if isinstance(o, Tensor) else as_tensor_like(o, first) for o in operands]
    arrays = [o._data for o in ops]
    check_same_device("einsum", *arrays)
    for o in ops[1:]:
        if o._data.dtype != arrays[0].dtype:
            raise RuntimeError(
                f"einsum(): expected all operands to have the same dtype, but got "
                f"{', '.join(str(t.dtype) for t in ops)} (shapes "
                f"{', '.join(str(tuple(t.shape)) for t in ops)}); convert with .to(dtype)")
    terms, out_term = _parse_einsum(equation, [a.shape for a in arrays])
    eq = ",".join(terms) + "->" + out_term
    out = _einsum_arrays(eq, arrays)
    need = [o.requires_grad for o in ops]

    def backward(g, needs):
        return tuple(_einsum_grad(g, ops, terms, out_term, i) if need else None
                     for i, need in enumerate(needs))

    saved = tuple(o for j, o in enumerate(ops)
                  if any(need[i] for i in range(len(ops)) if i != j))
    return record("Einsum", out, tuple(ops), backward, saved=saved)


def _einsum_grad(g: Tensor, ops, terms, out_term: str, i: int) -> Tensor:
    """Gradient of an einsum for operand ``i``: an einsum of the output gradient with the other
    operands, then dims summed only inside operand ``i`` broadcast back, broadcast dims summed,
    and repeated subscripts (diagonals) scattered back onto the diagonal."""
    term = terms[i]
    shape = ops[i].shape
    uniq = "".join(dict.fromkeys(term))
    others = [j for j in range(len(ops)) if j != i]
    avail = set(out_term).union(*(terms[j] for j in others))
    keep = "".join(c for c in uniq if c in avail)
    eq = ",".join([out_term] + [terms[j] for j in others]) + "->" + keep
    gi = einsum(eq, g, *[ops[j] for j in others])
    size = {c: shape[term.index(c)] for c in uniq}
    have = tuple(gi.shape[keep.index(c)] if c in keep else 1 for c in uniq)
    if len(have) != gi.ndim:
        gi = gi.reshape(have)
    target = tuple(size[c] for c in uniq)
    summed = tuple(k for k in range(len(uniq)) if target[k] == 1 and have[k] != 1)
    if summed:
        gi = gi.sum(summed, keepdim=True)
    if tuple(gi.shape) != target:
        gi = gi.expand(target)
    if len(uniq) != len(term):
        used = set("".join(terms) + out_term)
        fresh = iter(c for c in _LETTERS if c not in used)
        renamed, pairs = [], []
        for pos, c in enumerate(term):
            if term.index(c) == pos:
                renamed.append(c)
            else:
                f = next(fresh)
                renamed.append(f)
                pairs.append(c + f)
        xp = get_array_module(gi._data)
        eyes = [Tensor._wrap(xp.eye(size[p[0]], dtype=gi._data.dtype)) for p in pairs]
        gi = einsum(",".join([uniq] + pairs) + "->" + "".join(renamed), gi, *eyes)
    return gi


def tensordot(a: Tensor, b: Tensor, dims=2, *, out: Tensor | None = None) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first ``dims`` of ``b``, or the dims
    listed in ``dims = (dims_of_a, dims_of_b)``."""
    if out is not None:
        return write_out("tensordot", out, tensordot(a, b, dims))
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is invalid for shapes {tuple(a.shape)} "
                               f"and {tuple(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both sides of dims must list the same number of dims, got "
                           f"{da} and {db}")
    da = [d % max(a.ndim, 1) for d in da]
    db = [d % max(b.ndim, 1) for d in db]
    if a.ndim + b.ndim > len(_LETTERS):
        raise RuntimeError(f"tensordot: too many dims: the operands have {a.ndim} + {b.ndim}, "
                           f"at most {len(_LETTERS)} in all")
    la = list(_LETTERS[:a.ndim])
    lb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in dim {y} (shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)})")
        lb[y] = la[x]
    out = [c for k, c in enumerate(la) if k not in da] + [c for k, c in enumerate(lb) if k not in db]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "einsum", "tensordot", "addmm",
           "addmv", "addbmm", "baddbmm", "addr", "trace", "cross", "kron", "cdist"]

attach(matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot, inner=inner, outer=outer,
       __matmul__=matmul, __rmatmul__=rmatmul,
       addmm=addmm, addmv=addmv, addbmm=addbmm, baddbmm=baddbmm, addr=addr, trace=trace,
       cross=cross, kron=kron,
       addmm_=inplace_method(addmm, "addmm_"), addmv_=inplace_method(addmv, "addmv_"),
       addbmm_=inplace_method(addbmm, "addbmm_"), baddbmm_=inplace_method(baddbmm, "baddbmm_"),
       addr_=inplace_method(addr, "addr_"))
