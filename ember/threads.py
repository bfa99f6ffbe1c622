"""How many threads ember computes with on the CPU: ``set_num_threads`` / ``get_num_threads``.

ember's only multi-threaded code is the BLAS that NumPy links (OpenBLAS, MKL, ...): matrix
products, hence linear layers and convolutions. These functions set and read the size of its
thread pool through threadpoolctl, as ``torch.set_num_threads`` / ``torch.get_num_threads`` do
for PyTorch's pools. Fewer threads than cores is often faster on a machine shared with other busy
processes: BLAS threads wait on each other at every product, and one descheduled thread stalls
them all (see BENCHMARKS.md, "Threads").
"""

from __future__ import annotations

import functools
import os

_BLAS = "blas"
# Variables through which a user (or the benchmark runner) already chose thread counts: when one
# is set, ember's import leaves the pools alone (EMBER_NUM_THREADS is applied as given).
_THREAD_VARS = ("EMBER_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError as e:  # a core dependency, but say what is missing if it is not there
        raise ImportError("ember.set_num_threads/get_num_threads need threadpoolctl "
                          "(pip install threadpoolctl)") from e
    return ThreadpoolController()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for ember's CPU work (the BLAS behind matrix products and convolutions),
    as ``torch.set_num_threads``. Applies to the whole process until changed again."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    _controller().select(user_api=_BLAS).limit(limits=n)


def get_num_threads() -> int:
    """The number of threads ember's CPU work uses (the BLAS thread pool's size), as
    ``torch.get_num_threads``; 1 when NumPy's BLAS has no thread pool."""
    pools = _controller().select(user_api=_BLAS).info()
    return max((int(p.get("num_threads") or 1) for p in pools), default=1)


@functools.cache
def _numpy_blas():
    """threadpoolctl's controller of NumPy's BLAS, looked up once; None where there is none
    whose thread count can be read."""
    try:
        libs = [lib for lib in _controller().select(user_api=_BLAS).lib_controllers
                if lib.internal_api in ("openblas", "mkl", "blis")]
    except Exception:  # noqa: BLE001 - no threadpoolctl or an unknown BLAS: assume one thread
        return None
    # NumPy's own BLAS, where other libraries (SciPy's, ...) bring more into the process.
    own = [lib for lib in libs if "numpy" in str(lib.filepath)]
    libs = own if len(own) == 1 else libs
    return libs[0] if len(libs) == 1 else None


def blas_thread_count() -> int:
    """NumPy's BLAS thread count now, cheaply (one C call after the first look-up), for ops whose
    best block size depends on it; 1 where it cannot be read."""
    blas = _numpy_blas()
    return max(1, int(blas.get_num_threads() or 1)) if blas is not None else 1


def blas_info() -> list[dict]:
    """The BLAS libraries loaded in this process, as threadpoolctl describes them: for each,
    ``internal_api`` (openblas, mkl, ...), ``version``, ``num_threads``, ``architecture`` (the
    kernel it picked, e.g. SkylakeX) and ``filepath``."""
    return _controller().select(user_api=_BLAS).info()


def busy_neighbours() -> int:
    """How many cores other processes keep busy, for choosing a thread count: the smaller of the
    runnable tasks besides this one right now and the 1-minute load average (so that neither a
    passing process nor this program's own past load counts). 0 where /proc/loadavg is missing."""
    try:
        with open("/proc/loadavg") as f:
            fields = f.read().split()
        running_now = int(fields[3].split("/")[0]) - 1
        return max(0, min(running_now, int(float(fields[0]) + 0.5)))
    except (OSError, ValueError, IndexError):
        return 0


def default_num_threads(cores: int | None = None, busy: int | None = None) -> int:
    """The thread count ember starts with: every core, less those other processes keep busy.

    With more BLAS threads than free cores, every matrix product waits for a thread that is not
    running; measured on 2 cores with one busy neighbour, training ran 8-10x slower with 2 threads
    than with 1 (BENCHMARKS.md, "Threads"), while on an idle machine 2 threads gain 15-30%.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    busy = busy_neighbours() if busy is None else busy
    return max(1, cores - busy)


def apply_default() -> None:
    """Called once by ``import ember``: honour EMBER_NUM_THREADS; otherwise, unless a thread
    variable is set, use :func:`default_num_threads` when it is below the BLAS's own count."""
    value = os.environ.get("EMBER_NUM_THREADS")
    if value:
        try:
            n = int(value)
        except ValueError:
            raise RuntimeError(f"EMBER_NUM_THREADS must be a positive integer, got {value!r}") from None
        set_num_threads(n)
        return
    if any(os.environ.get(v) for v in _THREAD_VARS):
        return
    cores = os.cpu_count() or 1
    n = default_num_threads(cores)
    if n < cores:  # the common case (an idle machine) costs no threadpoolctl import
        try:
            set_num_threads(n)
        except ImportError:
            pass


__all__ = ["set_num_threads", "get_num_threads"]
