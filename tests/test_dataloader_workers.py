"""DataLoader with worker threads: the same batches in the same order as ``num_workers=0`` (and as
PyTorch's loader), PyTorch's worker semantics (get_worker_info, worker_init_fn, IterableDataset
sharding, per-worker seeds, errors naming the worker, timeout, persistent workers), and no
thread outliving its iterator."""

from __future__ import annotations

import gc
import math
import random
import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    get_worker_info,
)

N = 30
RNG = np.random.default_rng(0)
FEATS = RNG.standard_normal((N, 3)).astype(np.float32)
LABELS = RNG.integers(0, 5, size=N)


class Jittery(Dataset):
    """Sample ``i`` is ``(features, label)``; a random sleep of up to 2 ms per sample makes the
    workers finish their batches out of order."""

    def __init__(self, n: int = N):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        time.sleep(random.random() * 0.002)
        return FEATS[i], int(LABELS[i])


def _plain(x):
    """A batch as nested Python values (dtype kept for ember tensors), for exact comparison."""
    if isinstance(x, ember.Tensor):
        return ("tensor", str(x.dtype), x.numpy().tolist())
    if isinstance(x, torch.Tensor):
        return ("tensor", x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _values(x):
    """Like ``_plain`` without dtypes: to compare ember's batches with PyTorch's."""
    p = _plain(x)
    return _strip(p)


def _strip(p):
    if isinstance(p, tuple) and p and p[0] == "tensor":
        return p[-1]
    if isinstance(p, dict):
        return {k: _strip(v) for k, v in p.items()}
    if isinstance(p, list):
        return [_strip(v) for v in p]
    return p


def _baseline() -> int:
    """The thread count with no loader alive: a loader caught in a reference cycle (an exception
    kept by an earlier test) keeps its workers until the cycle is collected."""
    gc.collect()
    return threading.active_count()


def _epoch(loader) -> list:
    return [_plain(b) for b in loader]


def _dict_collate(samples):
    return {"x": default_collate([s[0] for s in samples]), "n": len(samples)}


def _gen(seed=7):
    return ember.Generator().manual_seed(seed)


# each entry builds the loader's keyword arguments afresh (samplers hold their generators)
CONFIGS = {
    "sequential": lambda ds: dict(batch_size=4),
    "shuffle_generator": lambda ds: dict(batch_size=4, shuffle=True, generator=_gen()),
    "shuffle_drop_last": lambda ds: dict(batch_size=7, shuffle=True, drop_last=True,
                                         generator=_gen(3)),
    "no_batching": lambda ds: dict(batch_size=None),
    "no_batching_shuffled": lambda ds: dict(batch_size=None, shuffle=True, generator=_gen(1)),
    "custom_collate": lambda ds: dict(batch_size=6, collate_fn=_dict_collate),
    "batch_sampler": lambda ds: dict(batch_sampler=BatchSampler(
        RandomSampler(ds, generator=_gen(5)), 4, False)),
    "list_batch_sampler": lambda ds: dict(batch_sampler=[[3, 1], [0], [29, 2, 8], [5, 5]]),
    "subset_sampler": lambda ds: dict(batch_size=3, sampler=SubsetRandomSampler(
        list(range(0, N, 2)), generator=_gen(2))),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("workers,prefetch", [(1, 1), (3, None), (4, 3)])
def test_same_batches_as_main_thread(name, workers, prefetch):
    ds = Jittery()
    want = _epoch(DataLoader(ds, **CONFIGS[name](ds)))
    got = _epoch(DataLoader(ds, num_workers=workers, prefetch_factor=prefetch,
                            **CONFIGS[name](ds)))
    assert got == want and len(got) > 0


@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=7, drop_last=True),
                                    dict(batch_size=None)])
def test_contents_match_torch(kwargs):
    ds = Jittery()
    torch_batches = [_values(b) for b in tud.DataLoader([ds[i] for i in range(N)], **kwargs)]
    ours = [_values(b) for b in DataLoader(ds, num_workers=3, **kwargs)]
    assert ours == torch_batches


def test_global_generator_shuffle_and_fast_path():
    ds = TensorDataset(ember.tensor(FEATS), ember.tensor(LABELS))
    ember.manual_seed(11)
    want = [_epoch(DataLoader(ds, batch_size=4, shuffle=True)) for _ in range(2)]
    ember.manual_seed(11)
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)
    got = [_epoch(loader) for _ in range(2)]
    assert got == want and want[0] != want[1]
    assert len(loader) == len(DataLoader(ds, batch_size=4)) == 8


def test_main_thread_path_unchanged():
    loader = DataLoader(Jittery(), batch_size=4)
    before = _baseline()
    it = iter(loader)
    assert iter(it) is it
    next(it)
    assert threading.active_count() == before


