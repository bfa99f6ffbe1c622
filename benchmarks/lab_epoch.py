"""Time one training epoch of the lab's MNIST CNN (``ember.lab.build_model("mnist", "cnn")``,
its settings: Adam lr 1e-3, batch 64) on the first ``--images`` training images.

    python benchmarks/lab_epoch.py [--images 10000] [--threads 1] [--epochs 1]
    python benchmarks/lab_epoch.py --compare /work/wt/before . --repeats 3 [--threads 1 2]

Prints wall-clock and CPU seconds per epoch (CPU time is what to compare on a machine shared with
other busy processes, with one thread) and the accuracy on the first 2,000 test images, as a check
that the run trained. Needs the MNIST files under $EMBER_DATA (or ember's default data folder).

``--compare TREE...`` runs the measurement in a fresh process per tree (``PYTHONPATH=TREE``),
alternating the trees ``--repeats`` times for each thread count, so that a busy neighbour weighs
on every tree alike, and prints the median seconds per epoch (wall and CPU) of each.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--compare", nargs="+", metavar="TREE", help="source trees to time in turn")
    p.add_argument("--repeats", type=int, default=3, help="with --compare: rounds per tree")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.compare:
        return compare(args)
    args.threads = args.threads[0]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np

    import ember
    from ember import lab

    data = lab.mnist_data("mnist")
    cfg = lab.FULL[("mnist", "cnn")]
    ember.manual_seed(lab._seed_for(0, "cnn"))
    model = lab.build_model("mnist", "cnn")
    model.compile(optimizer=lab.make_optimizer(cfg.optimizer, model.parameters(), cfg.lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data.x_train[:args.images], data.y_train[:args.images]
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=cfg.batch_size, epochs=args.epochs, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    acc = float((np.asarray(model.predict(data.x_test[:2000], batch_size=500)).argmax(1)
                 == np.asarray(data.y_test[:2000])).mean())
    print(f"lab MNIST CNN, {args.images} images x {args.epochs} epoch(s), batch {cfg.batch_size}, "
          f"{args.threads} thread(s): {wall / args.epochs:.2f} s/epoch wall, "
          f"{cpu / args.epochs:.2f} s/epoch CPU; test accuracy (2,000 images) {acc:.2%}; "
          f"load average {os.getloadavg()[0]:.2f}")
    return 0


def compare(args) -> int:
    """Time each tree in its own process, alternating, and print the medians."""
    pattern = re.compile(r"([0-9.]+) s/epoch wall, ([0-9.]+) s/epoch CPU")
    for threads in args.threads:
        times: dict[str, list[tuple[float, float]]] = {tree: [] for tree in args.compare}
        for round_ in range(args.repeats):
            for tree in args.compare:
                env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
                out = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--images", str(args.images),
                     "--threads", str(threads), "--epochs", str(args.epochs)],
                    env=env, capture_output=True, text=True, check=True).stdout.strip()
                print(f"[{tree}, round {round_ + 1}] {out}", flush=True)
                wall, cpu = pattern.search(out).groups()
                times[tree].append((float(wall), float(cpu)))
        for tree, pairs in times.items():
            print(f"{threads} thread(s), {tree}: median {statistics.median(w for w, _ in pairs):.2f}"
                  f" s/epoch wall, {statistics.median(c for _, c in pairs):.2f} s/epoch CPU "
                  f"over {len(pairs)} runs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
