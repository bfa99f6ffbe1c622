"""The default process group and the collectives that run in it.

One process group exists per process (PyTorch's "default group"); ``group=`` arguments are
accepted for signature compatibility and must be ``None``. Collectives are blocking: when they
return, the tensor holds the result (``async_op=True`` returns an already completed work handle).
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any

import numpy as np

from ember import backend
from ember.distributed.reduce_op import ReduceOp
from ember.tensor import Tensor

MPI_MISSING = (
    'ember.distributed needs mpi4py and an MPI library: pip install -e ".[mpi]" in the ember '
    "checkout (mpi4py and the MPICH wheel), then start the processes with an MPI launcher: "
    "mpiexec -n 2 python train.py"
)

# seconds between an aborting rank's last message and MPI_Abort (see _flush_before_abort)
ABORT_GRACE_S = 1.0

# torch's default collective timeout: long enough for slow first steps (compilation, data
# loading on one rank), short enough that a dead job does not hold its machines for hours.
DEFAULT_TIMEOUT = 1800.0


class _Work:
    """What ``async_op=True`` returns. ember's collectives are blocking, so it is already done."""

    def wait(self, timeout=None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


class _Group:
    """The state of the default process group (one per process)."""

    def __init__(self, MPI, comm, backend_name: str, timeout: float | None):
        self.MPI = MPI
        self.comm = comm
        self.backend = backend_name
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()
        self.timeout = timeout
        self.nccl = None          # cupy.cuda.nccl.NcclCommunicator with backend "nccl"
        self.nccl_device = None   # the GPU that communicator drives
        # CUDA-aware MPI can read GPU memory directly; we cannot detect that portably, so the
        # user says so (Open MPI built with CUDA, MVAPICH2-GDR, Cray MPICH with GPU support).
        self.cuda_aware = os.environ.get("EMBER_MPI_CUDA_AWARE", "") == "1"
        # a second communicator for out-of-band notices ("rank 1 left"), so they never mix
        # with the data of a collective
        self.ctrl = comm.Dup() if self.world_size > 1 else None
        # the watchdog thread may call MPI beside the main thread only at this thread level
        # (mpi4py asks for it by default; a user may have lowered it through mpi4py.rc)
        self.threads_ok = MPI.Query_thread() >= MPI.THREAD_MULTIPLE
        self.collectives = 0      # collectives started so far (the same sequence on every rank)
        self.departed: dict[int, tuple[int, str]] = {}  # rank -> (its collectives, how it left)
        self.watchdog = _Watchdog(self)
        self.prev_excepthook = None
        self.interrupt_fd: int | None = None  # read end of the SIGINT wakeup pipe, when ours
        self.interrupt_write_fd: int | None = None
        self.prev_sigint = None  # the SIGINT handler to restore at destroy_process_group
        self.monitor = None       # the process that reports this rank's abrupt end
        self.marker = ""          # file the first report (or an abort) of the job creates


_GROUP: _Group | None = None
_EXIT_HOOK_REGISTERED: list = []  # atexit.register once per process, whatever the groups

# tag of the "this rank leaves" notice on the control communicator
_TAG_LEFT = 17


# -------------------------------------------------------------------------------- availability


def is_mpi_available() -> bool:
    """True when mpi4py is installed (it is not imported here: importing it starts MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """True when CuPy with NCCL support and at least one GPU are present."""
    cp = backend.cupy_module()
    if cp is None:
        return False
    try:
        from cupy.cuda import nccl
    except ImportError:
        return False
    return bool(getattr(nccl, "available", True))


def is_available() -> bool:
    """True when ``ember.distributed`` can create a process group (mpi4py is installed)."""
    return is_mpi_available()


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _GROUP is not None


def _require(group=None) -> _Group:
    if group is not None:
        raise ValueError("ember.distributed has a single (default) process group; pass group=None")
    if _GROUP is None:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to call "
            "ember.distributed.init_process_group() first"
        )
    return _GROUP


def _active_group() -> _Group | None:
    """The process group when one exists with more than one rank (what ``fit`` checks)."""
    g = _GROUP
    return g if g is not None and g.world_size > 1 else None


def get_rank(group=None) -> int:
    """This process's rank, ``0 .. world_size - 1``."""
    return _require(group).rank


def get_world_size(group=None) -> int:
    """The number of processes in the group."""
    return _require(group).world_size


def get_backend(group=None) -> str:
    """``"mpi"`` or ``"nccl"``."""
    return _require(group).backend


# ------------------------------------------------------------------------------ init / destroy


def _load_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(MPI_MISSING) from e
    return MPI


def _seconds(timeout) -> float | None:
    """The collective timeout in seconds (``None``: wait forever) from ``init_process_group``'s
    argument or, without one, ``EMBER_DIST_TIMEOUT``; both are validated the same way (a zero
    timeout would make the watchdog abort the job at the first collective)."""
    source = "timeout"
    if timeout is None:
        timeout = os.environ.get("EMBER_DIST_TIMEOUT")
        if not timeout:
            return DEFAULT_TIMEOUT
        source = "EMBER_DIST_TIMEOUT"
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    try:
        timeout = float(timeout)
    except ValueError:
        raise ValueError(f"{source} must be a number of seconds, got {timeout!r}") from None
    if timeout <= 0:
        raise ValueError(f"{source} must be positive, got {timeout}")
    return None if timeout == float("inf") else timeout


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: float | datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store: Any = None, group_name: str = "",
                       device_id: int | None = None) -> None:
    """Join the default process group; every rank of the job must call it.

    Args:
        backend: ``"mpi"`` (default) or ``"nccl"`` (GPU tensors over NCCL; needs CuPy).
        init_method: ``None`` or ``"env://"``; ranks always come from the MPI launcher.
        timeout: seconds (or a ``timedelta``) a collective may wait for the other ranks before
            the job is aborted with a message naming the operation. Default 1800 s, or the
            ``EMBER_DIST_TIMEOUT`` environment variable.
        world_size, rank: optional checks: when given they must equal what MPI reports.
        store, group_name: accepted for PyTorch compatibility, unused.
        device_id: the GPU this rank uses with NCCL; default: the rank among the processes on
            the same machine, modulo the number of visible GPUs. It becomes the current device,
            so ``model.to("cuda")`` lands on it.

    Also makes every way a rank can leave end the whole job with a message naming the rank, so
    no rank is left waiting in a collective for one that has gone: an exception hook (uncaught
    exception: traceback, then ``MPI_Abort``); departure notices at exit and at
    :func:`destroy_process_group` (a rank waiting in a collective the leaver never joins
    aborts); a SIGINT handler (Ctrl-C aborts the job, also while blocked in a collective); and a
    monitor process that reports a rank that vanished (``os._exit``, SIGKILL, a crash).

    Raises:
        ImportError: mpi4py is missing (the message says what to install).
        RuntimeError: a group already exists, or ``rank``/``world_size`` disagree with MPI.
    """
    global _GROUP
    if _GROUP is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = (backend or "mpi").lower()
    if name not in ("mpi", "nccl"):
        raise ValueError(f"unknown backend {backend!r}: ember.distributed offers 'mpi' and 'nccl'"
                         " (use 'mpi' where PyTorch would use 'gloo')")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_method={init_method!r} is not supported: ember takes the ranks from "
                         "the MPI launcher (mpiexec -n N python script.py); leave it None")
    MPI = _load_mpi()
    group = _Group(MPI, MPI.COMM_WORLD.Dup(), name, _seconds(timeout))
    if world_size not in (-1, None) and world_size != group.world_size:
        raise RuntimeError(f"world_size={world_size} was given but the MPI launcher started "
                           f"{group.world_size} process(es)")
    if rank not in (-1, None) and rank != group.rank:
        raise RuntimeError(f"rank={rank} was given but MPI says this process is rank {group.rank}")
    if group.world_size > 1:
        _start_monitor(group)
        group.watchdog.start()  # before NCCL's start-up, which may wait for the other ranks
    if name == "nccl":
        try:
            _init_nccl(group, device_id)
        except BaseException:
            group.watchdog.stop()
            _release_monitor(group)
            raise
    group.prev_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught
    _GROUP = group
    if group.world_size > 1:
        import atexit

        _watch_interrupts(group)
        if not _EXIT_HOOK_REGISTERED:
            atexit.register(_leave_at_exit)
            _EXIT_HOOK_REGISTERED.append(True)


