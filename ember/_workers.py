"""A small pool of worker threads for the memory-bound passes of convolution and pooling.

OpenBLAS spreads one matrix product over its threads, but a convolution is also made of copies
(patch extraction, col2im sums, pooling windows) that run on one core, and its products are too
small for OpenBLAS to gain much from a second thread. Those ops already work over independent
blocks of whole images (see ``ember/ops/conv.py``); :func:`map_blocks` hands the blocks to these
threads instead, each thread computing whole blocks with a *single-threaded* BLAS. NumPy releases
the GIL in its copies, ufunc loops and matrix products on large arrays, so the blocks run in
parallel. Every block is computed by exactly the same code as in a serial loop, and results that
combine blocks are combined by the caller in block order, so the result is the same bit for bit.

The pool is off by default (see ``ENABLED`` for the measurements); when on, threads are used
only when the BLAS is allowed more than one (``ember.set_num_threads``, or
ember's default, which drops to one thread when other processes keep the cores busy). The BLAS
goes back to its thread count after each call. Blocks are taken from a shared counter, so a
thread that another process delays takes fewer of them instead of holding the others up; waiting
threads sleep (no spinning), so a busy machine costs at most the one-thread time.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from typing import Callable, Sequence

# Off by default: on the 2-core machine of BENCHMARKS.md, a CNN training step took 30-31 ms with
# the pool against 22.7 ms without it at two BLAS threads (23-24 ms at one thread; idle machine,
# other processes < 5% CPU), although the same pool runs a loop of the convolution's matrix
# products 1.6-1.7x faster than one thread. In a whole step its second thread gets few blocks: it
# waits for the GIL between the blocks' many short NumPy calls, and OpenBLAS's own helper thread,
# left spinning (~75 ms) by every two-thread product elsewhere (linear layers), takes its core.
# Under heavy load it was 2-5x faster than two-thread BLAS, which stalls. EMBER_WORKER_THREADS=1
# (or setting ENABLED) turns it on; tests compare the threaded and the serial path with it.
ENABLED = os.environ.get("EMBER_WORKER_THREADS", "") == "1"

_lock = threading.Lock()  # one caller at a time uses the pool; others run serially
_state: dict = {"pid": None, "workers": [], "blas": None}
_local = threading.local()  # marks the pool's own threads (no nested use)


def _blas():
    """threadpoolctl's controller of NumPy's BLAS (looked up once), or False where there is none
    whose thread count can be set and read back."""
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController

            libs = [lib for lib in ThreadpoolController().select(user_api="blas").lib_controllers
                    if lib.internal_api in ("openblas", "mkl", "blis")]
        except Exception:  # noqa: BLE001 - no threadpoolctl or an unknown BLAS: stay serial
            libs = []
        # NumPy's own BLAS, where other libraries (SciPy's, ...) bring more into the process.
        own = [lib for lib in libs if "numpy" in str(lib.filepath)]
        libs = own if len(own) == 1 else libs
        _state["blas"] = libs[0] if len(libs) == 1 else False
    return _state["blas"]


def _worker(tasks: queue.SimpleQueue) -> None:
    _local.in_pool = True
    while True:
        job = tasks.get()
        if job is None:
            return
        job()


def _workers(count: int) -> list:
    """The task queues of ``count`` started worker threads (re-made in a forked child)."""
    if _state["pid"] != os.getpid():  # after fork the parent's threads do not exist here
        _state["pid"], _state["workers"] = os.getpid(), []
    workers = _state["workers"]
    while len(workers) < count:
        tasks = queue.SimpleQueue()
        threading.Thread(target=_worker, args=(tasks,), name=f"ember-worker-{len(workers)}",
                         daemon=True).start()
        workers.append(tasks)
    return workers[:count]


def blas_threads() -> int:
    """NumPy's BLAS thread count now (1 where it cannot be read)."""
    blas = _blas()
    return max(1, int(blas.get_num_threads() or 1)) if blas else 1


def thread_count() -> int:
    """How many threads :func:`map_blocks` would use now: the BLAS's thread count, at most the
    number of cores; 1 when disabled, inside a worker, or without a controllable BLAS."""
    if not ENABLED or getattr(_local, "in_pool", False):
        return 1
    blas = _blas()
    if not blas:
        return 1
    return max(1, min(int(blas.get_num_threads() or 1), os.cpu_count() or 1))


def map_blocks(fn: Callable[[int, int], object], blocks: Sequence[tuple[int, int]],
               xp=None) -> list:
    """``[fn(start, stop) for start, stop in blocks]``, computed on the pool's threads when
    there are several blocks, several BLAS threads and NumPy arrays (``xp``); each call of ``fn``
    must touch only its own block's part of any array it writes."""
    count = min(len(blocks), thread_count()) if len(blocks) > 1 and (
        xp is None or xp.__name__ == "numpy") else 1
    if count < 2 or not _lock.acquire(blocking=False):
        return [fn(start, stop) for start, stop in blocks]
    try:
        blas = _blas()
        before = blas.get_num_threads()
        blas.set_num_threads(1)
        try:
            if blas.get_num_threads() != 1:  # another thread controls the BLAS: stay serial
                return [fn(start, stop) for start, stop in blocks]
            return _run(fn, blocks, count)
        finally:
            blas.set_num_threads(before)
    finally:
        _lock.release()


def _run(fn, blocks, count: int) -> list:
    results = [None] * len(blocks)
    errors: list = []
    next_block = itertools.count()  # next() on it is atomic under the GIL
    done: queue.SimpleQueue = queue.SimpleQueue()

    def drain():
        try:
            for i in iter(next_block.__next__, None):
                if i >= len(blocks) or errors:
                    break
                results[i] = fn(*blocks[i])
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller below
            errors.append(e)

    def job():
        drain()
        done.put(None)

    helpers = _workers(count - 1)
    for tasks in helpers:
        tasks.put(job)
    drain()
    for _ in helpers:
        done.get()
    if errors:
        raise errors[0]
    return results


__all__ = ["map_blocks", "thread_count", "ENABLED"]
