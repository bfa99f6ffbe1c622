"""Time one training epoch of the lab's MNIST CNN (``ember.lab.build_model("mnist", "cnn")``,
its settings: Adam lr 1e-3, batch 64) on the first ``--images`` training images.

    python benchmarks/lab_epoch.py [--images 10000] [--threads 1] [--epochs 1]

Prints wall-clock and CPU seconds per epoch (CPU time is what to compare on a machine shared with
other busy processes, with one thread) and the accuracy on the first 2,000 test images, as a check
that the run trained. Needs the MNIST files under $EMBER_DATA (or ember's default data folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
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


if __name__ == "__main__":
    sys.exit(main())
