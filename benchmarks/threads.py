"""Training throughput against the BLAS thread count, with and without busy neighbours.

    python -m benchmarks.threads [--busy 0 1] [--threads 1 2] [--seconds 3] [--only mlp cnn]

For each number of busy neighbours (processes spinning ``while True: pass``, started here and
killed afterwards) and each thread count (set through ``ember.set_num_threads``), it runs ember's
MLP and CNN training steps from ``benchmarks/workloads.py`` for about ``--seconds`` seconds and
prints samples per second (wall clock: what a user waits for). The repetitions alternate the
thread counts so that a change of load on a shared machine affects them alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__.split("\n")[0])
    p.add_argument("--busy", type=int, nargs="+", default=[0, 1],
                   help="numbers of busy neighbour processes to try (default: 0 1)")
    p.add_argument("--threads", type=int, nargs="+", default=None,
                   help="BLAS thread counts to try (default: 1 .. number of cores)")
    p.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    p.add_argument("--repeats", type=int, default=3, help="alternating repetitions (median kept)")
    p.add_argument("--only", nargs="+", default=["mlp", "cnn"], choices=("mlp", "cnn"))
    return p.parse_args(argv)


def _spinners(count: int) -> list:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _stop(procs) -> None:
    for proc in procs:
        proc.kill()
        proc.wait()


def _rate(step, batch: int, seconds: float) -> float:
    step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n * batch / (time.perf_counter() - t0)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    import ember
    from benchmarks import workloads

    counts = args.threads or list(range(1, (os.cpu_count() or 1) + 1))
    default = ember.get_num_threads()
    print(f"ember training samples/s (wall clock) by BLAS threads; {os.cpu_count()} cores; "
          f"default {default} thread(s); load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'workload':<8} {'busy':>4} " + " ".join(f"{f'{n} thr':>10}" for n in counts))
    try:
        for busy in args.busy:
            procs = _spinners(busy)
            try:
                time.sleep(0.5 if busy else 0)
                for kind in args.only:
                    batch = workloads.MLP_BATCH if kind == "mlp" else workloads.CNN_BATCH
                    step = workloads.BUILDERS[kind]("ember")
                    rates = {n: [] for n in counts}
                    for r in range(args.repeats):
                        for n in (counts if r % 2 == 0 else counts[::-1]):
                            ember.set_num_threads(n)
                            rates[n].append(_rate(step, batch, args.seconds))
                    print(f"{kind:<8} {busy:>4} "
                          + " ".join(f"{statistics.median(rates[n]):>10,.0f}" for n in counts),
                          flush=True)
            finally:
                _stop(procs)
    finally:
        ember.set_num_threads(default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