def _init_nccl(group: _Group, device_id: int | None) -> None:
    if not is_nccl_available():
        raise RuntimeError(
            "backend='nccl' needs CuPy built with NCCL and a GPU (pip install -e \".[cuda]\"); "
            "use backend='mpi' on CPUs"
        )
    import cupy
    from cupy.cuda import nccl

    from ember import cuda as ember_cuda

    if device_id is None:
        # ranks sharing a machine take consecutive GPUs of that machine
        local = group.comm.Split_type(group.MPI.COMM_TYPE_SHARED)
        local_rank = local.Get_rank()
        local.Free()
        device_id = local_rank % cupy.cuda.runtime.getDeviceCount()
    ember_cuda.set_device(device_id)
    # NCCL's rendezvous token is made by rank 0 and shared over MPI; every rank then joins.
    uid = nccl.get_unique_id() if group.rank == 0 else None
    with group.watchdog.watch("init_process_group(nccl)"):
        uid = group.comm.bcast(uid, root=0)
        with cupy.cuda.Device(device_id):
            group.nccl = nccl.NcclCommunicator(group.world_size, uid, group.rank)
    group.nccl_device = device_id


def destroy_process_group(group=None) -> None:
    """Leave the process group: frees the NCCL communicator and restores the exception hook.

    MPI itself stays initialised (mpi4py finalises it at exit), so a new group may be created.
    """
    global _GROUP
    g = _require(group)
    _announce_departure(g, "called destroy_process_group")
    g.watchdog.stop()
    _unwatch_interrupts(g)
    _release_monitor(g)
    if g.nccl is not None:
        g.nccl.destroy()
        g.nccl = None
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = g.prev_excepthook or sys.__excepthook__
    if g.ctrl is not None:
        g.ctrl.Free()
    g.comm.Free()
    _GROUP = None


