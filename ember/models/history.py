"""History: the per-epoch record of a ``fit`` run, with learning-curve plots and a diagnosis."""

from __future__ import annotations

import math

import os
from typing import Any

from ember.callbacks.callback import Callback
from ember.models.diagnosis import Diagnosis, diagnose


class History(Callback):
    """The record ``fit`` returns (also kept as ``model.history``).

    Attributes:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``, one value per
            epoch, in the order the epochs ran.
        epoch: the epoch numbers (0-based) the values belong to.
        params: ``epochs``, ``steps``, ``verbose`` of the run.
        interrupted: ``True`` when the run was stopped with Ctrl-C.

    ``History({"loss": [...], "val_loss": [...]})`` builds one from a dict, e.g. to plot or
    diagnose curves recorded elsewhere.
    """

    def __init__(self, history: dict[str, list] | None = None, epoch: list[int] | None = None):
        super().__init__()
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        n = max((len(v) for v in self.history.values()), default=0)
        self.epoch: list[int] = list(epoch) if epoch is not None else list(range(n))
        self.interrupted = False

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epoch)}, keys=[{keys}])"

    def best_epoch(self, monitor: str = "val_loss", mode: str = "auto") -> int:
        """The epoch (as in :attr:`epoch`) where ``monitor`` was best (lowest for losses)."""
        from ember.callbacks.monitor import resolve_mode

        values = self.history.get(monitor)
        if not values:
            raise KeyError(f"{monitor!r} is not in this history (keys: {', '.join(self.history)})")
        pick = min if resolve_mode(monitor, mode, "best_epoch") == "min" else max
        # NaN/inf epochs (a diverged step) can never be best, as in diagnose() and plot()
        finite = [j for j in range(len(values)) if math.isfinite(float(values[j]))]
        i = pick(finite, key=lambda j: values[j]) if finite else len(values) - 1
        return self.epoch[i] if i < len(self.epoch) else i

    def diagnose(self) -> Diagnosis:
        """Under-fitting, good fit or over-fitting, from the loss curves (see
        :mod:`ember.models.diagnosis` for the rules); ``print()`` the result for a report."""
        return diagnose(self.history, self.epoch)

    def plot(self, path: str | os.PathLike | None = None, metrics: list[str] | None = None) -> Any:
        """Draw the learning curves: one panel per metric, training beside validation.

        The best epoch (lowest ``val_loss``) is marked with a vertical line and annotated in every
        panel. Needs matplotlib; draws off-screen (Agg) without touching pyplot's global state.

        Args:
            path: a PNG file to write; when ``None`` the figure is returned instead.
            metrics: the metrics to draw (training names, e.g. ``["loss", "accuracy"]``); by
                default every metric recorded for training.

        Returns:
            ``path`` when given, else the matplotlib ``Figure``.
        """
        from ember.models.plotting import plot_history

        return plot_history(self, path, metrics)
