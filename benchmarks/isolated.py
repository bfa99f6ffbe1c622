"""Each framework's workload in a process of its own, timed in alternating repetitions.

Two frameworks in one process measure each other's side effects as well as themselves:
``import ember`` sets glibc's malloc thresholds for the whole process (``ember/_malloc.py``), which
sped PyTorch's own CNN step up from ~20 to ~14 ms, a speed no PyTorch user gets; and one
framework's BLAS or OpenMP threads keep spinning on a core for a while after its turn, into the
other's. So the training and small-op benchmarks run each framework in a child process that
imports only that framework (``python -m benchmarks.isolated FRAMEWORK WORKLOAD``), and the parent
asks the children in turn for one repetition each (the order flips every repetition, so that a
noisy machine weighs on both alike), with a pause between turns for the other child's threads to
go to sleep.

The child reads commands on stdin and answers one line on stdout for each:
``calibrate TARGET_S WARMUP`` (warms up, answers how many calls take about TARGET_S seconds),
``run INNER CLOCK`` (answers the seconds per call over INNER calls, by ``wall`` or ``cpu`` clock).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# OpenBLAS's idle threads spin for about 0.1 s (2^28 cycles) before they sleep.
PAUSE_S = 0.25


class Child:
    """One framework's workload in a child process (``kwargs``: the builder's arguments)."""

    def __init__(self, fw: str, workload: str, kwargs: dict | None = None,
                 env: dict | None = None):
        env = dict(os.environ, **(env or {}),
                   PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.isolated", fw, workload, json.dumps(kwargs or {})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT, env=env)

    def ask(self, command: str) -> float:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark child failed:\n{self.proc.stderr.read()[-3000:]}")
        return float(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def alternate_isolated(workload: str, kwargs: dict, frameworks, repeats: int, target_s: float,
                       warmup: int, clock: str = "wall", env: dict | None = None) -> dict:
    """Median seconds per call of each framework's ``workload`` step, each in its own process,
    over alternating repetitions (the order flips every repetition); returns
    ``{fw: (median, samples)}``. ``env``: extra
    environment variables for some frameworks' children, ``{fw: {name: value}}``."""
    children = {fw: Child(fw, workload, kwargs, (env or {}).get(fw)) for fw in frameworks}
    try:
        inner = {fw: int(c.ask(f"calibrate {target_s} {warmup}")) for fw, c in children.items()}
        samples = {fw: [] for fw in frameworks}
        names = list(frameworks)
        for r in range(repeats):
            for fw in (names if r % 2 == 0 else names[::-1]):
                time.sleep(PAUSE_S)
                samples[fw].append(children[fw].ask(f"run {inner[fw]} {clock}"))
        return {fw: (statistics.median(s), s) for fw, s in samples.items()}
    finally:
        for c in children.values():
            c.close()


def _serve(fw: str, workload: str, kwargs: dict) -> None:
    from benchmarks import workloads

    if fw == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))
    if "shape" in kwargs:
        kwargs["shape"] = tuple(kwargs["shape"])
    step = workloads.BUILDERS[workload](fw, **kwargs)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "calibrate":
            target_s, warmup = float(args[0]), int(args[1])
            for _ in range(warmup):
                step()
            t0 = time.perf_counter()
            step()
            answer = max(1, int(round(target_s / max(time.perf_counter() - t0, 1e-9))))
        elif command == "run":
            inner, now = int(args[0]), (time.perf_counter if args[1] == "wall" else time.process_time)
            gc.collect()
            t0 = now()
            for _ in range(inner):
                step()
            answer = (now() - t0) / inner
        else:
            raise ValueError(f"unknown command {command!r}")
        print(answer, flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
