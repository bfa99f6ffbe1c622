"""A labelled corpus of real training runs for :func:`ember.callbacks.diagnosis.diagnose`.

Each run is built so that its verdict is known **by construction**, not by looking at curves:

* ``overfitting``: a large network, no regularisation, no early stopping, on few samples whose
  labels are partly (or wholly) random: it can only lower its training loss by memorising;
* ``underfitting``: a model too small for nonlinear data (a linear model on circles, XOR or
  spirals; a one-unit bottleneck on MNIST), trained until its loss levels off;
* ``still improving``: a sensible model stopped after few epochs at a small learning rate;
* ``good fit``: a right-sized model with early stopping (best weights restored) on clean data.

Every run trains with ember's ``fit`` for real, with fixed seeds, and its :class:`History`
(curves and the run's settings) is stored as JSON in ``benchmarks/diagnosis_corpus/``::

    EMBER_DATA=../shared/data OPENBLAS_NUM_THREADS=1 python -m benchmarks.diagnosis_corpus

re-trains every run, rewrites the files and prints a table (run, constructed kind, verdict).
``--table`` prints the table from the stored files without training. MNIST runs are skipped
(and their stored files kept) when the MNIST files are not found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

import ember
import ember.nn as nn
from ember.callbacks import EarlyStopping
from ember.models import History

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diagnosis_corpus")


# ------------------------------------------------------------------------------------- data

def _shuffled(x, y, seed):
    perm = np.random.default_rng(seed).permutation(len(x))
    return x[perm].astype(np.float32), y[perm].astype(np.int64)


def _halves(x, y, val_fraction=0.3):
    cut = int(len(x) * (1 - val_fraction))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _flip(y, fraction, classes, seed):
    """``y`` with ``fraction`` of the labels replaced by a different random class."""
    rng = np.random.default_rng(seed)
    y = y.copy()
    idx = rng.choice(len(y), int(round(fraction * len(y))), replace=False)
    y[idx] = (y[idx] + rng.integers(1, classes, len(idx))) % classes
    return y


def iris(seed=0):
    x, y = (np.array(t) for t in ember.datasets.Iris().tensors())
    x = (x - x.mean(0)) / x.std(0)
    return _shuffled(x, y, seed)


def moons(n=400, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)],
                 np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    x = x + rng.normal(0, noise, x.shape)
    return _shuffled(x, (~upper).astype(np.int64), seed)


def circles(n=400, noise=0.08, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    inner = rng.random(n) < 0.5
    r = np.where(inner, 0.5, 1.0)
    x = np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, noise, (n, 2))
    return _shuffled(x, inner.astype(np.int64), seed)


def xor(n=400, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    corner = rng.integers(0, 2, (n, 2))
    x = (corner * 2 - 1) + rng.normal(0, noise, (n, 2))
    return _shuffled(x, (corner[:, 0] ^ corner[:, 1]).astype(np.int64), seed)


def spirals(n=450, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    per = n // classes
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, per)
        t = np.linspace(c * 4.0, c * 4.0 + 4.0, per) + rng.normal(0, 0.15, per)
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(per, c))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), seed)


def random_labels(n=64, features=20, seed=0):
    rng = np.random.default_rng(seed)
    return _shuffled(rng.normal(size=(n, features)), rng.integers(0, 2, n), seed)


def mnist(n_train, n_val, seed=0):
    """The first ``n_train`` MNIST training images and the last ``n_val`` (disjoint), scaled."""
    root = os.environ.get("EMBER_DATA")
    ds = ember.datasets.MNIST(root=root, train=True, download=False)
    x, y = (np.array(t) for t in ds.tensors())
    x = ((x.reshape(len(x), -1) - 0.1307) / 0.3081).astype(np.float32)
    return (x[:n_train], y[:n_train].astype(np.int64)), (x[-n_val:], y[-n_val:].astype(np.int64))


def mnist_available() -> bool:
    try:
        mnist(1, 1)
        return True
    except Exception:
        return False


# ------------------------------------------------------------------------------------- runs

@dataclass
class Run:
    name: str
    kind: str  # the verdict known by construction
    how: str
    train: Callable[[], History]
    needs_mnist: bool = False


def _mlp(sizes, act=nn.ReLU, dropout=0.0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return ember.models.Sequential(*layers)


def _fit(model_fn, data, *, optimizer="adam", lr=0.01, weight_decay=0.0, epochs=100,
         batch_size=32, patience=None, seed=0) -> History:
    (x, y), (xv, yv) = data
    ember.manual_seed(seed)
    model = model_fn()
    opt_cls = {"adam": ember.optim.Adam, "adamw": ember.optim.AdamW, "sgd": ember.optim.SGD}
    model.compile(opt_cls[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [] if patience is None else [
        EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv),
                     callbacks=callbacks, verbose=0)


def _noisy(data_fn, fraction, classes, val_fraction=0.3):
    """Training labels partly flipped; validation labels clean."""
    (x, y), (xv, yv) = _halves(*data_fn(), val_fraction)
    return (x, _flip(y, fraction, classes, 1)), (xv, yv)


RUNS: list[Run] = [
    # over-fitting: memorising noisy labels with a big network, nothing to stop it
    Run("iris_noisy30_mlp256x2", "overfitting",
        "Iris, 30% of training labels flipped, 4-256-256-3 ReLU, Adam 0.01, 300 epochs",
        lambda: _fit(lambda: _mlp([4, 256, 256, 3]), _noisy(iris, 0.3, 3), epochs=300)),
    Run("moons_noisy25_mlp256x2", "overfitting",
        "moons (200), 25% of training labels flipped, 2-256-256-2, Adam 0.01, 300 epochs",
        lambda: _fit(lambda: _mlp([2, 256, 256, 2]), _noisy(lambda: moons(200), 0.25, 2),
                     epochs=300)),
    Run("random_labels_mlp256", "overfitting",
        "64 random Gaussian points with random labels, 20-256-2, Adam 0.01, 150 epochs",
        lambda: _fit(lambda: _mlp([20, 256, 2]), _halves(*random_labels(), 0.5), epochs=150)),
    Run("spirals_noisy30_mlp256x2", "overfitting",
        "spirals (300), 30% of training labels flipped, 2-256-256-3, Adam 0.01, 300 epochs",
        lambda: _fit(lambda: _mlp([2, 256, 256, 3]), _noisy(lambda: spirals(300), 0.3, 3),
                     epochs=300)),
    Run("mnist500_noisy40_mlp512x2", "overfitting",
        "MNIST 500 images, 40% of labels flipped, 784-512-512-10, Adam 1e-3, 40 epochs; "
        "validated on 1000 clean images",
        lambda: _fit(lambda: _mlp([784, 512, 512, 10]), _mnist_noisy(), lr=1e-3, epochs=40),
        needs_mnist=True),
    # under-fitting: too small for nonlinear data, trained until the loss levels off
    Run("circles_linear", "underfitting",
        "concentric circles, Linear(2, 2), Adam 0.01, 150 epochs",
        lambda: _fit(lambda: _mlp([2, 2]), _halves(*circles()), epochs=150)),
    Run("xor_linear", "underfitting",
        "XOR clusters, Linear(2, 2), Adam 0.01, 150 epochs",
        lambda: _fit(lambda: _mlp([2, 2]), _halves(*xor()), epochs=150)),
    Run("spirals_linear", "underfitting",
        "3-class spirals, Linear(2, 3), Adam 0.01, 150 epochs",
        lambda: _fit(lambda: _mlp([2, 3]), _halves(*spirals()), epochs=150)),
    Run("spirals_mlp2", "underfitting",
        "3-class spirals, 2-2-3 tanh (two hidden units), Adam 0.01, 200 epochs",
        lambda: _fit(lambda: _mlp([2, 2, 3], nn.Tanh), _halves(*spirals()), epochs=200)),
    Run("mnist3000_bottleneck1", "underfitting",
        "MNIST 3000 images, 784-1-10 (one hidden unit), Adam 1e-2, 40 epochs",
        lambda: _fit(lambda: _mlp([784, 1, 10]), mnist(3000, 1000), lr=1e-2, epochs=40,
                     batch_size=64),
        needs_mnist=True),
    # still improving: a sensible model stopped early at a small learning rate
    Run("iris_mlp16_adam1e-3_50ep", "still improving",
        "Iris, 4-16-3 ReLU, Adam 1e-3, 50 epochs (the issue's run)",
        lambda: _fit(lambda: _mlp([4, 16, 3]), _halves(*iris(), 0.2), lr=1e-3, epochs=50)),
    Run("moons_mlp32_sgd_40ep", "still improving",
        "moons, 2-32-32-2, SGD 0.05, 40 epochs",
        lambda: _fit(lambda: _mlp([2, 32, 32, 2]), _halves(*moons()), optimizer="sgd",
                     lr=0.05, epochs=40)),
    Run("circles_mlp32_adam1e-3_30ep", "still improving",
        "circles, 2-32-32-2, Adam 1e-3, 30 epochs",
        lambda: _fit(lambda: _mlp([2, 32, 32, 2]), _halves(*circles()), lr=1e-3, epochs=30)),
    Run("mnist2000_linear_sgd_8ep", "still improving",
        "MNIST 2000 images, Linear(784, 10), SGD 1e-3, 8 epochs",
        lambda: _fit(lambda: _mlp([784, 10]), mnist(2000, 1000), optimizer="sgd", lr=1e-3,
                     epochs=8),
        needs_mnist=True),
    # good fit: right-sized, clean data, early stopping with the best weights restored
    Run("iris_linear_es", "good fit",
        "Iris, Linear(4, 3), Adam 0.05, early stopping (patience 20), up to 400 epochs",
        lambda: _fit(lambda: _mlp([4, 3]), _halves(*iris(), 0.3), lr=0.05, epochs=400,
                     batch_size=16, patience=20)),
    Run("iris_mlp8_es", "good fit",
        "Iris, 4-8-3 tanh, Adam 0.01, early stopping (patience 20), up to 400 epochs",
        lambda: _fit(lambda: _mlp([4, 8, 3], nn.Tanh), _halves(*iris(), 0.3), epochs=400,
                     batch_size=16, patience=20)),
    Run("moons_mlp16_es", "good fit",
        "moons, 2-16-16-2, Adam 0.01, early stopping (patience 20), up to 400 epochs",
        lambda: _fit(lambda: _mlp([2, 16, 16, 2]), _halves(*moons()), epochs=400,
                     patience=20)),
    Run("circles_mlp16_es", "good fit",
        "circles, 2-16-16-2, Adam 0.01, early stopping (patience 20), up to 400 epochs",
        lambda: _fit(lambda: _mlp([2, 16, 16, 2]), _halves(*circles()), epochs=400,
                     patience=20)),
    Run("mnist5000_mlp64_es", "good fit",
        "MNIST 5000 images, 784-64-10 ReLU, dropout 0.3, Adam 1e-3, early stopping "
        "(patience 3), up to 40 epochs",
        lambda: _fit(lambda: _mlp([784, 64, 10], dropout=0.3), mnist(5000, 2000), lr=1e-3,
                     epochs=40, batch_size=64, patience=3),
        needs_mnist=True),
]


def _mnist_noisy():
    (x, y), (xv, yv) = mnist(500, 1000)
    return (x, _flip(y, 0.4, 10, 1)), (xv, yv)


# ---------------------------------------------------------------------------------- storage

def path_of(name: str) -> str:
    return os.path.join(CORPUS_DIR, name + ".json")


def save(run: Run, history: History) -> str:
    os.makedirs(CORPUS_DIR, exist_ok=True)
    data = {"name": run.name, "kind": run.kind, "how": run.how, **history.to_dict()}
    data["history"] = {k: [round(v, 6) for v in vs] for k, vs in data["history"].items()}
    with open(path_of(run.name), "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    return path_of(run.name)


def load(name: str) -> tuple[dict, History]:
    with open(path_of(name)) as f:
        data = json.load(f)
    return data, History.from_dict(data)


def table(names: list[str] | None = None) -> str:
    lines = ["| run | constructed kind | verdict | right |", "|---|---|---|:-:|"]
    for run in RUNS:
        if names is not None and run.name not in names:
            continue
        if not os.path.exists(path_of(run.name)):
            lines.append(f"| {run.name} | {run.kind} | (not stored) | |")
            continue
        data, history = load(run.name)
        verdict = history.diagnose().verdict
        lines.append(f"| {run.name} | {run.kind} | {verdict} | "
                     f"{'yes' if verdict == run.kind else 'NO'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the stored runs' table only")
    parser.add_argument("--only", nargs="*", help="train only these runs")
    args = parser.parse_args(argv)
    if not args.table:
        have_mnist = mnist_available()
        for run in RUNS:
            if args.only and run.name not in args.only:
                continue
            if run.needs_mnist and not have_mnist:
                print(f"skip {run.name}: MNIST files not found (set EMBER_DATA)", file=sys.stderr)
                continue
            history = run.train()
            save(run, history)
            print(f"{run.name}: {len(history.epoch)} epochs, {history.diagnose().verdict}",
                  file=sys.stderr)
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