def _announce_departure(g: _Group, how: str) -> None:
    """Tell every other rank that this one leaves after ``g.collectives`` collectives, so that
    one waiting (or about to wait) in a later collective, which can never complete, ends the
    job at once instead of at the timeout."""
    if g.ctrl is None:
        return
    requests = [g.ctrl.isend((g.collectives, how), dest=r, tag=_TAG_LEFT)
                for r in range(g.world_size) if r != g.rank]
    deadline = time.monotonic() + 2.0  # small messages go at once; never hang the exit on them
    while requests and time.monotonic() < deadline:
        requests = [r for r in requests if not r.Test()]
        if requests:
            time.sleep(0.01)


def _leave_at_exit() -> None:
    """``atexit``: the process ends (``sys.exit()``, the end of the script) with the group
    still alive. The others learn it, and end the job if they wait for this rank; then the
    watchdog stops before MPI is finalised."""
    g = _GROUP
    if g is None or g.world_size == 1:
        return
    _announce_departure(g, "exited (sys.exit() or the end of its script) without "
                           "destroy_process_group")
    g.watchdog.stop()
    _unwatch_interrupts(g)
    _release_monitor(g)


def _watch_interrupts(g: _Group) -> None:
    """Make Ctrl-C (SIGINT) on any rank end the whole job, with a message naming the rank.

    A rank cannot stop alone: ``fit`` would return early on that rank while the others wait
    for it in their next collective. So, while the group exists, SIGINT aborts the job from
    Python's signal handler; and since that handler cannot run while the main thread is blocked
    inside a collective, the signal also reaches the watchdog through Python's wakeup file
    descriptor (when no one else, such as asyncio, uses it). Only when SIGINT still has
    Python's default handler."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    g.prev_sigint = signal.signal(signal.SIGINT, _interrupted)
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    try:
        previous = signal.set_wakeup_fd(write_fd)
    except ValueError:
        previous = None
    if previous != -1:  # someone else's: put it back and do without
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)
        return
    g.interrupt_fd = read_fd
    g.interrupt_write_fd = write_fd


def _interrupted(signum, frame) -> None:
    """SIGINT handler while a group of several ranks exists: end the job, naming this rank."""
    g = _GROUP
    if g is None or g.world_size == 1:
        raise KeyboardInterrupt
    _abort(g, f"rank {g.rank} of {g.world_size} was interrupted (Ctrl-C, SIGINT)")


def _unwatch_interrupts(g: _Group) -> None:
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if g.prev_sigint is not None and signal.getsignal(signal.SIGINT) is _interrupted:
        signal.signal(signal.SIGINT, g.prev_sigint)
    g.prev_sigint = None
    if g.interrupt_fd is None:
        return
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:
        pass
    for fd in (g.interrupt_fd, g.interrupt_write_fd):
        try:
            os.close(fd)
        except OSError:
            pass
    g.interrupt_fd = None


def _abort_on_uncaught(exc_type, exc, tb) -> None:
    """``sys.excepthook`` while a group exists: report, then end the whole job.

    Without it the failing process would exit (mpi4py then finalises MPI) while the others stay
    blocked in their next collective forever.
    """
    g = _GROUP
    prev = (g.prev_excepthook if g is not None else None) or sys.__excepthook__
    if g is None or g.world_size == 1:
        prev(exc_type, exc, tb)
        return
    try:
        # the summary line first: if the launcher drops output in flight at the abort, it is
        # the line that matters
        what = ("was interrupted (KeyboardInterrupt, Ctrl-C)" if issubclass(exc_type, KeyboardInterrupt)
                else f"failed with {exc_type.__name__}: {exc}")
        sys.stderr.write(
            f"ember.distributed: rank {g.rank} of {g.world_size} {what}; aborting all ranks "
            "(MPI_Abort) so that none waits forever for it (traceback below)\n"
        )
        sys.stderr.flush()
        prev(exc_type, exc, tb)
        _job_reported(g)
        _flush_before_abort()
    finally:
        g.MPI.COMM_WORLD.Abort(1)


def _flush_before_abort() -> None:
    """Flush, then give the launcher a moment to forward this rank's output: MPICH's mpiexec
    kills every process at MPI_Abort and may drop output still in flight (seen on CI machines:
    a job that ended non-zero with no output at all)."""
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(ABORT_GRACE_S)


# ------------------------------------------------------------------------------------- monitor

# Runs beside each rank (a separate interpreter, its own session so the launcher's kill does not
# reach it) holding the read end of a pipe from the rank. A rank that leaves properly writes
# "ok" first; end of file without it means the rank vanished (os._exit, SIGKILL, a crash), which
# no code in the rank can report. The first such report (or an abort's own message) of the job
# creates the marker file; later ones stay quiet, since the ranks the launcher then kills are
# only collateral.
_MONITOR = r"""
import os, sys, time
rank, world, pid, marker = sys.argv[1:5]
seen = b""
while True:
    try:
        chunk = os.read(0, 64)
    except InterruptedError:
        continue
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
if b"ok" not in seen:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        first = True
    except OSError:
        first = False
    if first:
        os.write(2, (f"ember.distributed: rank {rank} of {world} (pid {pid}) ended without "
                     "leaving the process group: os._exit(), a signal such as SIGKILL, or a crash "
                     "(its exit code, which the launcher reports, may even be 0); the MPI launcher "
                     "or the other ranks end the job\n").encode())
