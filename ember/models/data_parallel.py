"""Distributed reduction for ``fit``/``evaluate``: data parallelism over an
``ember.distributed`` process group.

Each rank trains on its shard of the batches; gradients are averaged by a ``Reducer`` hooked
onto the model, the epoch's logs are reduced across ranks (sample-weighted sums and counts
added, compiled metrics merged through their :meth:`~ember.metrics.Metric.state`), and the
callbacks that write files or progress run on rank 0 only.
"""

from __future__ import annotations

import sys

from ember import backend
from ember.callbacks import CSVLogger, ModelCheckpoint, ProgbarLogger
from ember.models.epoch_logs import EpochLogs
from ember.models.sharding import shard_batches


def process_group():
    """The ``ember.distributed`` group when one with several ranks exists, else ``None``.

    Looked up in ``sys.modules`` so a single-process ``fit`` never imports the distributed
    package (or mpi4py).
    """
    mod = sys.modules.get("ember.distributed.process_group")
    return mod._active_group() if mod is not None else None


def reduce_logs(running: EpochLogs, model, group) -> dict:
    """The epoch's logs over every rank's samples: sample-weighted sums and counts are added,
    compiled metrics' states merged (so accuracy/F1 are exact, uneven shards included)."""
    from ember import distributed as dist

    metrics = model.compiled_metrics
    mine = {"count": running.count, "sums": running.sums, "latest": sorted(running.latest),
            "metrics": [m.state() for m in metrics]}
    everyone = [None] * group.world_size
    dist.all_gather_object(everyone, mine)
    count = sum(e["count"] for e in everyone)
    sums: dict[str, float] = {}
    for e in everyone:
        for k, v in e["sums"].items():
            sums[k] = sums.get(k, 0.0) + v
    seen = set().union(*(e["latest"] for e in everyone))
    for i, m in enumerate(metrics):
        m.merge([e["metrics"][i] for e in everyone])
    out = {k: v / count for k, v in sums.items()} if count else {}
    out.update(running.latest)  # rank-local values that are not compiled metrics
    out.update({m.name: m.result() for m in metrics if m.name in seen})
    return out


def any_rank(group, flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (keeps early stops in lockstep)."""
    from ember import distributed as dist
    from ember.creation import tensor

    t = tensor([1 if flag else 0], dtype=backend.int32)
    dist.all_reduce(t, dist.ReduceOp.MAX)
    return bool(t.item())


def is_writer(cb) -> bool:
    """Callbacks that write files or progress: they run on rank 0 only."""
    return isinstance(cb, (ProgbarLogger, CSVLogger, ModelCheckpoint)) or bool(
        getattr(cb, "rank_zero_only", False))


def shard_for_evaluation(batches, callbacks, verbose, group):
    """``(batches, callbacks, verbose)`` of this rank for ``evaluate``: its shard, and no
    output except on rank 0."""
    batches = shard_batches(batches, group.rank, group.world_size, False)
    if group.rank != 0:
        verbose = 0
        callbacks = [cb for cb in (callbacks or []) if not is_writer(cb)]
    return batches, callbacks, verbose


def distribute(model, group, train_batches, val_batches, callbacks):
    """Set ``fit`` up for data parallelism: shards, gradient averaging, rank-0-only output.

    Returns ``(train_batches, val_batches, callbacks, undo)``; ``undo()`` detaches what was
    attached here and restores the callbacks' verbosity.
    """
    from ember import distributed as dist
    from ember.random import get_rng

    # one shuffling seed for all ranks (drawn from rank 0's generator, so manual_seed applies)
    seed = [int(get_rng().integers(0, 2**31 - 1))]
    dist.broadcast_object_list(seed, src=0)
    train_batches = shard_batches(train_batches, group.rank, group.world_size, True, seed[0])
    if val_batches is not None:
        val_batches = shard_batches(val_batches, group.rank, group.world_size, False)
    callbacks = list(callbacks or [])
    muted = []
    if group.rank != 0:
        callbacks = [cb for cb in callbacks if not is_writer(cb)]
        for cb in callbacks:  # EarlyStopping & co. decide on every rank but print on rank 0
            if getattr(cb, "verbose", 0):
                muted.append((cb, cb.verbose))
                cb.verbose = 0
    reducer = model.__dict__.get("_ddp_reducer")
    own = reducer is None
    if own:  # not wrapped by the user: attach gradient averaging for this fit only
        from ember.nn.parallel.distributed import Reducer

        reducer = Reducer(model)
        reducer.sync_module_state()
        model.__dict__["_ddp_reducer"] = reducer

    def undo():
        for cb, v in muted:
            cb.verbose = v
        if own:
            reducer.remove()
            model.__dict__.pop("_ddp_reducer", None)

    return train_batches, val_batches, callbacks, undo
