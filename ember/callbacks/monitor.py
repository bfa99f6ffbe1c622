"""Helpers shared by the callbacks that watch a logged quantity and by weight snapshots."""

from __future__ import annotations

import math
import warnings

_HIGHER_IS_BETTER = ("acc", "accuracy", "auc", "precision", "recall", "f1")


def resolve_mode(monitor: str, mode: str, owner: str) -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``"auto"`` guessed from the name.

    Losses and errors are minimised; accuracies, precision, recall, F1 and AUC maximised.
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    base = monitor[4:] if monitor.startswith("val_") else monitor
    if base.endswith(_HIGHER_IS_BETTER) or base.startswith(_HIGHER_IS_BETTER):
        return "max"
    return "min"


def monitored_value(logs: dict | None, monitor: str, owner: str) -> float | None:
    """``logs[monitor]`` as a float, or ``None`` with a warning naming the available keys."""
    value = (logs or {}).get(monitor)
    if value is None:
        available = ", ".join(sorted(logs or {})) or "none"
        warnings.warn(
            f"{owner} is monitoring {monitor!r}, which is not in the logs (available: {available})."
            " Pass validation data to fit() for val_* quantities (with validation_freq they are "
            "logged on the validated epochs only; the others are skipped), or pick one of the "
            "available keys.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return float(value)


def is_better(current: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``current`` improves on ``best`` by more than ``min_delta`` (``None``: always)."""
    if best is None:
        return not math.isnan(current)
    if mode == "min":
        return current < best - abs(min_delta)
    return current > best + abs(min_delta)


def snapshot_weights(model) -> dict:
    """Copies of every entry of ``model.state_dict()``, kept on their device."""
    from ember.tensor import Tensor

    return {k: Tensor._wrap(v._data.copy()) if isinstance(v, Tensor) else v
            for k, v in model.state_dict().items()}


def restore_weights(model, snapshot: dict) -> None:
    """Put a :func:`snapshot_weights` copy back into ``model``."""
    model.load_state_dict(snapshot)


def check_state(owner: str, state: dict, expected: dict, keys: tuple[str, ...]) -> None:
    """Refuse a saved callback state that lacks ``keys`` or was recorded under other settings
    (``expected``, e.g. another ``monitor``), before anything is changed."""
    if not isinstance(state, dict):
        raise ValueError(f"{owner}.load_state_dict expects a dict, got {type(state).__name__}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"{owner}.load_state_dict: the state lacks {missing} (it has "
                         f"{sorted(state)}); was it saved by another kind of callback?")
    for name, value in expected.items():
        if state.get(name) != value:
            raise ValueError(f"{owner}.load_state_dict: the state was recorded with "
                             f"{name}={state.get(name)!r} but this callback has {name}={value!r}")