if b"ok" not in seen or b"reported" in seen:  # a marker may exist: remove it once all saw it
    os.close(2)
    os.close(1)
    time.sleep(5)
    try:
        os.unlink(marker)
    except OSError:
        pass
"""


def _start_monitor(g: _Group) -> None:
    """Start the process that reports this rank if it ends without a word (see _MONITOR)."""
    import secrets
    import subprocess
    import tempfile

    # a name shared by the job's ranks (on one machine) and by no other job
    token = g.comm.bcast(secrets.token_hex(8) if g.rank == 0 else None, root=0)
    g.marker = os.path.join(tempfile.gettempdir(), f"ember-dist-{token}.reported")
    try:
        g.monitor = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _MONITOR, str(g.rank), str(g.world_size),
             str(os.getpid()), g.marker],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, close_fds=True,
            start_new_session=True)
    except OSError:
        g.monitor = None  # no report of an abrupt end; everything else still works


def _release_monitor(g: _Group, note: bytes = b"") -> None:
    """This rank leaves properly: its monitor ends without a report (``note`` b"reported":
    after removing the job's marker, a few seconds later)."""
    mon, g.monitor = g.monitor, None
    if mon is None:
        return
    try:
        mon.stdin.write(b"ok" + note)
        mon.stdin.close()
    except OSError:
        pass


def _job_reported(g: _Group) -> None:
    """An abort's own message was printed: the monitors of the ranks it kills stay quiet."""
    if g.marker:
        try:
            os.close(os.open(g.marker, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError:
            pass
    _release_monitor(g, b" reported")


# ------------------------------------------------------------------------------------ watchdog


# how often the watchdog looks at the running collective, the notices and Ctrl-C
WATCH_INTERVAL_S = 0.2
# how long a rank waits in a collective, once a rank of its job was reported vanished, before it
# ends the job itself (MPICH's launcher usually does so first, but not always)
VANISHED_GRACE_S = 2.0


def _abort(g: _Group, message: str) -> None:
    sys.stderr.write(f"ember.distributed: {message}; aborting all ranks (MPI_Abort)\n")
    _job_reported(g)
    _flush_before_abort()
    g.MPI.COMM_WORLD.Abort(1)


class _Watchdog:
    """Ends the job when a collective can no longer complete, or takes too long.

    A daemon thread, started with the group, checks every :data:`WATCH_INTERVAL_S`:

    * the notices other ranks send when they leave (see :func:`_announce_departure`): a rank
      that left after ``k`` collectives can never join collective ``k + 1`` or later, so a rank
      waiting in one ends the job at once, with a message naming who left and how;
    * Ctrl-C (SIGINT) while the main thread is blocked inside a collective, where Python cannot
      raise KeyboardInterrupt;
    * the collective timeout, the last resort (a rank that hangs, or skips a collective).

    mpi4py releases the GIL inside MPI calls, so the thread runs while the main thread waits.
    """

    def __init__(self, group: _Group):
        self.group = group
        self.op: str | None = None
        self.index = 0        # which collective (1, 2, ...) ``op`` is
        self.since = 0.0
        self.thread: threading.Thread | None = None
        self.stopped = threading.Event()

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="ember-dist-watchdog",
                                           daemon=True)
            self.thread.start()

    @contextmanager
    def watch(self, op: str):
        g = self.group
        if g.world_size == 1:
            yield
            return
        g.collectives += 1
        index = g.collectives
        gone = self._unreachable(index)
        if gone:
            _abort(g, f"rank {g.rank} of {g.world_size} cannot run {op}: {gone}")
        self.since = time.monotonic()
        self.index = index
        self.op = op
        try:
            yield
        finally:
            self.op = None

    def _unreachable(self, index: int) -> str:
        """Why collective number ``index`` can never complete ('' when it can)."""
        for rank, (done, how) in sorted(self.group.departed.items()):
            if index > done:
                return (f"rank {rank} {how} after {done} collective(s), so it will never join "
                        f"this one (number {index})")
        return ""

    def _receive_notices(self) -> None:
        g = self.group
        if not g.threads_ok:
            return
        status = g.MPI.Status()
        while g.ctrl.Iprobe(source=g.MPI.ANY_SOURCE, tag=_TAG_LEFT, status=status):
            source = status.Get_source()
            g.departed[source] = g.ctrl.recv(source=source, tag=_TAG_LEFT)

    def _sigint_arrived(self) -> bool:
        """Whether SIGINT was delivered since the last look (drains the wakeup pipe)."""
        fd = self.group.interrupt_fd
        if fd is None:
            return False
        import signal

        seen = False
        while True:
            try:
                data = os.read(fd, 64)
            except OSError:  # BlockingIOError: empty
                return seen
            if not data:
                return seen
            seen = seen or int(signal.SIGINT) in data

    def _run(self) -> None:
        g = self.group
        interval = WATCH_INTERVAL_S if g.timeout is None else min(WATCH_INTERVAL_S, g.timeout / 4)
        interrupted = None  # when SIGINT arrived
        vanished = False  # whether a monitor reported a rank of this job that vanished
        while not self.stopped.wait(interval):
            op, index = self.op, self.index
            try:
                self._receive_notices()
            except Exception:  # MPI being finalised under us: the process is ending anyway
                return
            sigint = self._sigint_arrived()
            # a monitor's report that a rank vanished (the job's marker file, on this machine):
            # remembered, since the marker goes a few seconds later, and acted on once this rank
            # has waited a moment in a collective, rather than trusting the launcher to end us
            if not vanished and g.marker and os.path.exists(g.marker):
                vanished = True
            if op is None:
                interrupted = None  # the main thread raises KeyboardInterrupt itself
                continue
            gone = self._unreachable(index)
            if gone:
                _abort(g, f"rank {g.rank} of {g.world_size} was waiting in {op}: {gone}")
                return
            if vanished and time.monotonic() - self.since > VANISHED_GRACE_S:
                _abort(g, f"rank {g.rank} of {g.world_size} was waiting in {op}, which can no "
                          "longer complete: another rank ended without leaving the process group "
                          "(reported above)")
                return
            if sigint and (interrupted is None or interrupted[0] != index):
                interrupted = (index, time.monotonic())
            # a moment's grace: if the collective completes, Python raises KeyboardInterrupt in
            # the main thread as usual and the exception hook reports it
            if (interrupted is not None and interrupted[0] == index
                    and time.monotonic() - interrupted[1] > 1.0):
                _abort(g, f"rank {g.rank} of {g.world_size} was interrupted (Ctrl-C, SIGINT) while "
                          f"waiting in {op}")
                return
            if g.timeout is not None and time.monotonic() - self.since > g.timeout:
                _abort(g, f"rank {g.rank} of {g.world_size}: {op} waited more than {g.timeout:g} s "
                          "for the other ranks (one of them has probably failed, hung, or "
                          "skipped this collective)")
                return

    def stop(self) -> None:
        self.stopped.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


# ---------------------------------------------------------------------------- array plumbing

# dtypes MPI cannot reduce (half floats, booleans) travel as a wider type and are cast back
_WIRE = {np.dtype(np.float16): np.dtype(np.float32), np.dtype(np.bool_): np.dtype(np.int32)}


def _tensor_array(t, what: str):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} expects an ember Tensor, got {type(t).__name__}")
    return t._data


def _is_cuda(arr) -> bool:
    return type(arr) is not np.ndarray


def _host_buffer(g: _Group, arr):
    """``(buf, write_back)``: a contiguous array MPI can use for ``arr``, and how to copy the
    result back into ``arr`` (``None`` when ``buf`` is ``arr`` itself)."""
    wire = _WIRE.get(arr.dtype, arr.dtype)
    if not _is_cuda(arr):
        if wire == arr.dtype and arr.flags.c_contiguous:
            return arr, None
        buf = np.ascontiguousarray(arr, dtype=wire)
    elif g.cuda_aware and wire == arr.dtype and arr.flags.c_contiguous:
        import cupy

        cupy.cuda.get_current_stream().synchronize()  # MPI reads the memory outside the stream
        return arr, None
    else:
        buf = np.ascontiguousarray(arr.get(), dtype=wire)

    def write_back():
        if _is_cuda(arr):
            import cupy

            arr[...] = cupy.asarray(buf).astype(arr.dtype, copy=False)
        else:
            arr[...] = buf.astype(arr.dtype, copy=False)

    return buf, write_back


def _mpi_op(g: _Group, op: ReduceOp):
    M = g.MPI
    return {ReduceOp.SUM: M.SUM, ReduceOp.AVG: M.SUM, ReduceOp.PRODUCT: M.PROD,
            ReduceOp.MIN: M.MIN, ReduceOp.MAX: M.MAX}[op]


def _as_op(op) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ReduceOp.__members__:
        return ReduceOp[op.upper()]
    raise ValueError(f"op must be an ember.distributed.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), "
                     f"got {op!r}")


def _reduction_args(op, tensor, what: str):
    """``(op, array)`` for a reducing collective; ``AVG`` needs floats to divide."""
    op = _as_op(op)
    arr = _tensor_array(tensor, what)
    if op is ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"{what} with ReduceOp.AVG needs a floating tensor, got {arr.dtype} "
                        "(use ReduceOp.SUM and divide, or convert with .float())")
    return op, arr


