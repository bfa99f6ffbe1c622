"""``ReduceOp``: how the reducing collectives combine the ranks' values.

A module of its own so both transports (MPI in ``process_group``, NCCL in ``_nccl``) can name the
ops without importing each other.
"""

from __future__ import annotations

import enum


class ReduceOp(enum.Enum):
    """How :func:`~ember.distributed.all_reduce` and :func:`~ember.distributed.reduce` combine
    the ranks' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self) -> str:
        return f"ReduceOp.{self.name}"