def test_worker_info_and_init_fn():
    assert get_worker_info() is None
    events, lock = [], threading.Lock()

    class Recording(Jittery):
        def __getitem__(self, i):
            info = get_worker_info()
            with lock:
                events.append(("load", info.id, i, threading.get_ident()))
            return super().__getitem__(i)

    def init(worker_id):
        info = get_worker_info()
        with lock:
            events.append(("init", worker_id, info, threading.get_ident()))
        time.sleep(0.01)  # loads must still wait for it

    ds = Recording()
    ember.manual_seed(0)
    loader = DataLoader(ds, batch_size=5, num_workers=3, worker_init_fn=init)
    assert len(list(loader)) == 6
    inits = [e for e in events if e[0] == "init"]
    assert sorted(e[1] for e in inits) == [0, 1, 2]
    for worker_id, info, ident in (e[1:] for e in inits):
        assert info.id == worker_id and info.num_workers == 3 and info.dataset is ds
        mine = [e for e in events if e[-1] == ident]
        assert mine[0][0] == "init" and all(e[1] == worker_id for e in mine)
    seeds = sorted(e[2].seed for e in inits)
    assert seeds == [seeds[0], seeds[0] + 1, seeds[0] + 2]
    # batch k (samples 5k .. 5k+4) is loaded by worker k % 3, as in PyTorch
    assert all(e[1] == (e[2] // 5) % 3 for e in events if e[0] == "load")
    with pytest.raises(RuntimeError, match="Cannot assign"):
        inits[0][2].seed = 1

    def seeds_of(loader):
        seen = set()
        loader.worker_init_fn = lambda w: seen.add(get_worker_info().seed)
        list(loader)
        return sorted(seen)

    ember.manual_seed(0)
    first = seeds_of(DataLoader(ds, batch_size=5, num_workers=2))
    again = seeds_of(DataLoader(ds, batch_size=5, num_workers=2))
    ember.manual_seed(0)
    assert seeds_of(DataLoader(ds, batch_size=5, num_workers=2)) == first != again
    with_gen = seeds_of(DataLoader(ds, batch_size=5, num_workers=2, generator=_gen(9)))
    assert seeds_of(DataLoader(ds, batch_size=5, num_workers=2, generator=_gen(9))) == with_gen


class PyTorchDocsRange(IterableDataset):
    """PyTorch's documented IterableDataset example: split ``range(start, end)`` between the
    workers inside ``__iter__``."""

    def __init__(self, start: int, end: int):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            lo, hi = self.start, self.end
        else:
            per_worker = int(math.ceil((self.end - self.start) / float(info.num_workers)))
            lo = self.start + info.id * per_worker
            hi = min(lo + per_worker, self.end)
        return iter(range(lo, hi))


class PlainRange(IterableDataset):
    def __init__(self, start: int, end: int):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))


def _split_in_init(worker_id):
    """PyTorch's documented worker_init_fn: narrow this worker's copy of the dataset."""
    info = get_worker_info()
    dataset = info.dataset
    overall_start, overall_end = dataset.start, dataset.end
    per_worker = int(math.ceil((overall_end - overall_start) / float(info.num_workers)))
    dataset.start = overall_start + worker_id * per_worker
    dataset.end = min(dataset.start + per_worker, overall_end)


def test_iterable_sharding_pytorch_docs_pattern():
    def items(loader):
        return [b.tolist() for b in loader]

    # the outputs PyTorch's documentation gives for this example
    assert items(DataLoader(PyTorchDocsRange(3, 7), num_workers=0)) == [[3], [4], [5], [6]]
    assert items(DataLoader(PyTorchDocsRange(3, 7), num_workers=2)) == [[3], [5], [4], [6]]
    assert items(DataLoader(PyTorchDocsRange(3, 7), num_workers=12)) == [[3], [4], [5], [6]]
    ds = PlainRange(3, 7)
    assert items(DataLoader(ds, num_workers=2, worker_init_fn=_split_in_init)) == \
        [[3], [5], [4], [6]]
    assert (ds.start, ds.end) == (3, 7)  # each worker narrowed its own copy
    # without sharding every worker yields the whole stream
    assert sorted(DataLoader(PlainRange(0, 3), num_workers=2, batch_size=None)) == \
        [0, 0, 1, 1, 2, 2]


class _UnevenStreams:
    """Worker ``w`` yields ``lengths[w]`` consecutive numbers of its own."""

    def __init__(self, lengths):
        self.lengths = lengths

    def __iter__(self):
        info = self.worker_info()
        w = 0 if info is None else info.id
        start = 100 * w
        return iter(range(start, start + self.lengths[w]))


class EmberUneven(_UnevenStreams, IterableDataset):
    worker_info = staticmethod(get_worker_info)


