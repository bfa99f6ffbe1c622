"""``ember.nn.parallel``: :class:`DistributedDataParallel` (data parallelism over processes)."""

from ember.nn.parallel.distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
