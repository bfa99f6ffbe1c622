"""A warning before training when ``validation_split`` cuts sorted or class-ordered data.

``fit(validation_split=f)`` holds out the *last* fraction ``f`` of the samples as given, before
any shuffling, as Keras does. Data stored in class order (Iris, many CSV files) then validates on
classes the model never trains on: validation accuracy near 0 and a false "over-fitting". This
module tells the user before the first epoch.
"""

from __future__ import annotations

import warnings

import numpy as np


def _labels(y) -> np.ndarray | None:
    """Class labels or targets as a 1-D array (one-hot rows become class indices); ``None``
    when ``y`` cannot be read as such."""
    try:
        a = np.asarray(getattr(y, "_data", y))
    except Exception:
        return None
    if a.dtype == object or a.size == 0:
        return None
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    if a.ndim == 2 and a.shape[1] == 1:
        return a[:, 0]
    return a if a.ndim == 1 else None


def split_problem(y_train, y_val) -> str:
    """Why the split of ``y_train`` (first part) and ``y_val`` (last part) misleads, or ``""``.

    Two signs: the validation part holds classes that the training part lacks (integer labels),
    or the labels as a whole are sorted (ascending or descending, at least two distinct values).
    """
    train, val = _labels(y_train), _labels(y_val)
    if train is None or val is None:
        return ""
    whole = np.concatenate([train, val])
    if whole.dtype.kind in "biu":
        unseen = sorted(set(np.unique(val).tolist()) - set(np.unique(train).tolist()))
        if unseen:
            return (f"the validation part holds label(s) {unseen[:10]} that the training part "
                    "never has")
    if whole.dtype.kind not in "biuf" or len(np.unique(whole)) < 2:
        return ""
    steps = np.diff(whole)
    if (steps >= 0).all() or (steps <= 0).all():
        return "the labels are sorted, so the validation part is the tail of their range"
    return ""


def warn_if_sorted_split(y_train, y_val, validation_split: float) -> None:
    """Warn (``UserWarning``) when a ``validation_split`` of these labels misleads; see
    :func:`split_problem`. Called by ``fit`` right after the split, before training."""
    problem = split_problem(y_train, y_val)
    if not problem:
        return
    warnings.warn(
        f"fit: validation_split={validation_split} holds out the last {validation_split:.0%} of "
        f"the samples as given (before shuffling, as Keras does), and {problem}. Validation "
        "numbers will mislead. Shuffle the data first (perm = np.random.default_rng(0)."
        "permutation(len(x)); x, y = x[perm], y[perm]) or pass validation_data.",
        UserWarning, stacklevel=4)
