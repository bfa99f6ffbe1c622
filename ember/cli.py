"""ember's command line: ``ember lab``, ``ember train`` and ``ember info``.

Run as ``ember ...`` (the console script) or ``python -m ember ...``. ``main(argv)`` returns the
exit code instead of exiting, so tests can call it in-process.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from typing import Sequence

EPILOG_LAB = """\
examples:
  ember lab --dataset iris            Iris, single-layer and multi-layer networks (no download)
  ember lab --dataset mnist           MNIST, single-layer, MLP and CNN (needs the MNIST files)
  ember lab --quick --out /tmp/lab    a fast smoke run of everything

MNIST files are read from --data, else $EMBER_DATA, else ~/.cache/ember (folder mnist/ inside),
and downloaded into the first of those when missing.
"""

EPILOG_TRAIN = """\
examples:
  ember train --dataset iris --model mlp --epochs 100
  ember train --dataset mnist --model cnn --epochs 6 --batch-size 64 --out runs/cnn
  ember train --dataset fashion-mnist --model mlp --optimizer sgd --lr 0.05

Writes to --out: history.csv (per-epoch loss/accuracy), curves.png (learning curves) and
best.safetensors (the weights of the epoch with the lowest validation loss).
"""


class CLIError(Exception):
    """An error to report in one line (exit code 2), without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ember`` command (sub-commands lab, train, info)."""
    parser = argparse.ArgumentParser(
        prog="ember",
        description="ember: a readable deep-learning framework on NumPy. Run the reference lab, "
                    "train one model, or show what is installed.",
    )
    from ember import __version__

    parser.add_argument("--version", action="version", version=f"ember {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lab = sub.add_parser(
        "lab", help="run the reference lab (Iris and/or MNIST) and print a results table",
        description="Train the lab's models: Iris with a single-layer (linear softmax) and a "
                    "multi-layer network; MNIST with a single-layer, a multi-layer and a small "
                    "CNN. Prints a table of test accuracies against the targets (with epochs and "
                    "wall time) and each model's diagnosis, and writes learning curves (PNG) "
                    "and histories (CSV) to --out.",
        epilog=EPILOG_LAB, formatter_class=argparse.RawDescriptionHelpFormatter)
    lab.add_argument("--dataset", choices=["iris", "mnist", "all"], default="all",
                     help="which part of the lab to run (default: all)")
    lab.add_argument("--quick", action="store_true",
                     help="tiny settings (few epochs, small MNIST slices): checks that "
                          "everything works in seconds; accuracies are not meaningful")
    lab.add_argument("--out", default=os.path.join("runs", "lab"),
                     help="parent folder: each run writes its curves and histories to a new "
                          "folder <time>-<dataset>-<full|quick> inside it (default: runs/lab)")
    lab.add_argument("--seed", type=int, default=0,
                     help="seed of weight initialisation and shuffling (default: 0); the Iris "
                          "splits are fixed (seeds 0-9) whatever this is")
    lab.add_argument("--data", default=None,
                     help="folder holding mnist/ (default: $EMBER_DATA, then ~/.cache/ember)")
    lab.add_argument("--verbose", type=int, choices=[0, 1, 2], default=None,
                     help="MNIST progress: 0 silent, 1 progress bar, 2 one line per epoch "
                          "(default: 2, or 0 with --quick)")

    train = sub.add_parser(
        "train", help="train one model with fit and save its history, curves and best weights",
        description="Train one model with Model.fit: EarlyStopping (best weights restored), "
                    "ModelCheckpoint (best only) and CSVLogger, then report the test accuracy.",
        epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--dataset", choices=["iris", "mnist", "fashion-mnist"], default="mnist",
                       help="dataset (default: mnist)")
    train.add_argument("--model", choices=["linear", "mlp", "cnn"], default="mlp",
                       help="linear: one layer (softmax regression); mlp: fully connected with "
                            "hidden layers; cnn: convolutional (images only). Default: mlp")
    train.add_argument("--epochs", type=int, default=None,
                       help="maximum epochs (default: the lab's; iris 200 linear / 250 mlp, mnist "
                            "10 linear / 15 mlp / 6 cnn)")
    train.add_argument("--batch-size", type=int, default=None, help="samples per step")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default: the lab's for adam/adamw, 0.05 for sgd, "
                            "1.0 for adadelta, 1e-3 otherwise)")
    train.add_argument("--optimizer", default=None,
                       choices=["adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta"],
                       help="optimizer (default: the lab's, adam or adamw; sgd uses momentum 0.9)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    train.add_argument("--out", default=os.path.join("runs", "train"),
                       help="output folder (default: runs/train)")
    train.add_argument("--validation-split", type=float, default=None,
                       help="fraction of the training data held out for validation (default: "
                            "0.2 for iris; for MNIST the last 5,000 training images)")
    train.add_argument("--patience", type=int, default=None,
                       help="early-stopping patience in epochs (default: the lab's setting)")
    train.add_argument("--limit", type=int, default=None,
                       help="train on at most this many samples (quick experiments)")
    train.add_argument("--data", default=None, help="folder holding mnist/ or fashion-mnist/")
    train.add_argument("--verbose", type=int, choices=[0, 1, 2], default=2,
                       help="0 silent, 1 progress bar, 2 one line per epoch (default: 2)")

    sub.add_parser("info", help="show versions, devices and optional backends",
                   description="Print ember's version, Python and NumPy versions, the devices "
                               "and which optional backends are installed.")
    return parser


# ---------------------------------------------------------------------------------------- info

OPTIONAL = ("cupy", "mpi4py", "safetensors", "tqdm", "matplotlib")


def _version_of(name: str) -> str | None:
    """The installed version of a distribution/module, without importing it when possible."""
    from importlib import metadata

    dists = {"cupy": ("cupy", "cupy-cuda12x", "cupy-cuda11x")}.get(name, (name,))
    for d in dists:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            continue
    import importlib.util

    if importlib.util.find_spec(name) is not None:
        return "installed (version unknown)"
    return None


def info_lines() -> list[str]:
    """What ``ember info`` prints."""
    import numpy as np

    import ember

    lines = [f"ember       {ember.__version__}",
             f"Python      {platform.python_version()} ({platform.python_implementation()}, "
             f"{platform.system()} {platform.machine()})",
             f"NumPy       {np.__version__}",
             "devices:",
             f"  cpu       available ({os.cpu_count()} logical cores)"]
    try:
        import importlib

        cuda = importlib.import_module("ember.cuda")
        if cuda.is_available():
            n = cuda.device_count()
            names = []
            for i in range(n):
                try:
                    names.append(cuda.get_device_name(i))
                except Exception:  # noqa: BLE001 - a name is a nicety; the count is what matters
                    names.append("?")
            lines.append(f"  cuda      available: {n} GPU(s): {', '.join(names)}")
        else:
            lines.append("  cuda      not available (no CuPy or no GPU)")
    except ImportError:
        lines.append("  cuda      not available (ember.cuda is missing in this build)")
    except Exception as e:  # noqa: BLE001 - a broken GPU stack must not stop `info` reporting it
        lines.append(f"  cuda      not available ({type(e).__name__}: {e})")
    lines.append("optional backends:")
    for name in OPTIONAL:
        v = _version_of(name)
        lines.append(f"  {name:11s} {v if v else 'not installed'}")
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    """``ember info``."""
    print("\n".join(info_lines()))
    return 0


# ----------------------------------------------------------------------------------------- lab

def cmd_lab(args: argparse.Namespace) -> int:
    """``ember lab``: run the lab, print the table and diagnoses, write curves and histories."""
    from ember import lab

    verbose = args.verbose if args.verbose is not None else (0 if args.quick else 2)
    mode = "quick (tiny settings)" if args.quick else "full settings"
    out = lab.new_run_dir(args.out, args.dataset, args.quick)
    print(f"ember lab: dataset={args.dataset}, {mode}, seed={args.seed}, out={out}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, "
          f"Python {platform.python_version()}")
    results = []
    start = time.perf_counter()
    if args.dataset in ("iris", "all"):
        print("Iris:")
        print("  " + lab.IRIS_PROTOCOL)
        results += lab.run_iris(quick=args.quick, seed=args.seed)
    failure = None
    if args.dataset in ("mnist", "all"):
        print("MNIST:")
        print("  " + lab.MNIST_PROTOCOL + (" (--quick: small slices)" if args.quick else ""))
        from ember.datasets import DatasetFileError

        try:
            results += lab.run_mnist(quick=args.quick, seed=args.seed, root=args.data,
                                     verbose=verbose)
        except DatasetFileError as e:
            if not results:
                raise
            failure = e  # keep what Iris gave: report it, then fail on MNIST
    total = time.perf_counter() - start
    written = lab.save_artifacts(results, out)
    print()
    print(lab.format_table(results, quick=args.quick))
    print(f"\ntotal wall time {lab._fmt_seconds(total)}")
    for r in results:
        print(f"\n{r.dataset} {lab.MODEL_TITLES[r.model]}:")
        print("  " + str(r.diagnosis).replace("\n", "\n  "))
    print(f"\nwrote {len(written)} files to {out}")
    missed = [r for r in results if r.met is False]
    if missed and not args.quick:
        print("targets not met: " + ", ".join(f"{r.dataset} {r.model}" for r in missed))
    if failure is not None:
        print(f"ember lab: error: MNIST skipped: {failure}", file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------------------------------- train

def cmd_train(args: argparse.Namespace) -> int:
    """``ember train``: one model, trained with fit and the standard callbacks."""
    import numpy as np

    import ember
    from ember import lab
    from ember.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint

    if args.dataset == "iris" and args.model == "cnn":
        raise CLIError("--model cnn needs images; Iris has 4 numeric features: use linear or mlp")
    key = ("iris" if args.dataset == "iris" else "mnist", args.model)
    base = lab.FULL[key]
    epochs = args.epochs if args.epochs is not None else base.epochs
    batch_size = args.batch_size if args.batch_size is not None else base.batch_size
    optimizer = args.optimizer or base.optimizer
    if args.lr is not None:
        lr = args.lr
    elif optimizer in ("adam", "adamw"):
        lr = base.lr
    else:
        lr = {"sgd": 0.05, "adadelta": 1.0}.get(optimizer, 1e-3)
    patience = args.patience if args.patience is not None else (base.patience or 10)
    if epochs < 1 or batch_size < 1 or lr <= 0 or patience < 0:
        raise CLIError("--epochs and --batch-size must be positive, --lr > 0, --patience >= 0")
    if args.validation_split is not None and not 0 < args.validation_split < 1:
        raise CLIError(f"--validation-split must be between 0 and 1, got {args.validation_split}")

    if args.dataset == "iris":
        data = lab.iris_data(0, args.validation_split or 0.2)
    else:
        data = lab.mnist_data(args.dataset, args.data)
        if args.validation_split is not None:
            x = np.concatenate([data.x_train, data.x_val])
            y = np.concatenate([data.y_train, data.y_val])
            cut = len(x) - int(round(args.validation_split * len(x)))
            data = lab.Split(x[:cut], y[:cut], x[cut:], y[cut:], data.x_test, data.y_test)
    if args.limit is not None:
        data.x_train, data.y_train = data.x_train[:args.limit], data.y_train[:args.limit]

    try:
        device = ember.device(args.device)
    except (ValueError, RuntimeError, TypeError) as e:
        raise CLIError(f"--device {args.device!r}: {e}") from None
    if device.type == "cuda" and not _cuda_available():
        raise CLIError(f"--device {args.device}: CUDA is not available here (no CuPy or no GPU; "
                       "`ember info` shows what was found). Use --device cpu.")
    ember.manual_seed(args.seed)
    model = lab.build_model(args.dataset, args.model)
    weight_decay = base.weight_decay if optimizer == base.optimizer else 0.0
    model.compile(optimizer=lab.make_optimizer(optimizer, model.parameters(), lr, weight_decay),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, "best.safetensors")
    history_csv = os.path.join(args.out, "history.csv")
    # The lab's learning-rate schedule for this model (if any) comes with its other defaults.
    schedule = lab.training_callbacks(dataclasses.replace(base, lr=lr, patience=None))
    callbacks = [*schedule,
                 EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True,
                               verbose=1 if args.verbose else 0),
                 ModelCheckpoint(weights, monitor="val_loss", save_best_only=True),
                 CSVLogger(history_csv)]
    print(f"ember train: {args.dataset}, {lab.MODEL_TITLES[args.model]}, {optimizer} "
          f"lr={lr}, batch {batch_size}, up to {epochs} epochs, seed {args.seed}, device {device}; "
          f"{len(data.x_train)} training / {len(data.x_val)} validation / {len(data.x_test)} "
          "test samples")
    start = time.perf_counter()
    history = model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
                        validation_data=(data.x_val, data.y_val), callbacks=callbacks,
                        verbose=args.verbose, device=device)
    seconds = time.perf_counter() - start
    acc = lab.test_accuracy(model, data.x_test, data.y_test, device=device)
    written = [history_csv, weights]
    try:
        written.append(history.plot(os.path.join(args.out, "curves.png")))
    except ImportError as e:
        print(f"(no learning-curve PNG: {e})")
    print(f"test accuracy: {acc:.2%} ({len(data.x_test)} samples) after {len(history.epoch)} "
          f"epoch(s), best epoch {history.best_epoch() + 1}, {seconds:.1f} s")
    print(history.diagnose())
    print("wrote " + ", ".join(written))
    return 0


def _cuda_available() -> bool:
    try:
        import importlib

        return bool(importlib.import_module("ember.cuda").is_available())
    except Exception:  # noqa: BLE001 - no ember.cuda, or a broken GPU stack: no GPU to train on
        return False


# ---------------------------------------------------------------------------------------- main

def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ember`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    code. Expected failures (missing dataset files, bad arguments) print one ``error:`` line on
    stderr and return 2; Ctrl-C returns 130."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"lab": cmd_lab, "train": cmd_train, "info": cmd_info}
    from ember.datasets import DatasetFileError

    try:
        return handlers[args.command](args)
    except (CLIError, DatasetFileError, FileNotFoundError, PermissionError, ValueError) as e:
        # Bad settings (an unknown name, an impossible shape) surface as ValueError with a
        # message written for users; anything else is a bug and keeps its traceback.
        print(f"ember {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ember {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ember lab | head`): stop quietly as Unix tools do, and point
        # stdout at /dev/null so Python's flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover - `python -m ember.cli`
    sys.exit(main())
