"""The Iris lab: a single-layer (linear softmax) and a multi-layer network, trained with ``fit``.

    python examples/lab_iris.py                 # full: 5-fold CV x 10 repeats (about a minute)
    python examples/lab_iris.py --quick         # seconds: one 5-fold CV, few epochs

Prints the accuracy table (mean ± std of stratified 5-fold cross-validation, see
``ember.lab``), each model's diagnosis, and writes learning curves and histories to ``--out``.
The models are :func:`ember.lab.build_model`'s::

    single layer: Sequential(Linear(4, 3))                          -> softmax regression
    multi-layer:  Sequential(Linear(4, 8), Tanh(), Linear(8, 3))
"""

import argparse
import os

from _common import report_lab  # first: makes `import ember` work from a checkout

from ember import lab


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("EMBER_QUICK")),
                        help="tiny settings (also: environment variable EMBER_QUICK=1)")
    parser.add_argument("--out", default=os.path.join("runs", "lab_iris"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print(lab.IRIS_PROTOCOL)
    results = lab.run_iris(quick=args.quick, seed=args.seed)
    report_lab(results, args.out, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