class TorchUneven(_UnevenStreams, tud.IterableDataset):
    worker_info = staticmethod(tud.get_worker_info)


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # torch, on small machines
def test_iterable_round_robin_matches_torch_workers():
    # streams of different lengths: exhausted workers drop out of the rotation, each worker's last
    # batch may be short; PyTorch's multi-process loader is the reference for the order
    lengths = [5, 1, 8]
    threads_before = threading.active_count()
    for kwargs in (dict(batch_size=2), dict(batch_size=2, drop_last=True)):
        want = [b.tolist() for b in tud.DataLoader(TorchUneven(lengths), num_workers=3, **kwargs)]
        got = [b.tolist() for b in DataLoader(EmberUneven(lengths), num_workers=3, **kwargs)]
        assert got == want
    want = [int(b) for b in tud.DataLoader(TorchUneven(lengths), num_workers=3, batch_size=None,
                                           prefetch_factor=1)]
    got = [int(b) for b in DataLoader(EmberUneven(lengths), num_workers=3, batch_size=None,
                                             prefetch_factor=1)]
    assert got == want
    # torch's queue threads end a moment after its iterators; the thread-count checks in the
    # other tests need them gone
    deadline = time.monotonic() + 10
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.01)


class Failing(Jittery):
    def __init__(self, bad: int, exc: Exception):
        super().__init__()
        self.bad, self.exc = bad, exc

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc
        return super().__getitem__(i)


class TwoArgError(Exception):
    def __init__(self, code, detail):
        super().__init__(f"{code}: {detail}")


def test_worker_exception_names_worker_at_its_batch():
    loader = DataLoader(Failing(7, ValueError("bad sample 7")), batch_size=2, num_workers=2)
    it = iter(loader)
    want = _epoch(DataLoader(Jittery(), batch_size=2))
    assert [_plain(next(it)) for _ in range(3)] == want[:3]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker thread 1") as e:
        next(it)  # batch 3 = samples 6, 7, loaded by worker 3 % 2
    assert "bad sample 7" in str(e.value)
    assert isinstance(e.value.__cause__, ValueError) and str(e.value.__cause__) == "bad sample 7"
    assert _plain(next(it)) == want[4]  # the loader goes on, as PyTorch's does
    del e, it

    before = _baseline()
    with pytest.raises(KeyError) as e:
        list(DataLoader(Failing(0, KeyError("missing")), batch_size=2, num_workers=2))
    assert str(e.value).startswith("Caught KeyError in DataLoader worker thread 0.")
    with pytest.raises(RuntimeError, match="Caught TwoArgError .* thread 0") as e:
        list(DataLoader(Failing(1, TwoArgError(3, "x")), batch_size=2, num_workers=2))
    assert isinstance(e.value.__cause__, TwoArgError)

    def broken_init(worker_id):
        raise OSError(f"no device for worker {worker_id}")

    with pytest.raises(OSError, match="(?s)worker thread 0.*no device for worker 0"):
        list(DataLoader(Jittery(), batch_size=2, num_workers=2, worker_init_fn=broken_init))
    with pytest.raises(OSError, match="worker thread 0"):
        list(DataLoader(PyTorchDocsRange(0, 9), num_workers=2, worker_init_fn=broken_init))
    # the exceptions' tracebacks held the iterators; once they are gone, so are the workers
    del e
    assert _baseline() == before


class Slow(Jittery):
    def __init__(self, slow: int, seconds: float):
        super().__init__()
        self.slow, self.seconds = slow, seconds

    def __getitem__(self, i):
        if i == self.slow:
            time.sleep(self.seconds)
        return super().__getitem__(i)


def test_timeout():
    before = _baseline()
    # generous margins: on a loaded 2-core CI machine an ordinary batch can take a while
    loader = DataLoader(Slow(4, 2.0), batch_size=2, num_workers=2, timeout=0.5)
    it = iter(loader)
    next(it)
    next(it)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.5 seconds"):
        next(it)
    del it
    assert threading.active_count() == before
    # a generous timeout changes nothing
    assert _epoch(DataLoader(Jittery(), batch_size=4, num_workers=2, timeout=30)) == \
        _epoch(DataLoader(Jittery(), batch_size=4))


def test_early_break_and_garbage_collection_stop_workers():
    before = _baseline()
    loader = DataLoader(Slow(20, 0.2), batch_size=2, num_workers=4)
    for i, _ in enumerate(loader):
        assert threading.active_count() == before + 4
        if i == 1:
            break
    assert threading.active_count() == before
    it = iter(DataLoader(Jittery(), batch_size=3, num_workers=3))
    next(it)
    del it
    assert threading.active_count() == before
    list(DataLoader(Jittery(), batch_size=3, num_workers=3))  # a finished epoch stops them too
    assert threading.active_count() == before
    stream = iter(DataLoader(PyTorchDocsRange(0, 1000), num_workers=2, batch_size=4))
    next(stream)
    del stream
    assert threading.active_count() == before


