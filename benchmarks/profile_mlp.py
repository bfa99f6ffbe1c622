"""Where the time of one MLP training step goes, phase by phase, in ember and in PyTorch.

    python -m benchmarks.profile_mlp [--threads 1] [--steps 30] [--batch 128] [--optimizer adam]

The model is the ``mlp`` benchmark's (784-512-256-10 with ReLU, batch 128, cross-entropy); the
step and the way each phase is timed are :mod:`benchmarks.profile_cnn`'s: forward layer by layer,
backward node by node (``torch.profiler`` for PyTorch), then the optimizer's step.
"""

from __future__ import annotations

import sys

from benchmarks import profile_cnn


def _layers(fw):
    nn = fw.nn
    return [
        ("fc1 forward", nn.Linear(784, 512)), ("relu1 forward", nn.ReLU()),
        ("fc2 forward", nn.Linear(512, 256)), ("relu2 forward", nn.ReLU()),
        ("fc3 forward", nn.Linear(256, 10)),
    ]


def _data(fw, batch):
    import numpy as np

    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal((batch, 784), dtype=np.float32))
    y = fw.from_numpy(rng.integers(0, 10, size=batch).astype(np.int64))
    return x, y


def main(argv=None) -> int:
    return profile_cnn.main(argv, model="MLP 784-512-256-10", layers=_layers, data=_data,
                            default_batch=128)


if __name__ == "__main__":
    sys.exit(main())
