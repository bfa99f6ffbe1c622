"""Tensor methods PyTorch offers under more than one name, or in place, built from the ops that
already exist (so each is defined once): the in-place comparisons (``x.gt_(0)`` writes 1/0 in
``x``'s dtype), in-place aliases (``multiply_``, ``divide_``, ...), the NumPy names of the
inverse hyperbolic functions, and small methods defined by other ops (``ger`` is ``outer``,
``vdot`` of real vectors is ``dot``, ``adjoint`` is ``mH``, ``split_with_sizes`` is ``split``,
``sum_to_size`` sums broadcast dimensions away).
"""

from __future__ import annotations

from ember.ops.common import Tensor, attach, inplace_method, unbroadcast
from ember.ops.compare import (
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge, gt, le, lt, ne,
)
from ember.ops.elementwise import div, mul, neg, sub
from ember.ops.linalg import dot, outer
from ember.ops.shape import split, tril, triu
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


def _vdot(self: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (no conjugation needed: ember's dtypes are real)."""
    return dot(self, other)


def _adjoint(self: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (``mH``; ``mT`` for real dtypes)."""
    return self.mH


def _isreal(self: Tensor) -> Tensor:
    """True for every element: ember's dtypes are all real."""
    from ember.creation import ones_like

    return ones_like(self, dtype="bool")


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
    ger=outer, vdot=_vdot, adjoint=_adjoint, isreal=_isreal,
    split_with_sizes=_split_with_sizes, sum_to_size=_sum_to_size,
)

arccosh, arcsinh, arctanh, ger = acosh, asinh, atanh, outer

__all__ = ["arccosh", "arcsinh", "arctanh", "ger"]
