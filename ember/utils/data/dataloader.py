"""``DataLoader``: batches from a dataset, shuffled with a seed, collated into tensors.

With ``num_workers=0`` batches are loaded in the main thread. When the dataset can hand out a
whole batch at once (``TensorDataset``, a ``Subset`` of one, ember's datasets without transforms)
and no custom ``collate_fn`` is given, each batch is one fancy-indexing operation per tensor
instead of a Python loop over samples.

With ``num_workers > 0`` worker *threads* (not processes: nothing is pickled, and NumPy releases
the GIL in its heavy loops) load batches ahead of the training loop; ``get_worker_info()`` tells
code running in a worker which one it is.
"""

from __future__ import annotations

import collections.abc
import copy
import functools
import itertools
import queue
import threading
import time
import traceback
from typing import Any, Callable, Iterator

import numpy as np

from ember import backend
from ember.random import Generator, get_rng
from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _stack(arrays: list, what: str):
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(
                f"default_collate: stack expects each {what} to be equal size, but got "
                f"{list(first.shape)} at entry 0 and {list(a.shape)} at entry {i}; pad the samples "
                "to one size or pass a collate_fn"
            )
    return backend.get_array_module(first).stack(arrays)


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch, recursively.

    Tensors and NumPy arrays are stacked along a new first dimension (dtype kept); Python ints
    become an int64 tensor, floats a tensor of the default float dtype (float32), bools a bool
    tensor, NumPy scalars keep their dtype; strings stay a list; dicts, tuples and lists are
    collated element by element (a tuple or list sample gives a list, as in PyTorch).
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(_stack([b._data for b in batch], "tensor"))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USOV":
            raise TypeError(f"default_collate: batch must contain numbers, not arrays of dtype "
                            f"{elem.dtype}")
        return Tensor._wrap(_stack([np.asarray(b) for b in batch], "array"))
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=backend.get_default_dtype().np))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}. Pass a collate_fn that knows how to batch it."
    )


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside dicts, tuples and lists) into tensors; the rest unchanged."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USOV":
        return Tensor._wrap(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, tuple):
        return [default_convert(v) for v in data]
    if isinstance(data, list):
        return [default_convert(v) for v in data]
    return data


def _fetch_batch(dataset: Dataset, collate_fn: Callable, custom_collate: bool,
                 indices: np.ndarray) -> Any:
    if not custom_collate:
        fast = getattr(dataset, "_get_batch", None)
        if fast is not None:
            out = fast(indices)
            if out is not None:
                return out
    items = indices.tolist()
    getitems = getattr(dataset, "__getitems__", None)
    data = getitems(items) if getitems is not None else [dataset[i] for i in items]
    return collate_fn(data)


def _fetch_sample(dataset: Dataset, collate_fn: Callable, index: Any) -> Any:
    return collate_fn(dataset[index])


# ---------------------------------------------------------------------------------------------
# Worker threads (num_workers > 0)

# How often a main thread that waits for a batch checks that its workers are still alive.
_POLL_S = 0.1
# How long stopping the workers waits for them in all: a worker finishes the batch it is loading
# (a thread cannot be interrupted), and one stuck in user code must not hang the main thread.
_JOIN_S = 5.0


class WorkerInfo:
    """Who a DataLoader worker is; :func:`get_worker_info` returns it inside a worker thread.

    Attributes:
        id: this worker's number, ``0 .. num_workers - 1``.
        num_workers: how many workers the loader runs.
        seed: this worker's seed, ``base_seed + id``. The base seed is derived from the loader's
            ``generator`` (ember's global generator without one) each time workers start: every
            epoch, or once with ``persistent_workers=True``. Use it for the worker's own random
            stream, e.g. ``numpy.random.default_rng(info.seed)``.
        dataset: the dataset this worker reads. A map-style dataset is the loader's own object
            (shared by the threads); an :class:`IterableDataset` is a shallow copy per worker, so
            attributes a ``worker_init_fn`` sets on it stay with that worker, as with PyTorch's
            per-process copies.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Dataset):
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed),
                            ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


_thread_state = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the DataLoader worker thread calling it; ``None`` elsewhere.

    Use it in a dataset (an :class:`IterableDataset` typically splits its stream by ``id`` and
    ``num_workers``) or in a ``worker_init_fn``.
    """
    return getattr(_thread_state, "info", None)


