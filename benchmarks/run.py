"""Run ember's benchmarks side by side with PyTorch (CPU build) and print one table.

    python -m benchmarks                 # full run (a few minutes)
    python -m benchmarks --quick         # smoke test: few repetitions, small step counts
    python -m benchmarks --only chain8 import --json results.json
    python -m benchmarks --threads 1
    python -m benchmarks --markdown BENCHMARKS.md   # refresh the table kept in BENCHMARKS.md

Both frameworks run with the same number of threads (the BLAS/OpenMP variables are set before
NumPy or PyTorch is imported, and ``torch.set_num_threads`` is called); each figure is the median
over repetitions that alternate the two frameworks, so that a noisy machine affects both alike.
The training and small-op workloads run each framework in a child process of its own that the
runner drives turn by turn (benchmarks/isolated.py: in one process each framework would be
measured with the other's malloc settings and spinning threads), and so do the GEMM and raw-NumPy
rows. Import time and peak memory are measured in fresh subprocesses.
The CPU time other processes take during each benchmark is measured (/proc/stat); results taken
while they used more than a quarter of a core are marked BUSY, and --markdown refuses to record
them unless --allow-busy is given.
"""

from __future__ import annotations

import argparse
import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few repetitions: a smoke test, not a measurement")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both frameworks (default: number of cores)")
    p.add_argument("--repeats", type=int, default=None, help="alternating repetitions per benchmark")
    p.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help=f"run only these benchmarks ({', '.join(ALL)})")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time the repetitions by wall clock (default) or by the measuring "
                        "process's CPU time: steadier on a machine shared with busy processes, "
                        "and meaningful with --threads 1 only")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    p.add_argument("--markdown", metavar="PATH", default=None,
                   help="also update the generated table in this Markdown file (BENCHMARKS.md); "
                        "refused when other processes used the CPU during the run")
    p.add_argument("--allow-busy", action="store_true",
                   help="write --markdown even if the run was taken on a busy machine (the rows "
                        "stay marked BUSY)")
    return p.parse_args(argv)


ALL = ("mlp", "cnn", "chain8", "chain1", "import", "memory", "flops", "gemm", "mlp_numpy",
       "cnn_malloc")


def _set_threads(n: int) -> None:
    if "numpy" in sys.modules or "torch" in sys.modules:
        # Too late for the environment variables to take effect in this process.
        print("warning: numpy/torch already imported; thread settings may not apply", file=sys.stderr)
    for var in _THREAD_VARS:
        os.environ[var] = str(n)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    threads = args.threads or os.cpu_count() or 1
    _set_threads(threads)

    only = args.only or list(ALL)
    unknown = [n for n in only if n not in ALL]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}",
              file=sys.stderr)
        return 2

    # Only now may NumPy and PyTorch be imported.
    from benchmarks import suite

    suite.set_clock(args.clock)
    results = suite.run_all(only, threads=threads, quick=args.quick, repeats=args.repeats)
    print(suite.format_table(results, threads=threads, quick=args.quick))
    if args.json:
        suite.write_json(args.json, results, threads=threads, quick=args.quick)
    if args.markdown and suite.any_busy(results) and not args.allow_busy:
        print(f"not writing {args.markdown}: other processes used the CPU during the rows marked "
              "BUSY, so their ratios are not measurements; rerun on an idle machine (or pass "
              "--allow-busy to record them marked as such)", file=sys.stderr)
        return 3
    if args.markdown:
        command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
        suite.update_markdown(args.markdown, results, threads=threads, quick=args.quick,
                              command=command.strip())
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
