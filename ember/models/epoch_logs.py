"""Log aggregation: what a step returns, turned into the logs of a batch and of an epoch.

Step logs are averaged over the epoch's samples (each batch weighted by its size), except the
compiled metrics, whose values are already running results over the epoch and pass through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.tensor import Tensor


def as_scalar(value) -> Any:
    """A Python number from a log value (Tensor, array or number); other values unchanged."""
    if isinstance(value, Tensor):
        return float(value.item()) if value.numel() == 1 else value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and getattr(value, "size", 2) == 1:
        return float(value.reshape(()))
    return value


def as_scalars(logs: dict) -> dict:
    """``logs`` with every value through :func:`as_scalar`: one device-to-host read per value."""
    return {k: as_scalar(v) for k, v in logs.items()}


def checked_logs(logs: Any, step_name: str, example: str = "") -> dict:
    """``logs`` as returned by ``train_step``/``test_step``, refused unless it is a dict."""
    if not isinstance(logs, dict):
        raise TypeError(f"{step_name} must return a dict of logs{example}, got "
                        f"{type(logs).__name__}")
    return logs


class EpochLogs:
    """Sample-weighted running means of step logs; compiled metrics pass through as they are.

    ``sums`` and ``count`` are what a distributed ``fit`` adds up across processes.
    """

    def __init__(self, passthrough: set[str]):
        self.passthrough = passthrough
        self.sums: dict[str, float] = {}
        self.count = 0
        self.latest: dict[str, Any] = {}

    def add(self, logs: dict, n: int) -> dict:
        """Add one batch of ``n`` samples (``logs`` already through :func:`as_scalars`);
        returns a new dict of the running results."""
        self.count += n
        for k, v in logs.items():
            if k in self.passthrough or not isinstance(v, (int, float)) or isinstance(v, bool):
                self.latest[k] = v
            else:
                self.sums[k] = self.sums.get(k, 0.0) + float(v) * n
        return self.result()

    def result(self) -> dict:
        """The running results: each mean over the samples so far, then the passed-through
        values."""
        out = {k: s / self.count for k, s in self.sums.items()} if self.count else {}
        out.update(self.latest)
        return out
