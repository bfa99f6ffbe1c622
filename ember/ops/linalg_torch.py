"""The LU functions under their ``torch`` names and argument orders (``torch.lu``,
``torch.lu_solve(b, LU_data, LU_pivots)``), which differ from ``torch.linalg``'s; the work is done
by :mod:`ember.ops.linalg_decomp`."""

from __future__ import annotations

from ember.ops.common import Tensor, attach
from ember.ops.linalg_decomp import lu_factor_ex
from ember.ops.linalg_decomp import lu_solve as _linalg_lu_solve


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``(LU, pivots)`` of each matrix, plus ``infos`` when ``get_infos``
    (``torch.linalg.lu_factor_ex`` under its older name)."""
    out = lu_factor_ex(A, pivot=pivot)
    return (out.LU, out.pivots, out.info) if get_infos else (out.LU, out.pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The solution of ``A X = b`` from ``A``'s :func:`lu` (``torch.linalg.lu_solve`` with the
    older argument order)."""
    return _linalg_lu_solve(LU_data, LU_pivots, b)


__all__ = ["lu", "lu_solve"]

attach(lu=lu, lu_solve=lu_solve)