def _use_nccl(g: _Group, arr) -> bool:
    return g.nccl is not None and _is_cuda(arr)


def _bump(t: Tensor) -> None:
    t._version += 1  # written in place: autograd must notice if the old values were saved


# --------------------------------------------------------------------------------- collectives


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks with ``op``; every rank receives the result in place.

    ``AVG`` is the sum divided by the world size (floating tensors only).
    """
    g = _require(group)
    op, arr = _reduction_args(op, tensor, "all_reduce")
    if g.world_size > 1:
        if _use_nccl(g, arr):
            from ember.distributed import _nccl

            with g.watchdog.watch("all_reduce"):
                _nccl.all_reduce(g, arr, op)
        else:
            buf, write_back = _host_buffer(g, arr)
            with g.watchdog.watch("all_reduce"):
                g.comm.Allreduce(g.MPI.IN_PLACE, buf, op=_mpi_op(g, op))
            if op is ReduceOp.AVG:
                buf /= g.world_size
            if write_back is not None:
                write_back()
        _bump(tensor)
    return _Work() if async_op else None


def reduce(tensor: Tensor, dst: int, op: ReduceOp = ReduceOp.SUM, group=None,
           async_op: bool = False):
    """Combine ``tensor`` across ranks into rank ``dst``'s tensor (the others are unchanged)."""
    g = _require(group)
    op, arr = _reduction_args(op, tensor, "reduce")
    _check_rank(g, dst, "dst")
    if g.world_size > 1:
        buf, write_back = _host_buffer(g, arr)
        with g.watchdog.watch("reduce"):
            if g.rank == dst:
                g.comm.Reduce(g.MPI.IN_PLACE, buf, op=_mpi_op(g, op), root=dst)
            else:
                g.comm.Reduce(buf, None, op=_mpi_op(g, op), root=dst)
        if g.rank == dst:
            if op is ReduceOp.AVG:
                buf /= g.world_size
            if write_back is not None:
                write_back()
            _bump(tensor)
    return _Work() if async_op else None


