"""A layer written with the low-level API, trained inside a ``Sequential`` by ``fit``.

    python examples/custom_layer.py              # Iris, 100 epochs (a few seconds)
    python examples/custom_layer.py --epochs 20  # quicker

``GatedDense`` computes ``(x W^T + b) * sigmoid(x V^T + c)`` (a gated linear unit) with its own
``Parameter``s and plain tensor ops. It needs no ``backward``: ember records the graph of
``forward`` and differentiates it. Because it is an ``nn.Module``, ``Sequential``, ``summary``,
``state_dict``, the optimizers and ``fit`` treat it like any built-in layer.
"""

import argparse
import math

import numpy as np

import _common  # noqa: F401  (makes `import ember` work from a checkout)

import ember
import ember.nn as nn
from ember import lab


class GatedDense(nn.Module):
    """A gated linear unit: ``(x W^T + b) * sigmoid(x V^T + c)``.

    Args:
        in_features, out_features: sizes of each input and output sample.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)  # PyTorch's Linear default: U(-1/sqrt(in), 1/sqrt(in))
        self.weight = nn.Parameter((ember.rand(out_features, in_features) * 2 - 1) * bound)
        self.bias = nn.Parameter(ember.zeros(out_features))
        self.gate_weight = nn.Parameter((ember.rand(out_features, in_features) * 2 - 1) * bound)
        # Start with the gate mostly open (sigmoid(1) ~ 0.73) so early gradients flow.
        self.gate_bias = nn.Parameter(ember.ones(out_features))

    def forward(self, x):
        value = x @ self.weight.T + self.bias
        gate = (x @ self.gate_weight.T + self.gate_bias).sigmoid()
        return value * gate

    def extra_repr(self) -> str:
        out_features, in_features = self.weight.shape
        return f"in_features={in_features}, out_features={out_features}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    data = lab.iris_data(split_seed=0)
    model = ember.models.Sequential(GatedDense(4, 16), nn.ReLU(), nn.Linear(16, 3))
    model.summary(input_shape=(4,))
    before = np.array(model[0].gate_weight.detach())

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(data.x_train, data.y_train, epochs=args.epochs, batch_size=16,
                        validation_data=(data.x_val, data.y_val), verbose=0)
    loss, acc = model.evaluate(data.x_test, data.y_test, verbose=0)
    changed = not np.allclose(before, np.array(model[0].gate_weight.detach()))

    print(f"trained {len(history.epoch)} epochs: loss {history.history['loss'][0]:.4f} -> "
          f"{history.history['loss'][-1]:.4f}, val_accuracy "
          f"{history.history['val_accuracy'][-1]:.2%}")
    print(f"GatedDense parameters trained by fit: {changed}")
    print(f"test accuracy (Iris seed-0 split, 30 flowers): {acc:.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
