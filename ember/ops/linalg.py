"""Linear algebra: matmul (and the ``@`` operator), mm, bmm, mv, dot, outer, einsum, tensordot.

matmul is the hot path of every network: its forward is one BLAS call on the arrays as they are
(transposed views included, never copied to contiguous first) and its backward is two more
matmuls, computed only for the inputs that need a gradient.
"""

from __future__ import annotations

import string

import numpy as np

from ember.backend import get_array_module
from ember.ops.common import Tensor, as_tensor_like, attach, check_same_device, record, unbroadcast

# ---------------------------------------------------------------------------------- matmul


def _swap_last(x: Tensor) -> Tensor:
    """The last two dims swapped, as a view (``x.mT``); its gradient swaps them back."""
    return record("TransposeLast", x._data.swapaxes(-1, -2), (x,), lambda g: (_swap_last(g),))


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
        raise RuntimeError(
            f"{name}(): expected both operands to have the same dtype, but got {a.dtype} and "
            f"{b.dtype} (shapes {tuple(a.shape)} and {tuple(b.shape)}); convert one with .to(dtype)"
        )


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


def matmul(a, b) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D operands are vectors (a leading or trailing dim
    that is removed again), dims before the last two are batch dims and broadcast."""
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
        out = xp.matmul(x.reshape(-1, x.shape[-1]), y).reshape(x.shape[:-1] + (y.shape[-1],))
    else:
        try:
            out = xp.matmul(x, y)
        except ValueError:
            raise _matmul_error(x.shape, y.shape) from None
    need_a, need_b = a.requires_grad, b.requires_grad
    if x.ndim == 2 and y.ndim == 2:
        def backward(g):
            return (matmul(g, _swap_last(b)) if need_a else None,
                    matmul(_swap_last(a), g) if need_b else None)

        return record("Mm", out, (a, b), backward, saved=_read_by_backward(a, b, need_a, need_b))

    sa, sb = x.shape, y.shape

    def backward(g):
        # treat vectors as (1, k) and (k, 1) matrices, then undo broadcasting of the batch dims
        a2 = a if len(sa) >= 2 else a.reshape(1, sa[0])
        b2 = b if len(sb) >= 2 else b.reshape(sb[0], 1)
        s2 = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        g2 = g if g.shape == s2 else g.reshape(s2)
        ga = gb = None
        if need_a:
            ga = unbroadcast(matmul(g2, _swap_last(b2)), a2.shape)
            ga = ga if len(sa) >= 2 else ga.reshape(sa)
        if need_b:
            if len(sb) == 2 and len(s2) > 2 and len(sa) > 2:
                # the weight of a batched product: one GEMM over the folded batch
                gb = matmul(_swap_last(a2.reshape(-1, sa[-1])), g2.reshape(-1, s2[-1]))
            else:
                gb = unbroadcast(matmul(_swap_last(a2), g2), b2.shape)
            gb = gb if len(sb) >= 2 else gb.reshape(sb)
        return ga, gb

    return record("Matmul", out, (a, b), backward, saved=_read_by_backward(a, b, need_a, need_b))


def _read_by_backward(a, b, need_a, need_b):
    """The inputs a product's backward reads: each one's gradient needs only the other, so an
    input that only feeds a gradient-free side may change in place afterwards (as in PyTorch)."""
    return ((a,) if need_b else ()) + ((b,) if need_a else ())


def rmatmul(a, b) -> Tensor:
    """``b @ a`` (the reflected ``@``)."""
    return matmul(b, a)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two matrices (2-D only; see :func:`matmul` for broadcasting)."""
    for name, t in (("self", a), ("mat2", b)):
        if not isinstance(t, Tensor) or t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shape "
                               f"{tuple(getattr(t, 'shape', ()))}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of ``(B, n, k)`` and ``(B, k, m)`` (3-D only, batch sizes equal)."""
    for name, t in (("batch1", a), ("batch2", b)):
        if not isinstance(t, Tensor) or t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape "
                               f"{tuple(getattr(t, 'shape', ()))}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"bmm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied: expected "
            f"batch2 of shape [{a.shape[0]}, {a.shape[2]}, *], got {list(b.shape)}"
        )
    return matmul(a, b)


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix ``(n, k)`` times vector ``(k,)``."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} and "
                           f"{tuple(v.shape)}")
    return matmul(a, v)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length (a 0-d result)."""
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


def inner(a: Tensor, b: Tensor) -> Tensor:
    """Sum of products over the last dim of both (``dot`` for vectors)."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of vectors ``(n,)`` and ``(m,)``: an ``(n, m)`` matrix."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


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

    def backward(g):
        grads = []
        for i in range(len(ops)):
            if not need[i]:
                grads.append(None)
                continue
            grads.append(_einsum_grad(g, ops, terms, out_term, i))
        return tuple(grads)

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


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first ``dims`` of ``b``, or the dims
    listed in ``dims = (dims_of_a, dims_of_b)``."""
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


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "einsum", "tensordot"]

attach(matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot, inner=inner, outer=outer,
       __matmul__=matmul, __rmatmul__=rmatmul)