def test_prefetch_bounds_batches_in_flight():
    started, lock = [], threading.Lock()

    class Counting(Jittery):
        def __getitem__(self, i):
            if i % 3 == 0:  # first sample of a batch
                with lock:
                    started.append((get_worker_info().id, i // 3))
            return super().__getitem__(i)

    def settle(count):
        deadline = time.monotonic() + 5
        while len(started) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # room for a worker that would overrun its bound
        return sorted(started)

    it = iter(DataLoader(Counting(), batch_size=3, num_workers=2, prefetch_factor=2))
    assert settle(4) == [(0, 0), (0, 2), (1, 1), (1, 3)]
    next(it)
    assert settle(5) == [(0, 0), (0, 2), (0, 4), (1, 1), (1, 3)]
    del it


def test_persistent_workers_are_reused():
    idents, inits, lock = set(), [], threading.Lock()

    class Recording(Jittery):
        def __getitem__(self, i):
            if get_worker_info() is not None:  # the reference loader reads in the main thread
                with lock:
                    idents.add(threading.get_ident())
            return super().__getitem__(i)

    before = _baseline()
    ds = Recording()
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=_gen(4), num_workers=3,
                        persistent_workers=True, worker_init_fn=inits.append)
    reference = DataLoader(ds, batch_size=4, shuffle=True, generator=_gen(4))
    first = _epoch(loader)
    assert first == _epoch(reference)
    assert threading.active_count() == before + 3
    workers = set(idents)
    for i, _ in enumerate(loader):  # leave an epoch half-way: its leftovers must not leak
        if i == 2:
            break
    _epoch(reference)
    second = _epoch(loader)
    assert second == _epoch(reference) != first
    assert sorted(inits) == [0, 1, 2] and idents == workers and len(workers) == 3
    assert threading.active_count() == before + 3

    stream = DataLoader(PyTorchDocsRange(0, 10), batch_size=3, num_workers=2,
                        persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream] == \
        [[0, 1, 2], [5, 6, 7], [3, 4], [8, 9]]
    assert threading.active_count() == before + 5
    del loader, stream
    assert threading.active_count() == before


def _torch_error(**kwargs):
    with pytest.raises(ValueError) as e:
        tud.DataLoader([1, 2, 3], **kwargs)
    return str(e.value)


@pytest.mark.parametrize("kwargs", [dict(prefetch_factor=2), dict(timeout=-1),
                                    dict(persistent_workers=True), dict(num_workers=-1),
                                    dict(num_workers=2, prefetch_factor=-1)])
def test_argument_checks_match_torch(kwargs):
    with pytest.raises(ValueError) as e:
        DataLoader(Jittery(), **kwargs)
    assert str(e.value) == _torch_error(**kwargs)


def test_zero_prefetch_is_refused():
    with pytest.raises(ValueError, match="prefetch_factor must be at least 1"):
        DataLoader(Jittery(), num_workers=2, prefetch_factor=0)


class Decoding(Dataset):
    """An I/O-and-NumPy-bound dataset: a short wait (a file read) and a NumPy transform."""

    def __len__(self) -> int:
        return 64

    def __getitem__(self, i):
        time.sleep(0.002)
        x = np.random.default_rng(i).standard_normal(20_000).astype(np.float32)
        return np.sort(x)[::100].copy(), i


def test_speed_informational():
    # informational only: prints the figures, asserts nothing about timing
    ds = Decoding()
    times = {}
    results = {}
    for workers in (0, 4):
        start = time.perf_counter()
        results[workers] = _epoch(DataLoader(ds, batch_size=8, num_workers=workers))
        times[workers] = time.perf_counter() - start
    assert results[4] == results[0]
    print(f"\nDataLoader epoch (64 samples, 2 ms wait + sort each): num_workers=0 "
          f"{times[0] * 1e3:.0f} ms, num_workers=4 {times[4] * 1e3:.0f} ms "
          f"({times[0] / times[4]:.1f}x)")


def test_workers_stop_after_a_caught_error_without_the_cycle_collector():
    """A worker's error caught by the caller frees the iterator by reference counting alone, so
    its threads stop at once (before, the re-raised error's traceback held the iterator in a
    cycle that only the collector broke)."""
    class Bad(Dataset):
        def __len__(self):
            return 20

        def __getitem__(self, i):
            if i == 5:
                raise ValueError("bad sample")
            return ember.tensor([float(i)])

    def workers():
        return [t for t in threading.enumerate() if t.name.startswith("ember-DataLoader-worker")]

    assert not workers()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(ValueError, match="bad sample"):
            for _ in DataLoader(Bad(), batch_size=2, num_workers=2):
                pass
        deadline = time.monotonic() + 5
        while workers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not workers()
    finally:
        if was_enabled:
            gc.enable()
