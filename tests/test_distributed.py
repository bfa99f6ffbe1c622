"""ember.distributed, DistributedDataParallel, DistributedSampler and distributed fit.

The multi-process tests start ``mpiexec -n 2`` on tests/distributed/worker.py (each scenario
checks itself on every rank) and skip, with the reason, when mpi4py or a working MPI launcher
is missing, so a machine without MPI never fails because of it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time

import pytest

import ember
from ember import nn
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "distributed", "worker.py")
NPROC = 2


# ------------------------------------------------------------------------------ no MPI needed


def test_sampler_pads_and_strides_like_torch():
    shares = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
              for r in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded with the first indices
    assert all(len(DistributedSampler(range(10), 3, r, shuffle=False)) == 4 for r in range(3))
    cut = [list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True))
           for r in range(3)]
    assert cut == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_sampler_shuffles_per_epoch_and_partitions():
    samplers = [DistributedSampler(range(20), 2, r, seed=5) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(20))  # a partition, same permutation
    assert first == [list(s) for s in samplers]            # no set_epoch: the same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(second[0] + second[1]) == list(range(20))
    assert list(DistributedSampler(range(20), 2, 0, seed=6)) != first[0]


def test_sampler_in_a_dataloader_and_argument_checks():
    ds = TensorDataset(ember.arange(7).float(), ember.arange(7))
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[1].tolist() for b in loader] == [[1, 3], [5, 0]]
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))  # no group and no num_replicas/rank


def test_errors_without_a_process_group():
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel

    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(ember.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    assert ember.nn.parallel.DistributedDataParallel is DistributedDataParallel


def test_missing_mpi4py_names_the_extra(monkeypatch):
    import ember.distributed as dist

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # `from mpi4py import MPI` fails
    with pytest.raises(ImportError, match=r'pip install -e "\.\[mpi\]"'):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("gloo")


# ------------------------------------------------------------------------ under mpiexec -n 2


@functools.lru_cache(maxsize=1)
def _launcher() -> tuple[list[str] | None, str]:
    """The mpiexec command prefix, or None and why MPI cannot be used here."""
    import importlib.util

    if importlib.util.find_spec("mpi4py") is None:
        return None, 'mpi4py is not installed (pip install -e ".[mpi]")'
    # the MPICH wheel puts mpiexec next to the interpreter, which may not be on PATH
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = (shutil.which("mpiexec") or (beside if os.access(beside, os.X_OK) else None)
           or shutil.which("mpirun"))
    if exe is None:
        return None, "no mpiexec on PATH (pip install mpich)"
    cmd = [exe, "-n", str(NPROC)]
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
        if "Open MPI" in version.stdout + version.stderr or "OpenRTE" in version.stdout:
            cmd[1:1] = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        probe = subprocess.run(
            cmd + [sys.executable, "-c",
                   "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == %d" % NPROC],
            capture_output=True, text=True, timeout=60, env=_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"mpiexec does not run here: {e}"
    if probe.returncode != 0:
        return None, f"mpiexec -n {NPROC} does not work here: {probe.stderr.strip()[-300:]}"
    return cmd, ""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # two single-threaded ranks on small machines
    return env


def _run(case: str, tmp_path, timeout: float = 90, watchdog: float = 60):
    cmd, why = _launcher()
    if cmd is None:
        pytest.skip(why)
    start = time.monotonic()
    proc = subprocess.run(cmd + [sys.executable, WORKER, case, str(tmp_path), str(watchdog)],
                          capture_output=True, text=True, timeout=timeout, env=_env())
    return proc, time.monotonic() - start


def _ok(proc, case):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{case} OK" in proc.stdout, proc.stdout + proc.stderr


def test_collectives(tmp_path):
    """all_reduce with every ReduceOp (float, int, half, bool, views, 0-d), reduce, broadcast,
    all_gather, the object collectives and barrier."""
    proc, _ = _run("collectives", tmp_path)
    _ok(proc, "collectives")


def test_ddp_matches_one_process(tmp_path):
    """One DDP step gives the global batch's gradient (one all-reduce per bucket); after 20 SGD
    steps both replicas are identical and equal the single-process run; no_sync accumulates;
    unused parameters are reported, or handled with find_unused_parameters."""
    proc, _ = _run("ddp", tmp_path)
    _ok(proc, "ddp")


def test_distributed_fit(tmp_path):
    """Model.fit under mpiexec: shards, averaged gradients equal to the global-batch loop,
    exact validation/evaluate metrics over 23 samples split 12/11 with uneven last batches,
    identical EarlyStopping decisions, CSV log and checkpoint written by rank 0 only."""
    proc, _ = _run("fit", tmp_path)
    _ok(proc, "fit")
    assert sorted(os.listdir(tmp_path)) == ["ckpt_rank0.safetensors", "log_rank0.csv"]


def test_failing_rank_aborts_the_job(tmp_path):
    """Rank 1 raises in the middle of fit while rank 0 waits in a collective: the job ends at
    once (well before the 60 s watchdog) with an error naming rank 1."""
    proc, elapsed = _run("fail", tmp_path, timeout=90, watchdog=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "rank 1 of 2 failed with RuntimeError: simulated failure" in out, out
    assert elapsed < 45, elapsed


def test_watchdog_ends_a_collective_nobody_joins(tmp_path):
    """Rank 1 never joins the all_reduce rank 0 waits in: the 2 s watchdog aborts the job with a
    message naming the collective, long before rank 1 would wake up."""
    proc, elapsed = _run("skip_collective", tmp_path, timeout=60, watchdog=2)
    out = f"rc={proc.returncode} after {elapsed:.1f} s\n" + proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "all_reduce waited more than 2 s" in out, out
    assert elapsed < 40, elapsed


def _ended_after_leaving(proc, ended_at: float) -> float:
    """Seconds from the moment the worker said a rank left (LEFT_AT) to the job's end."""
    for line in proc.stdout.splitlines():
        if line.startswith("LEFT_AT "):
            return ended_at - float(line.split()[1])
    raise AssertionError("the worker never reached the point where a rank leaves:\n"
                         + proc.stdout + proc.stderr)


