"""Choose the MNIST CNN lab's training settings on the validation split only.

    OPENBLAS_NUM_THREADS=1 EMBER_DATA=../shared/data python -m benchmarks.cnn_lab_selection \\
        [--only NAME ...]

The candidates and the rule were written down before any of them was run:

* the lab's network, data, seed (0) and validation split as ``ember.lab.run_mnist`` uses them:
  train on the first 55,000 training images, validate on the last 5,000;
* Adam 1e-3, batch 64, at most 10 epochs (about twice the old run's time), early stopping on
  the validation loss with patience 3 and the best weights restored, and one of three
  learning-rate plans a practitioner tries first: ``constant`` (the old setting, given room:
  10 epochs instead of 6, patience 3 instead of 2), ``plateau`` (ReduceLROnPlateau on the
  validation loss, factor 0.2 after one flat epoch) and ``exponential`` (the rate times 0.7 each
  epoch, the decay of PyTorch's MNIST example);
* the rule: the highest validation accuracy with the restored weights wins; a tie goes to the
  lower validation loss, then to the fewer epochs.

The test images are dropped before training and never looked at here. The winner goes into
``ember.lab.FULL[("mnist", "cnn")]``, and ``run_mnist`` then tests it once. Each candidate
prints its per-epoch validation loss, accuracy and learning rate.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import ember
from ember import lab

CANDIDATES: dict[str, lab.TrainConfig] = {
    "constant": lab.TrainConfig(epochs=10, batch_size=64, lr=1e-3, patience=3),
    "plateau": lab.TrainConfig(epochs=10, batch_size=64, lr=1e-3, patience=3,
                               lr_schedule="plateau", lr_factor=0.2, lr_patience=1),
    "exponential": lab.TrainConfig(epochs=10, batch_size=64, lr=1e-3, patience=3,
                                   lr_schedule="exponential", lr_factor=0.7),
}


def evaluate_candidate(name: str, cfg: lab.TrainConfig, data: lab.Split, seed: int = 0) -> dict:
    """Fit the lab CNN with ``cfg`` and return its validation figures (no test image used)."""
    ember.manual_seed(lab._seed_for(seed, "cnn"))
    model = lab.build_model("mnist", "cnn")
    start = time.perf_counter()
    history = lab.fit_model(model, data, cfg, lab._seed_for(seed, "cnn"))
    seconds = time.perf_counter() - start
    h = history.history
    best = int(np.argmin(h["val_loss"]))
    val_acc = lab.test_accuracy(model, data.x_val, data.y_val)  # the restored weights
    for e in range(len(history.epoch)):
        lr = h.get("learning_rate", [cfg.lr] * len(history.epoch))[e]
        print(f"  {name} epoch {e + 1}: loss {h['loss'][e]:.4f} val_loss {h['val_loss'][e]:.4f} "
              f"val_accuracy {h['val_accuracy'][e]:.4f} lr {lr:.3g}", flush=True)
    return {"name": name, "val_accuracy": val_acc, "val_loss": float(h["val_loss"][best]),
            "best_epoch": best + 1, "epochs": len(history.epoch), "seconds": seconds}


def choose(rows: list[dict]) -> dict:
    """The rule fixed in the module doc: accuracy, then loss, then fewer epochs."""
    return min(rows, key=lambda r: (-r["val_accuracy"], r["val_loss"], r["epochs"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="*", choices=list(CANDIDATES), default=list(CANDIDATES))
    p.add_argument("--data", default=None, help="folder holding mnist/ (default: EMBER_DATA)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    data = lab.mnist_data("mnist", args.data)
    data.x_test = data.y_test = None  # selection never sees the test set
    rows = []
    for name in args.only:
        row = evaluate_candidate(name, CANDIDATES[name], data)
        rows.append(row)
        print(f"{name}: val_accuracy {row['val_accuracy']:.4f} "
              f"({round(row['val_accuracy'] * len(data.y_val))}/{len(data.y_val)}), val_loss "
              f"{row['val_loss']:.4f} at epoch {row['best_epoch']} of {row['epochs']}, "
              f"{row['seconds']:.0f} s", flush=True)
    if len(rows) > 1:
        print(f"chosen by the rule: {choose(rows)['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