class _KeyErrorMessage(str):
    # KeyError shows the repr of its argument, which would print the message as one quoted line
    def __repr__(self) -> str:
        return str(self)


class _WorkerFailure:
    """An exception raised in a worker, handed to the main thread to raise at its batch."""

    __slots__ = ("worker_id", "exc")

    def __init__(self, worker_id: int, exc: BaseException):
        self.worker_id = worker_id
        self.exc = exc

    def reraise(self) -> None:
        exc = self.exc
        original = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        msg = (f"Caught {type(exc).__name__} in DataLoader worker thread {self.worker_id}.\n"
               f"Original {original}")
        if isinstance(exc, KeyError):
            msg = _KeyErrorMessage(msg)
        try:
            err = type(exc)(msg)
        except Exception:  # a type whose constructor wants other arguments
            err = RuntimeError(msg)
        try:
            raise err from exc
        finally:
            # the raised error's traceback holds this frame: dropping the locals breaks the
            # cycle, so a caught error frees the iterator (and stops its workers) without gc
            err = exc = None


class _Exhausted:
    """An IterableDataset worker's answer once its stream has ended for this epoch."""

    __slots__ = ("worker_id",)

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class _Shared:
    """What the main thread shares with its workers. The workers hold no reference to the
    iterator or the loader, so dropping those (a ``break``, garbage collection) stops them."""

    def __init__(self):
        self.epoch = 0
        self.stop = threading.Event()
        self.results = queue.SimpleQueue()


class _StreamReader:
    """One worker's batches from its IterableDataset replica, for one epoch."""

    def __init__(self, dataset: IterableDataset, batch_size: int | None, drop_last: bool,
                 collate_fn: Callable):
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.it = None
        self.ended = False

    def __call__(self) -> Any:
        if self.ended:
            raise StopIteration
        if self.it is None:
            self.it = iter(self.dataset)  # here, so that __iter__ runs in the worker thread
        if self.batch_size is None:
            try:
                return self.collate_fn(next(self.it))
            except StopIteration:
                self.ended = True
                raise
        batch = []
        for sample in self.it:
            batch.append(sample)
            if len(batch) == self.batch_size:
                break
        else:
            # some iterators do not keep raising StopIteration once done
            self.ended = True
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _worker_loop(worker_id: int, info: WorkerInfo, fetch: Callable | None,
                 stream: Callable[[], _StreamReader] | None, init_fn: Callable | None,
                 tasks: queue.SimpleQueue, shared: _Shared) -> None:
    _thread_state.info = info
    init_failure = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as e:
            init_failure = _WorkerFailure(worker_id, e)
    epoch_seen, reader, reported, exhausted = -1, None, False, False
    while True:
        task = tasks.get()
        if task is None:
            return
        epoch, number, index = task
        if shared.stop.is_set() or epoch != shared.epoch:
            continue  # left over from an epoch the main thread abandoned
        if epoch != epoch_seen:
            epoch_seen, reported, exhausted = epoch, False, False
            if stream is not None:
                reader = stream()
                # a stream worker that failed to start reports that once, then has nothing
                reader.ended = init_failure is not None
        if exhausted:
            continue  # the main thread knows this stream has ended and expects no answer
        if init_failure is not None and not reported:
            result, reported = init_failure, True
        elif reader is not None:
            try:
                result = reader()
            except StopIteration:
                result, exhausted = _Exhausted(worker_id), True
            except Exception as e:
                result = _WorkerFailure(worker_id, e)
        elif init_failure is not None:
            result = init_failure
        else:
            try:
                result = fetch(index)
            except Exception as e:
                result = _WorkerFailure(worker_id, e)
        shared.results.put((epoch, number, result))


def _base_seed(generator: Generator | None) -> int:
    """A new 63-bit seed from ``generator`` (ember's global one when ``None``) per call.

    It is spawned from the generator's seed sequence, which does not advance its random stream:
    the sampler then shuffles exactly as with ``num_workers=0``, and ``manual_seed`` makes the
    worker seeds reproducible.
    """
    rng = get_rng(generator)
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return int(seq.spawn(1)[0].generate_state(1, np.uint64)[0] >> np.uint64(1))
    return int(rng.integers(0, 2**63 - 1))


