"""History: the per-epoch record of a ``fit`` run, with learning-curve plots and a diagnosis."""

from __future__ import annotations

import math

import os
from typing import Any

from ember.callbacks.callback import Callback
from ember.callbacks.diagnosis import Diagnosis, diagnose


class History(Callback):
    """The record ``fit`` returns (also kept as ``model.history``).

    Attributes:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``, one value per
            epoch that logged the key, in the order the epochs ran. As in Keras, ``val_*`` lists
            are shorter when ``fit(validation_freq=...)`` skipped validation on some epochs.
        epoch: the epoch numbers (0-based) of the run.
        key_epochs: ``{key: [epoch, ...]}``, the epochs each key's values belong to (see
            :meth:`epochs_for`).
        params: ``epochs``, ``steps``, ``verbose`` of the run.
        settings: how the run was set up, recorded by ``fit`` (:func:`run_settings`):
            ``optimizer``, ``lr``, ``weight_decay``, ``dropout``, ``early_stopping``,
            ``epochs``, ``batch_size``; the diagnosis reads it to judge and advise.
        interrupted: ``True`` when the run was stopped with Ctrl-C.

    ``History({"loss": [...], "val_loss": [...]})`` builds one from a dict, e.g. to plot or
    diagnose curves recorded elsewhere; a shorter list is taken to belong to the first epochs
    unless ``key_epochs`` says which.
    """

    def __init__(self, history: dict[str, list] | None = None, epoch: list[int] | None = None,
                 key_epochs: dict[str, list[int]] | None = None, settings: dict | None = None):
        super().__init__()
        self.settings: dict[str, Any] = dict(settings or {})
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        n = max((len(v) for v in self.history.values()), default=0)
        self.epoch: list[int] = list(epoch) if epoch is not None else list(range(n))
        self.key_epochs: dict[str, list[int]] = {k: list(v) for k, v in (key_epochs or {}).items()}
        for k, v in self.key_epochs.items():
            if k in self.history and len(v) != len(self.history[k]):
                raise ValueError(f"History: key_epochs[{k!r}] has {len(v)} epochs but "
                                 f"history[{k!r}] has {len(self.history[k])} values")
        self.interrupted = False

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []
        self.history = {}
        self.key_epochs = {}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
            self.key_epochs.setdefault(k, []).append(epoch)

    def epochs_for(self, key: str) -> list[int]:
        """The epochs (0-based, as :attr:`epoch`) that ``history[key]``'s values belong to:
        every epoch for training keys, only the validated ones for ``val_*`` keys under
        ``validation_freq``."""
        if key not in self.history:
            raise KeyError(f"{key!r} is not in this history (keys: {', '.join(self.history)})")
        n = len(self.history[key])
        known = self.key_epochs.get(key)
        if known is not None and len(known) == n:
            return list(known)
        return list(self.epoch[:n]) if len(self.epoch) >= n else list(range(n))

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
        return self.epochs_for(monitor)[i]

    def diagnose(self) -> Diagnosis:
        """Under-fitting, good fit or over-fitting, from the loss curves (see
        :mod:`ember.callbacks.diagnosis` for the rules); ``print()`` the result for a report."""
        val_epochs = self.epochs_for("val_loss") if self.history.get("val_loss") else None
        return diagnose(self.history, self.epoch, val_epochs, self.settings)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy: ``history``, ``epoch``, ``key_epochs`` and ``settings``."""
        return {"history": {k: [float(v) for v in vs] for k, vs in self.history.items()},
                "epoch": list(self.epoch), "key_epochs": dict(self.key_epochs),
                "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        """The inverse of :meth:`to_dict`."""
        return cls(data["history"], data.get("epoch"), data.get("key_epochs"),
                   data.get("settings"))

    def plot(self, path: str | os.PathLike | None = None, metrics: list[str] | None = None,
             title: str | None = None) -> Any:
        """Draw the learning curves: one panel per metric, training beside validation.

        The best epoch (lowest ``val_loss``) is marked with a vertical line and annotated inside
        every panel; the gap between training and validation is shaded; epochs are integer
        ticks; points carry markers on short runs (up to 30 epochs) only. Each value is drawn at
        its own epoch, so validation run every few epochs (``validation_freq``) shows as points
        at those epochs. Needs matplotlib; draws off-screen (Agg) without touching pyplot's
        global state.

        Args:
            path: a PNG file to write; when ``None`` the figure is returned instead.
            metrics: the metrics to draw (training names, e.g. ``["loss", "accuracy"]``); by
                default every metric recorded for training.
            title: the figure's title, e.g. the model and the data; by default the model as
                ``fit`` recorded it (``settings["model"]``).

        Returns:
            ``path`` when given, else the matplotlib ``Figure``.
        """
        from ember.callbacks.plotting import plot_history

        return plot_history(self, path, metrics, title)


def describe_model(model) -> str:
    """A one-line description of a model: ``"Linear(4, 16) - ReLU - Linear(16, 3)"`` for a
    sequence of layers, else the class name; with the number of parameters."""
    children = list(model.children()) if hasattr(model, "children") else []
    parts = []
    for m in children or [model]:
        name = type(m).__name__
        if hasattr(m, "in_features") and hasattr(m, "out_features"):
            name += f"({m.in_features}, {m.out_features})"
        elif hasattr(m, "in_channels") and hasattr(m, "out_channels"):
            k = getattr(m, "kernel_size", "")
            k = k[0] if isinstance(k, tuple) and len(set(k)) == 1 else k
            name += f"({m.in_channels}, {m.out_channels}, {k})"
        elif "Dropout" in name and hasattr(m, "p"):
            name += f"({m.p:g})"
        parts.append(name)
    count = sum(int(p.numel()) for p in model.parameters()) if hasattr(model, "parameters") else 0
    text = " - ".join(parts) if len(parts) <= 9 else f"{type(model).__name__} ({len(parts)} layers)"
    return f"{text} ({count:,} parameters)"


def run_settings(model, callbacks, epochs: int, batch_size: int | None = None) -> dict[str, Any]:
    """What a ``fit`` run uses, for :attr:`History.settings`: the optimizer's class name, its
    first learning rate and weight decay, the dropout rates in the model, the ``EarlyStopping``
    callback's settings (``None`` without one), the planned epochs and the batch size."""
    from ember.callbacks.early_stopping import EarlyStopping

    out: dict[str, Any] = {"epochs": int(epochs), "model": describe_model(model)}
    if batch_size is not None:
        out["batch_size"] = int(batch_size)
    opt = getattr(model, "optimizer", None)
    groups = getattr(opt, "param_groups", None) or []
    if opt is not None:
        out["optimizer"] = type(opt).__name__.lower()
    if groups:
        out["lr"] = float(groups[0].get("lr", 0.0))
        out["weight_decay"] = float(groups[0].get("weight_decay", 0.0) or 0.0)
    modules = model.modules() if hasattr(model, "modules") else []
    out["dropout"] = [float(m.p) for m in modules
                      if "Dropout" in type(m).__name__ and float(getattr(m, "p", 0.0)) > 0]
    early = next((cb for cb in callbacks or [] if isinstance(cb, EarlyStopping)), None)
    out["early_stopping"] = None if early is None else {
        "monitor": early.monitor, "patience": int(early.patience),
        "restore_best_weights": bool(early.restore_best_weights)}
    return out
