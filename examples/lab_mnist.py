"""The MNIST lab: a single-layer network, a multi-layer perceptron and a small CNN.

    python examples/lab_mnist.py                # full settings (tens of minutes on a laptop CPU)
    python examples/lab_mnist.py --quick        # seconds: 1,000 training images, 1-2 epochs

Reads the four MNIST files from ``<data>/mnist/`` (``--data``, else ``$EMBER_DATA``, else
``~/.cache/ember``), downloading them (checksummed) when missing; offline, the first line of
output says which files to put where. The networks::

    single layer: Flatten, Linear(784, 10)
    MLP:          Flatten, Linear(784, 512), ReLU, Dropout(0.2), Linear(512, 256), ReLU,
                  Dropout(0.2), Linear(256, 10)
    CNN:          Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, padding=1),
                  ReLU, MaxPool2d(2), Flatten, Linear(3136, 128), ReLU, Dropout(0.25),
                  Linear(128, 10)

all trained with Adam (lr 1e-3) and early stopping on the validation loss (best weights
restored). Prints the accuracy table and diagnoses, writes curves (PNG) and histories (CSV).
"""

import argparse
import os
import sys

from _common import report_lab  # first: makes `import ember` work from a checkout

from ember import lab
from ember.datasets import MNIST, DatasetFileError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("EMBER_QUICK")),
                        help="tiny settings (also: environment variable EMBER_QUICK=1)")
    parser.add_argument("--out", default=os.path.join("runs", "lab_mnist"))
    parser.add_argument("--data", default=None, help="folder holding mnist/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="linear,mlp,cnn",
                        help="comma-separated subset of linear,mlp,cnn")
    args = parser.parse_args(argv)

    try:
        root = MNIST.fetch(args.data, option="--data DIR")  # finds (or fetches) the files first
    except DatasetFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(lab.MNIST_PROTOCOL)
    try:
        results = lab.run_mnist(quick=args.quick, seed=args.seed, root=root,
                                verbose=0 if args.quick else 2,
                                models=tuple(args.models.split(",")))
    except DatasetFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report_lab(results, args.out, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