class _ThreadedIter:
    """Batches loaded by worker threads, yielded in the order the sampler gives them.

    Task ``k`` goes to the next worker in turn that still has data; at most
    ``prefetch_factor * num_workers`` tasks are in flight; results that arrive early wait in
    ``_pending`` until their turn. An IterableDataset worker whose stream ends is skipped from
    then on.
    """

    def __init__(self, loader: DataLoader):
        # set first: __del__ relies on them even when starting the workers fails half-way
        self._threads: list[threading.Thread] = []
        self._tasks: list[queue.SimpleQueue] = []
        self._shared = _Shared()
        self._closed = False
        n = loader.num_workers
        self._num_workers = n
        self._max_tasks = loader.prefetch_factor * n
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._iterable = loader._iterable
        base_seed = _base_seed(loader.generator)
        for worker_id in range(n):
            fetch = stream = None
            if loader._iterable:
                dataset = copy.copy(loader.dataset)
                stream = functools.partial(_StreamReader, dataset, loader.batch_size,
                                           loader.drop_last, loader.collate_fn)
            else:
                dataset = loader.dataset
                if loader.batch_sampler is not None:
                    fetch = functools.partial(_fetch_batch, dataset, loader.collate_fn,
                                              loader._custom_collate)
                else:
                    fetch = functools.partial(_fetch_sample, dataset, loader.collate_fn)
            info = WorkerInfo(worker_id, n, base_seed + worker_id, dataset)
            tasks = queue.SimpleQueue()
            thread = threading.Thread(
                target=_worker_loop, name=f"ember-DataLoader-worker-{worker_id}", daemon=True,
                args=(worker_id, info, fetch, stream, loader.worker_init_fn, tasks, self._shared))
            self._tasks.append(tasks)
            self._threads.append(thread)
            thread.start()
        self._reset(loader)

    def _reset(self, loader: DataLoader) -> None:
        """Start an epoch (again, for persistent workers)."""
        self._shared.epoch += 1  # workers drop whatever is left of the previous epoch
        self._indices = None if self._iterable else loader._index_iter()
        self._send_idx = 0
        self._rcvd_idx = 0
        self._pending: dict[int, list] = {}  # task number -> [worker id] or [worker id, result]
        self._active = [True] * self._num_workers
        self._worker_order = itertools.cycle(range(self._num_workers))
        self._outstanding = 0
        for _ in range(self._max_tasks):
            self._put_task()

    def _put_task(self) -> None:
        if self._outstanding >= self._max_tasks:
            return
        if self._indices is None:
            index = None
        else:
            try:
                index = next(self._indices)
            except StopIteration:
                return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_order)
            if self._active[worker_id]:
                break
        else:
            return
        self._tasks[worker_id].put((self._shared.epoch, self._send_idx, index))
        self._pending[self._send_idx] = [worker_id]
        self._send_idx += 1
        self._outstanding += 1

    def __iter__(self) -> _ThreadedIter:
        return self

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._pending.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                if info is not None:
                    # sent to a worker whose stream had already ended: no answer will come
                    del self._pending[self._rcvd_idx]
                    self._outstanding -= 1
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            if len(info) == 2:
                return self._deliver(self._pending.pop(self._rcvd_idx)[1])
            epoch, number, result = self._get()
            if epoch != self._shared.epoch:
                continue  # a persistent worker's answer to an abandoned epoch
            self._outstanding -= 1
            if isinstance(result, _Exhausted):
                self._active[result.worker_id] = False
                del self._pending[number]
                self._put_task()
            elif number == self._rcvd_idx:
                del self._pending[number]
                return self._deliver(result)
            else:
                self._pending[number].append(result)

    def _deliver(self, result: Any) -> Any:
        self._rcvd_idx += 1
        self._put_task()
        if isinstance(result, _WorkerFailure):
            result.reraise()
        return result

    def _get(self) -> tuple:
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            try:
                return self._shared.results.get(timeout=max(wait, 0.0))
            except queue.Empty:
                pass
            dead = [i for i, t in enumerate(self._threads) if not t.is_alive()]
            if dead:
                self._shutdown()
                raise RuntimeError(f"DataLoader worker thread(s) {dead} exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._shared.stop.set()
        for tasks in self._tasks:
            tasks.put(None)
        deadline = time.monotonic() + _JOIN_S
        me = threading.current_thread()
        for thread in self._threads:
            # garbage collection can run this in a worker thread, which cannot join itself
            if thread is not me and thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # interpreter shutdown may have torn down the modules used here
            pass


class _SingleIter:
    """Batches loaded in the main thread (``num_workers=0``).

    Not a generator: an exception while loading one batch must leave the iterator usable, so a
    caller that catches it gets the next batch (as in PyTorch and with workers) instead of a
    silently ended epoch.
    """

    __slots__ = ("_start", "_indices", "_fetch")

    def __init__(self, start: Callable[[], Iterator], fetch: Callable):
        self._start = start  # the sampler runs at the first batch, not at iter()
        self._indices = None
        self._fetch = fetch

    def __iter__(self) -> _SingleIter:
        return self

    def __next__(self) -> Any:
        if self._indices is None:
            self._indices = self._start()
        return self._fetch(next(self._indices))


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` and ``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` yields samples one at a time, uncollated.
        shuffle: visit the samples in a new random order every epoch.
        sampler: a custom order of indices (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: worker threads loading batches ahead of the loop; ``0`` (default) loads
            them in the main thread when asked for.
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted for compatibility; no effect.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: with workers, seconds to wait for a batch before raising ``RuntimeError``;
            ``0`` waits forever.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker thread before it
            loads anything.
        generator: the random stream for shuffling and for the workers' base seed; without one,
            ember's global generator, so ``ember.manual_seed`` makes the batches reproducible.
        prefetch_factor: batches loaded ahead per worker (default 2 with workers; must stay
            ``None`` without).
        persistent_workers: keep the worker threads between epochs (needs ``num_workers > 0``).

    With ``num_workers > 0``, as in PyTorch:

    * A map-style dataset yields the same batches, in the same order, as with
      ``num_workers=0``: the sampler runs in the main thread, batch ``k`` goes to worker
      ``k % num_workers``, and batches finishing early wait for their turn. The sampler is read
      ahead (up to ``prefetch_factor * num_workers`` batches). The threads share the dataset
      object, so ``__getitem__`` must be safe to call from several threads at once.
    * An :class:`IterableDataset` is shallow-copied for each worker and every copy is iterated
      in full; the dataset shards itself with :func:`get_worker_info` (without that, each sample
      comes ``num_workers`` times). Batches come from the workers in turn (round-robin), each
      worker batching its own stream, so a worker's last batch may be short; a worker whose
      stream ends is skipped from then on.
    * ``get_worker_info().seed`` is ``base_seed + worker id``, with a new base seed from
      ``generator`` each time workers start (each epoch, or once with ``persistent_workers``).
      Threads share Python's, NumPy's and ember's global random streams, so random
      augmentations in a worker should draw from their own ``numpy.random.default_rng(seed)``.
    * An exception in a worker is raised in the main thread at the batch where it happened:
      same type, message ``"Caught ValueError in DataLoader worker thread 0. ..."``, chained to
      the original. Leaving the loop early, or dropping the iterator, stops the workers; each
      finishes the batch it is loading.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler: Sampler | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        elif prefetch_factor == 0:
            # PyTorch accepts 0 and then yields nothing at all; refuse it instead
            raise ValueError("prefetch_factor must be at least 1 with num_workers > 0 (with 0 "
                             "no batch would ever be requested)")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterator: _ThreadedIter | None = None  # the persistent workers' iterator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected no sampler or "
                                 "batch_sampler; the dataset decides its own order")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        self._custom_collate = collate_fn is not None and collate_fn is not default_collate
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _fetch(self, indices: np.ndarray):
        return _fetch_batch(self.dataset, self.collate_fn, self._custom_collate, indices)

    def _index_iter(self) -> Iterator:
        """This epoch's batches of indices (or single indices when not batching)."""
        # not a generator method: a generator's frame would keep the loader alive from the
        # persistent iterator, and with it the worker threads
        if self.batch_sampler is None:
            return iter(self.sampler)
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._batches()
        return (np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler)

    def __iter__(self) -> Iterator:
        """One epoch of batches (with persistent workers, the same iterator, restarted)."""
        if self.num_workers == 0:
            return self._iter_single()
        if not self.persistent_workers:
            return _ThreadedIter(self)
        if self._iterator is None or self._iterator._closed:
            self._iterator = _ThreadedIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def _iter_single(self) -> Iterator:
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            fetch = functools.partial(_fetch_sample, self.dataset, self.collate_fn)
        else:
            fetch = functools.partial(_fetch_batch, self.dataset, self.collate_fn,
                                      self._custom_collate)
        return _SingleIter(self._index_iter, fetch)

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
