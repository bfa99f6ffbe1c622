"""``DistributedSampler``: each process of a data-parallel job reads its own share of a dataset.

Semantics follow PyTorch's: every epoch all ranks compute the same order (a permutation seeded
by ``seed + epoch`` when shuffling), pad it by repeating its first indices until it divides
evenly (or cut it, with ``drop_last``), and rank ``r`` takes every ``num_replicas``-th index
starting at ``r``. Every rank therefore gets the same number of samples, which keeps the ranks'
gradient steps in lockstep. The permutation comes from NumPy's generator, so the exact order
differs from PyTorch's for the same seed.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ember.utils.data.sampler import Sampler


def _group_default(num_replicas, rank):
    if num_replicas is not None and rank is not None:
        return num_replicas, rank
    from ember import distributed as dist

    if not dist.is_initialized():
        raise RuntimeError(
            "DistributedSampler needs num_replicas and rank, or an initialised process group "
            "(ember.distributed.init_process_group())"
        )
    return (dist.get_world_size() if num_replicas is None else num_replicas,
            dist.get_rank() if rank is None else rank)


class DistributedSampler(Sampler):
    """The indices of one rank's share of ``dataset``, reshuffled per epoch with ``set_epoch``.

    Args:
        dataset: anything with ``len``.
        num_replicas: number of ranks (default: the process group's world size).
        rank: this rank (default: the process group's rank).
        shuffle: a new permutation every epoch (call :meth:`set_epoch` before each epoch,
            otherwise every epoch repeats the same order).
        seed: the base of the permutation's seed; must be the same on all ranks.
        drop_last: cut the tail so the length divides evenly instead of padding it with
            repeated indices.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        num_replicas, rank = _group_default(num_replicas, rank)
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(n).astype(np.int64)
        return np.arange(n, dtype=np.int64)

    def _indices(self) -> np.ndarray:
        """This rank's indices for the current epoch (what ``BatchSampler`` slices)."""
        order = self._order()
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > len(order):
            # pad with the order's own first indices (cycled when the dataset is tiny)
            order = np.resize(order, self.total_size) if len(order) else order
        return order[self.rank: self.total_size: self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch``'s permutation next (call it at the start of every epoch, on every rank)."""
        self.epoch = int(epoch)


class _ShardSampler(Sampler):
    """Every ``num_replicas``-th index from ``rank``, without padding (for evaluation).

    Shares may differ in length by one; each sample is counted exactly once across the ranks,
    which is what exact validation metrics need. Used by ``Model.fit``/``evaluate``.
    """

    def __init__(self, dataset, num_replicas: int, rank: int):
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank

    def _indices(self) -> np.ndarray:
        return np.arange(self.rank, len(self.dataset), self.num_replicas, dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return len(range(self.rank, len(self.dataset), self.num_replicas))
