"""Tensor methods PyTorch offers under more than one name, or in place, built from the ops that
already exist (so each is defined once): the in-place comparisons (``x.gt_(0)`` writes 1/0 in
``x``'s dtype), in-place aliases (``multiply_``, ``divide_``, ...), the NumPy names of the
inverse hyperbolic functions, and small methods defined by other ops (``adjoint`` is ``mH``,
``split_with_sizes`` is ``split``, ``sum_to_size`` sums broadcast dimensions away), the
in-place view changes (``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``, ...),
``fill_diagonal_``, ``nonzero_static`` and the random fills ``cauchy_``, ``geometric_`` and
``log_normal_``.
"""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.autograd import graph
from ember.ops.common import Tensor, attach, inplace_method, prepare_inplace, unbroadcast
from ember.ops.compare import (
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge, gt, le, lt, ne, where,
)
from ember.ops.indexing import nonzero
from ember.ops.sampling import _fill
from ember.ops.elementwise import div, mul, neg, sub
from ember.ops.shape import cat, split, squeeze, t, transpose, tril, triu, unsqueeze
from ember.random import get_rng
from ember.ops.unary import acosh, asinh, atanh


def _split_with_sizes(self: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``split`` with a list of sizes, as ``Tensor.split_with_sizes``."""
    return split(self, list(split_sizes), dim)


def _sum_to_size(self: Tensor, *size) -> Tensor:
    """This tensor summed over the dimensions it was broadcast along from ``size``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(self._data.shape)
    if len(size) > len(shape) or any(s not in (1, n) for s, n in zip(size[::-1], shape[::-1])):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size "
                           f"{list(shape)}")
    return unbroadcast(self, tuple(size))


def _adjoint(self: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (``mH``; ``mT`` for real dtypes)."""
    return self.mH


def _isreal(self: Tensor) -> Tensor:
    """True for every element: ember's dtypes are all real."""
    from ember.creation import ones_like

    return ones_like(self, dtype="bool")


def _view_in_place(fn, name: str):
    """The in-place form of view op ``fn`` (``x.t_()``): this tensor takes the view's shape and
    strides over the same memory, and the view's history when one is recorded."""

    def method(input: Tensor, *args, **kwargs) -> Tensor:
        prepare_inplace(input, name)  # refuses a leaf that requires grad, as PyTorch
        view = fn(input, *args, **kwargs)
        input._data = view._data
        input._version += 1  # whoever saved this tensor for backward saved its old shape
        if view._node is not None:
            graph.HISTORY_REWRITTEN = True
            input._node, input._base = view._node, None
        return input

    method.__name__ = name
    method.__doc__ = f"In-place version of :func:`{fn.__name__}` (this tensor becomes the view)."
    return method


def _fill_diagonal(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """``input`` with its main diagonal (of a matrix, or of a tensor whose dims are all equal)
    set to ``fill_value``; ``wrap`` restarts the diagonal below a tall matrix's square part, as
    ``Tensor.fill_diagonal_``."""
    shape = input._data.shape
    if len(shape) < 2 or (len(shape) > 2 and len(set(shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: dimensions must be at least 2 and all of equal length "
                           f"beyond 2 dims, got shape {tuple(shape)}")
    mask = np.zeros(shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    mask = Tensor._wrap(backend.move_array(mask, input.device))
    return where(mask, Tensor._wrap(backend.get_array_module(input._data).asarray(
        fill_value, dtype=input._data.dtype)), input)


def _nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """The indices of the nonzero elements (as :func:`nonzero`) cut or padded with
    ``fill_value`` rows to exactly ``size`` rows, as ``Tensor.nonzero_static``."""
    found = nonzero(input)
    rows = found._data.shape[0]
    if rows >= size:
        return found[:size]
    xp = backend.get_array_module(found._data)
    pad = xp.full((size - rows, found._data.shape[1]), fill_value, dtype=found._data.dtype)
    return cat([found, Tensor._wrap(pad)], 0)


def _cauchy_(input: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi * (u - 1/2))``."""
    u = get_rng(generator).random(input.shape)
    return _fill(input, median + sigma * np.tan(np.pi * (u - 0.5)), "cauchy_")


def _geometric_(input: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...)."""
    if not 0 < p <= 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1], but got p={p}")
    return _fill(input, get_rng(generator).geometric(p, input.shape), "geometric_")


def _log_normal_(input: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill with ``exp`` of normal samples of the given ``mean`` and ``std``."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(input, get_rng(generator).lognormal(mean, std, input.shape), "log_normal_")


_IN_PLACE = {"eq_": eq, "ne_": ne, "lt_": lt, "le_": le, "gt_": gt, "ge_": ge,
             "bitwise_and_": bitwise_and, "bitwise_or_": bitwise_or, "bitwise_xor_": bitwise_xor,
             "bitwise_not_": bitwise_not, "tril_": tril, "triu_": triu}
_IN_PLACE_ALIASES = {"greater_": "gt_", "greater_equal_": "ge_", "less_": "lt_",
                     "less_equal_": "le_", "not_equal_": "ne_"}

attach(**{name: inplace_method(fn, name) for name, fn in _IN_PLACE.items()})
attach(**{alias: getattr(Tensor, name) for alias, name in _IN_PLACE_ALIASES.items()})
attach(
    multiply_=inplace_method(mul, "multiply_"), divide_=inplace_method(div, "divide_"),
    true_divide_=inplace_method(div, "true_divide_"), subtract_=inplace_method(sub, "subtract_"),
    negative_=inplace_method(neg, "negative_"),
    arccosh=acosh, arcsinh=asinh, arctanh=atanh,
    arccosh_=inplace_method(acosh, "arccosh_"), arcsinh_=inplace_method(asinh, "arcsinh_"),
    arctanh_=inplace_method(atanh, "arctanh_"),
    adjoint=_adjoint, isreal=_isreal,
    split_with_sizes=_split_with_sizes, sum_to_size=_sum_to_size,
    t_=_view_in_place(t, "t_"), transpose_=_view_in_place(transpose, "transpose_"),
    swapaxes_=_view_in_place(transpose, "swapaxes_"), swapdims_=_view_in_place(transpose, "swapdims_"),
    squeeze_=_view_in_place(squeeze, "squeeze_"), unsqueeze_=_view_in_place(unsqueeze, "unsqueeze_"),
    fill_diagonal_=inplace_method(_fill_diagonal, "fill_diagonal_"), nonzero_static=_nonzero_static,
    cauchy_=_cauchy_, geometric_=_geometric_, log_normal_=_log_normal_,
)

arccosh, arcsinh, arctanh = acosh, asinh, atanh

__all__ = ["arccosh", "arcsinh", "arctanh"]
