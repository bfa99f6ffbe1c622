"""Early stopping in action: an oversized network on a small slice of MNIST over-fits, and
``EarlyStopping(restore_best_weights=True)`` hands back the weights of its best epoch.

    python examples/early_stopping.py                     # 1,000 training images, 2 x 1024 units
    python examples/early_stopping.py --train 300 --hidden 256 --epochs 12   # seconds (tests)

With far more parameters than images and no regularisation, training loss keeps falling while
validation loss turns up after a few epochs. EarlyStopping watches ``val_loss``, stops
``patience`` epochs after its minimum and restores that epoch's weights; ``history.diagnose()``
names the problem and suggests what to do. Reads MNIST from ``--data``, ``$EMBER_DATA`` or the
cache, downloading it (checksummed) when missing; offline, it stops with one line saying so.
"""

import argparse
import os
import sys

import numpy as np

import _common  # noqa: F401  (makes `import ember` work from a checkout)

import ember
import ember.nn as nn
from ember.callbacks import EarlyStopping
from ember.datasets import MNIST, DatasetFileError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=1000, help="training images (default 1000)")
    parser.add_argument("--val", type=int, default=1000, help="validation images (default 1000)")
    parser.add_argument("--hidden", type=int, default=1024, help="units per hidden layer")
    parser.add_argument("--epochs", type=int, default=40, help="maximum epochs")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--data", default=None, help="folder holding mnist/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "early_stopping"))
    args = parser.parse_args(argv)

    try:
        mnist = MNIST(root=MNIST.fetch(args.data, option="--data DIR"), train=True)
    except DatasetFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    x, y = mnist.tensors(flatten=True)
    x, y = np.array(x), np.array(y)
    x_train, y_train = x[:args.train], y[:args.train]
    x_val, y_val = x[-args.val:], y[-args.val:]  # from the other end: never seen in training

    ember.manual_seed(args.seed)
    h = args.hidden
    # Oversized on purpose, and no dropout or weight decay: it can memorise the training slice.
    model = ember.models.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                                    nn.Linear(h, 10))
    model.compile(optimizer=ember.optim.Adam(model.parameters(), lr=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stopper = EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True,
                            verbose=1)
    print(f"{model.__class__.__name__} with {sum(p.numel() for p in model.parameters()):,} "
          f"parameters on {len(x_train)} training images")
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                        validation_data=(x_val, y_val), callbacks=[stopper], verbose=2)

    best = int(np.argmin(history.history["val_loss"]))
    restored_loss, restored_acc = model.evaluate(x_val, y_val, batch_size=500, verbose=0)
    print(f"\nran {len(history.epoch)} of {args.epochs} epochs; lowest val_loss "
          f"{history.history['val_loss'][best]:.4f} at epoch {best + 1}, last epoch's "
          f"{history.history['val_loss'][-1]:.4f}")
    print(f"after restoring the best weights: val_loss {restored_loss:.4f}, val_accuracy "
          f"{restored_acc:.2%}")
    diagnosis = history.diagnose()
    print()
    print(diagnosis)
    try:
        print(f"\nwrote {history.plot(os.path.join(args.out, 'curves.png'))}")
    except ImportError:
        print("(matplotlib is not installed: no learning curves)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