@pytest.mark.parametrize("case,message", [
    ("exit_in_fit", r"rank 0 of 2 (was waiting in|cannot run) \S+: rank 1 exited \(sys.exit\(\) "
                    r"or the end of its script\) without destroy_process_group after \d+ "
                    r"collective\(s\)"),
    ("interrupt_in_fit", r"rank 1 of 2 was interrupted \(Ctrl-C, SIGINT\)"),
    ("sigint_in_collective", r"rank 0 of 2 was interrupted \(Ctrl-C, SIGINT\) while waiting in "
                             r"all_reduce"),
], ids=["exit_in_fit", "interrupt_in_fit", "sigint_in_collective"])
def test_a_rank_that_leaves_ends_the_job(tmp_path, case, message):
    """sys.exit(), Ctrl-C in fit, Ctrl-C while blocked in a collective: the job ends within
    30 s of the rank leaving (the collective timeout is 120 s here, so it is not what ends it),
    non-zero, with a message naming the rank and what happened."""
    import re

    proc, _ = _run(case, tmp_path, timeout=240, watchdog=120)
    ended_at = time.time()
    out = f"rc={proc.returncode}\n" + proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert re.search(message, out), out
    assert _ended_after_leaving(proc, ended_at) < 30, out


def test_a_rank_that_vanishes_is_reported(tmp_path):
    """os._exit on rank 1 (no exception, no atexit, no MPI_Finalize): MPICH's launcher ends the
    job at once, but silently and with exit code 0; the rank's monitor names it. The rank named
    is the first one whose end was noticed: rank 1, unless the launcher's kill of rank 0 was
    seen first (then rank 0 is named, with the same explanation)."""
    import re

    proc, _ = _run("os_exit_in_fit", tmp_path, timeout=240, watchdog=120)
    ended_at = time.time()
    out = f"rc={proc.returncode}\n" + proc.stdout + proc.stderr
    assert re.search(r"rank [01] of 2 \(pid \d+\) ended without leaving the process group: "
                     r"os._exit\(\), a signal such as SIGKILL, or a crash", out), out
    assert _ended_after_leaving(proc, ended_at) < 30, out


def test_a_vanished_rank_ends_the_job_without_the_launcher(tmp_path):
    """MPICH's launcher usually ends the job when a rank vanishes, but not always (seen in CI: the
    other rank waited out the whole collective timeout): a rank waiting in a collective ends the
    job itself once the job's monitor reported a vanished rank."""
    import re

    proc, _ = _run("vanished_unnoticed_by_launcher", tmp_path, timeout=240, watchdog=120)
    ended_at = time.time()
    out = f"rc={proc.returncode}\n" + proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert re.search(r"rank 0 of 2 was waiting in all_reduce, which can no longer complete: "
                     r"another rank ended without leaving the process group", out), out
    assert _ended_after_leaving(proc, ended_at) < 30, out


def test_ranks_ending_without_destroy_is_not_an_error(tmp_path):
    """Every rank ends its script after the same collectives, without destroy_process_group:
    the departure notices must not abort a job that finished."""
    proc, elapsed = _run("no_destroy", tmp_path, timeout=240, watchdog=120)
    out = f"rc={proc.returncode} after {elapsed:.1f} s\n" + proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "aborting" not in out, out
    assert proc.stdout.count("no_destroy OK") == 2, out


def test_mnist_ddp_example_runs(tmp_path):
    cmd, why = _launcher()
    if cmd is None:
        pytest.skip(why)
    proc = subprocess.run(
        cmd + [sys.executable, os.path.join(ROOT, "examples", "mnist_ddp.py"), "--synthetic",
               "--limit", "512", "--epochs", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("test loss") == 1  # printed by rank 0 only
    assert "held-out validation" in proc.stdout
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "history.csv"]


def test_mnist_ddp_validates_on_held_out_training_images(tmp_path):
    """The example validates on training images held out from training, and evaluates the
    test set once at the end."""
    data = os.environ.get("EMBER_DATA", "")
    if not os.path.isfile(os.path.join(data, "mnist", "train-images-idx3-ubyte.gz")):
        pytest.skip("MNIST files not available")
    cmd, why = _launcher()
    if cmd is None:
        pytest.skip(why)
    proc = subprocess.run(
        cmd + [sys.executable, os.path.join(ROOT, "examples", "mnist_ddp.py"), "--quick",
               "--limit", "1200", "--data", data, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=_env())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "1200 training / 200 held-out validation / 200 test images" in out, out
    assert out.count("test loss") == 1