def broadcast(tensor: Tensor, src: int, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (same shape/dtype)."""
    g = _require(group)
    _check_rank(g, src, "src")
    arr = _tensor_array(tensor, "broadcast")
    if g.world_size > 1:
        if _use_nccl(g, arr):
            from ember.distributed import _nccl

            with g.watchdog.watch("broadcast"):
                _nccl.broadcast(g, arr, src)
        else:
            buf, write_back = _host_buffer(g, arr)
            with g.watchdog.watch("broadcast"):
                g.comm.Bcast(buf, root=src)
            if write_back is not None and g.rank != src:
                write_back()
        if g.rank != src:
            _bump(tensor)
    return _Work() if async_op else None


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[i]`` with rank ``i``'s ``tensor``, on every rank.

    ``tensor_list`` holds ``world_size`` tensors of ``tensor``'s shape and dtype (written in
    place, as in PyTorch).
    """
    g = _require(group)
    arr = _tensor_array(tensor, "all_gather")
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != g.world_size:
        raise ValueError(f"all_gather needs a list of world_size={g.world_size} tensors, got "
                         f"{len(tensor_list) if isinstance(tensor_list, (list, tuple)) else tensor_list!r}")
    for i, t in enumerate(tensor_list):
        out = _tensor_array(t, "all_gather")
        if out.shape != arr.shape or out.dtype != arr.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {tuple(out.shape)} and dtype "
                             f"{out.dtype}, the input has {tuple(arr.shape)} and {arr.dtype}")
    if _use_nccl(g, arr) and g.world_size > 1:
        from ember.distributed import _nccl

        with g.watchdog.watch("all_gather"):
            gathered = _nccl.all_gather(g, arr)
    else:
        host = arr.get() if _is_cuda(arr) else arr
        send = np.ascontiguousarray(host, dtype=_WIRE.get(arr.dtype, arr.dtype))
        gathered = np.empty((g.world_size,) + tuple(arr.shape), dtype=send.dtype)
        with g.watchdog.watch("all_gather"):
            g.comm.Allgather(send, gathered)
    for i, t in enumerate(tensor_list):
        part = gathered[i]
        if _is_cuda(t._data) and not _is_cuda(part):
            import cupy

            part = cupy.asarray(part)
        elif not _is_cuda(t._data) and _is_cuda(part):
            part = part.get()
        t._data[...] = part.astype(t._data.dtype, copy=False)
        _bump(t)
    return _Work() if async_op else None


def all_gather_object(object_list: list, obj: Any, group=None) -> None:
    """Fill ``object_list`` (``world_size`` long) with every rank's picklable ``obj``."""
    g = _require(group)
    if len(object_list) != g.world_size:
        raise ValueError(f"all_gather_object needs a list of world_size={g.world_size} entries")
    with g.watchdog.watch("all_gather_object"):
        object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s entries on every rank by those of rank ``src`` (pickled)."""
    g = _require(group)
    _check_rank(g, src, "src")
    with g.watchdog.watch("broadcast_object_list"):
        objs = g.comm.bcast(list(object_list) if g.rank == src else None, root=src)
    object_list[:] = objs


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank has reached this call (GPU work queued so far is finished first)."""
    g = _require(group)
    if g.nccl is not None:
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    with g.watchdog.watch("barrier"):
        g.comm.Barrier()
    return _Work() if async_op else None


def _check_rank(g: _Group, r, what: str) -> None:
    if not isinstance(r, (int, np.integer)) or not 0 <= r < g.world_size:
        raise ValueError(f"{what} must be a rank in 0..{g.world_size - 1}, got {r!r}")
