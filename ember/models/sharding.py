"""One rank's share of the batches for a distributed ``fit``/``evaluate``.

Wraps the adapters of :mod:`ember.models.data_adapter`: in-memory arrays take their indices from
a ``DistributedSampler`` (training) or an unpadded shard (evaluation); a ``DataLoader`` is rebuilt
over a sharding sampler unless the user sharded it already.
"""

from __future__ import annotations

import math

from ember.models.data_adapter import ArrayBatches, GeneratorBatches, LoaderBatches


class ShardedArrayBatches(ArrayBatches):
    """One rank's share of in-memory arrays: the indices come from a sampler
    (``DistributedSampler`` for training, an unpadded shard for evaluation)."""

    def __init__(self, base: ArrayBatches, sampler):
        self.x, self.y, self.w, self.n = base.x, base.y, base.w, base.n
        self.batch_size, self.shuffle = base.batch_size, base.shuffle
        self.sampler = sampler

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.sampler) / self.batch_size)

    def _order(self):
        return self.sampler._indices()


class ShardedLoaderBatches(LoaderBatches):
    """Batches from a ``DataLoader`` whose sampler gives this rank its share."""

    def set_epoch(self, epoch: int) -> None:
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def shard_batches(batches, rank: int, world_size: int, train: bool, seed: int = 0):
    """This rank's part of ``batches`` for a distributed ``fit``/``evaluate``.

    Training uses ``DistributedSampler`` semantics (a shared permutation padded to equal shares,
    so every rank runs the same number of gradient steps); evaluation uses unpadded shards, so
    every sample is counted exactly once when the ranks' sums are combined.
    """
    import warnings

    from ember.utils.data import DataLoader, DistributedSampler, RandomSampler
    from ember.utils.data.distributed import _ShardSampler

    def sampler_for(source, shuffle):
        if train:
            return DistributedSampler(source, world_size, rank, shuffle=shuffle, seed=seed)
        return _ShardSampler(source, world_size, rank)

    if isinstance(batches, GeneratorBatches):
        raise ValueError("distributed fit/evaluate cannot share a generator out among the ranks; "
                         "pass arrays, a Dataset or a DataLoader (each rank then gets its share)")
    if isinstance(batches, ArrayBatches):
        return ShardedArrayBatches(batches, sampler_for(range(batches.n), batches.shuffle))
    loader = batches.loader
    if isinstance(getattr(loader, "sampler", None), DistributedSampler):
        return ShardedLoaderBatches(loader, batches.device)  # the user sharded it already
    if getattr(loader, "_iterable", False) or loader.batch_size is None or not hasattr(
            getattr(loader, "batch_sampler", None), "sampler"):
        warnings.warn(
            "distributed fit: this DataLoader (an IterableDataset or a custom batch_sampler) "
            "cannot be sharded automatically, so every rank reads all of it; give it a "
            "DistributedSampler yourself", UserWarning, stacklevel=3)
        return batches
    shuffle = isinstance(loader.sampler, RandomSampler)
    sharded = DataLoader(loader.dataset, batch_size=loader.batch_size,
                         sampler=sampler_for(loader.dataset, shuffle), collate_fn=loader.collate_fn,
                         drop_last=loader.drop_last)
    return ShardedLoaderBatches(sharded, batches.device)
