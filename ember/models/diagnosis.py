"""Reading learning curves: is a model under-fitting, over-fitting, or fitting well?

:func:`diagnose` looks at the per-epoch training and validation losses of a
:class:`~ember.models.history.History` (and the training accuracy when there is one) and applies
the explicit rules below. The thresholds are module constants, so they are easy to read, quote
and change. They are designed for losses of order one (cross-entropy, MSE on standardised
targets); very differently scaled losses may need other values.

The end of the run is judged over a window of its last epochs, ``w = max(2, WINDOW * n)``
(10% of the ``n`` epochs), so that a single noisy epoch decides nothing.

Over-fitting, if either holds:

* **validation loss turned up**: its minimum lies before the final window, and over the window
  it averages more than ``RISE_TOLERANCE`` (10%) and more than ``RISE_ABSOLUTE`` (0.02) above
  that minimum, while the training loss kept falling after the minimum (its window average is at
  least ``TRAIN_STILL_IMPROVING``, 2%, below its value at the best epoch);
* **large gap**: at the last epoch validation loss exceeds training loss by more than
  ``GAP_ABSOLUTE`` (0.1) and by more than ``GAP_RELATIVE`` (50%) of the validation loss.

Under-fitting (when not over-fitting), if any holds:

* **loss barely moved**: the final training loss is above ``HIGH_LOSS_FRACTION`` (70%) of the
  first epoch's;
* **still falling steeply**: over the final window the training loss fell per epoch at more than
  ``STEEP_SLOPE_RATIO`` (half) of its average rate over the whole run, and validation loss (if
  any) was still falling too;
* **low training accuracy**: a logged training accuracy below ``LOW_ACCURACY`` (0.6).

Otherwise the verdict is a good fit; when validation loss is lowest in the very last epoch, the
report adds that the model had not finished improving and suggests a few more epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

WINDOW = 0.10
RISE_TOLERANCE = 0.10
RISE_ABSOLUTE = 0.02
TRAIN_STILL_IMPROVING = 0.02
GAP_ABSOLUTE = 0.1
GAP_RELATIVE = 0.5
HIGH_LOSS_FRACTION = 0.7
STEEP_SLOPE_RATIO = 0.5
LOW_ACCURACY = 0.6

OVERFITTING_SUGGESTIONS = [
    "Get more training data, or augment the data you have.",
    "Use a smaller model (fewer layers or units) so it cannot memorise the training set.",
    "Add dropout (ember.nn.Dropout) between layers.",
    "Add weight decay (e.g. optim.AdamW(..., weight_decay=1e-2)).",
    "Use early stopping: callbacks.EarlyStopping(monitor='val_loss', patience=5, "
    "restore_best_weights=True).",
]
UNDERFITTING_SUGGESTIONS = [
    "Use a bigger model (more units or layers).",
    "Train for more epochs.",
    "Try a higher learning rate (or an adaptive optimizer such as Adam).",
    "Use less regularisation (lower dropout or weight decay).",
    "Check the inputs are scaled (standardised features) and the labels are right.",
]
GOOD_FIT_SUGGESTIONS = [
    "Keep the weights of the best epoch (EarlyStopping(restore_best_weights=True) or "
    "ModelCheckpoint(save_best_only=True)).",
    "To go further, try a somewhat larger model with regularisation, or more data.",
]


class Gap(NamedTuple):
    """Validation loss minus training loss, at the last epoch and at the best epoch."""

    end: float
    best: float


@dataclass
class Diagnosis:
    """The outcome of :func:`diagnose`; ``str(d)`` is a readable report.

    Attributes:
        verdict: ``"underfitting"``, ``"good fit"`` or ``"overfitting"``.
        best_epoch: the epoch (as numbered in ``History.epoch``, 0-based) with the lowest
            validation loss (training loss when there is no validation).
        gap: :class:`Gap` ``(end, best)`` of validation minus training loss; ``None`` without
            validation data.
        rising_from: the epoch from which validation loss rose for good, or ``None``.
        suggestions: what to try next, in plain words.
        reasons: the rules that decided the verdict, with the numbers.
    """

    verdict: str
    best_epoch: int
    gap: Gap | None
    rising_from: int | None
    suggestions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    epochs: int = 0

    def __str__(self) -> str:
        lines = [f"Diagnosis: {self.verdict.upper()}"]
        lines.append(f"  epochs trained: {self.epochs}; best epoch: {self.best_epoch + 1} "
                     f"(1-based, as in the progress bar)")
        if self.gap is not None:
            lines.append(f"  validation - training loss: {self.gap.end:+.4f} at the end, "
                         f"{self.gap.best:+.4f} at the best epoch")
        if self.rising_from is not None:
            lines.append(f"  validation loss rising from epoch {self.rising_from + 1}")
        if self.reasons:
            lines.append("  why:")
            lines.extend(f"    - {r}" for r in self.reasons)
        if self.suggestions:
            lines.append("  suggestions:")
            lines.extend(f"    - {s}" for s in self.suggestions)
        return "\n".join(lines)


def _clean(values) -> list[float]:
    return [float(v) for v in values]


def _argmin(values: list[float]) -> int:
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    return min(finite)[1] if finite else len(values) - 1


def diagnose(history: dict, epochs: list[int] | None = None,
             val_epochs: list[int] | None = None) -> Diagnosis:
    """Classify learning curves as under-fitting, a good fit or over-fitting (rules: module doc).

    Args:
        history: a ``History.history``-style dict with at least ``"loss"``; ``"val_loss"`` and
            ``"accuracy"``/``"acc"`` are used when present.
        epochs: the epoch numbers of the entries (``History.epoch``); ``0..n-1`` by default.
        val_epochs: the epochs the ``"val_loss"`` entries belong to, when validation ran on
            some epochs only (``fit(validation_freq=...)``). The validation rules then compare
            the validation curve with the training loss of those same epochs (the window is
            counted in validated epochs); the training-only rules use every epoch.
    """
    if not history.get("loss"):
        raise ValueError("diagnose() needs at least one epoch of 'loss' in the history; train first")
    train = _clean(history["loss"])
    n = len(train)
    epochs = list(epochs) if epochs is not None and len(epochs) == n else list(range(n))
    val = _clean(history["val_loss"]) if history.get("val_loss") else None
    # the validated epochs as positions in the training curve (all of them without gaps)
    at = list(range(n))
    some = ""
    if val is not None and len(val) != n:
        position = {e: i for i, e in enumerate(epochs)}
        if val_epochs is not None and len(val_epochs) == len(val) and all(
                e in position for e in val_epochs):
            at = [position[e] for e in val_epochs]
            some = "validated "
        else:
            val = None
    reasons: list[str] = []
    window = max(2, int(round(WINDOW * n))) if n >= 3 else 1

    best = _argmin(val if val is not None else train)
    best_epoch = epochs[at[best]] if val is not None else epochs[best]
    gap = rising_from = None
    overfit = False
    val_window = window
    if val is not None:
        nv = len(val)
        vtrain = [train[i] for i in at]  # training loss at the validated epochs
        val_window = max(2, int(round(WINDOW * nv))) if nv >= 3 else 1
        gap = Gap(end=val[-1] - vtrain[-1], best=val[best] - vtrain[best])
        val_min = val[best]
        tail_val = sum(val[-val_window:]) / val_window
        tail_train = sum(vtrain[-val_window:]) / val_window
        rose = (best < nv - val_window and tail_val > val_min * (1 + RISE_TOLERANCE)
                and tail_val > val_min + RISE_ABSOLUTE)
        train_kept_falling = tail_train < vtrain[best] * (1 - TRAIN_STILL_IMPROVING)
        if rose:
            rising_from = epochs[at[best + 1]]
        if rose and train_kept_falling:
            overfit = True
            reasons.append(
                f"validation loss rose from its minimum {val_min:.4f} (epoch {best_epoch + 1}) "
                f"to {tail_val:.4f} on average over the last {val_window} {some}epochs "
                f"(+{(tail_val / val_min - 1) * 100 if val_min > 0 else float('inf'):.0f}%, "
                f"tolerance {RISE_TOLERANCE:.0%}) while training loss kept falling "
                f"({vtrain[best]:.4f} -> {tail_train:.4f})"
            )
        if (gap.end > GAP_ABSOLUTE and val[-1] > 0 and gap.end / val[-1] > GAP_RELATIVE):
            overfit = True
            reasons.append(
                f"validation loss {val[-1]:.4f} is far above training loss {vtrain[-1]:.4f} at "
                f"the end (gap {gap.end:.4f} > {GAP_ABSOLUTE} and {gap.end / val[-1]:.0%} of the "
                f"validation loss > {GAP_RELATIVE:.0%})"
            )
    if overfit:
        return Diagnosis("overfitting", best_epoch, gap, rising_from,
                         list(OVERFITTING_SUGGESTIONS), reasons, n)

    underfit = False
    if n >= 2:
        if train[0] > 0 and train[-1] > HIGH_LOSS_FRACTION * train[0]:
            underfit = True
            reasons.append(
                f"training loss fell only from {train[0]:.4f} to {train[-1]:.4f} "
                f"(still above {HIGH_LOSS_FRACTION:.0%} of where it started)"
            )
        overall_rate = (train[0] - train[-1]) / (n - 1)
        recent_rate = (train[-1 - window] - train[-1]) / window
        val_falling = val is None or len(val) <= val_window or val[-1] < val[-1 - val_window]
        if overall_rate > 0 and recent_rate > STEEP_SLOPE_RATIO * overall_rate and val_falling:
            underfit = True
            reasons.append(
                f"training loss is still falling steeply: {recent_rate:.4f} per epoch over the "
                f"last {window} epoch(s), {recent_rate / overall_rate:.0%} of its average rate "
                f"(threshold {STEEP_SLOPE_RATIO:.0%}); more epochs would help"
            )
    else:
        reasons.append("only one epoch: too early to judge; train for more epochs")
        underfit = True
    acc_key = "accuracy" if history.get("accuracy") else ("acc" if history.get("acc") else None)
    if acc_key is not None and len(history[acc_key]) == n:
        acc = float(history[acc_key][-1])
        if acc < LOW_ACCURACY:
            underfit = True
            reasons.append(f"training accuracy is only {acc:.2%} (below {LOW_ACCURACY:.0%})")
    if underfit:
        return Diagnosis("underfitting", best_epoch, gap, rising_from,
                         list(UNDERFITTING_SUGGESTIONS), reasons, n)

    reasons.append("training loss has levelled off and validation loss stays close to it"
                   if val is not None else
                   "training loss has levelled off (no validation data: over-fitting cannot be "
                   "seen; pass validation_split or validation_data to fit)")
    suggestions = list(GOOD_FIT_SUGGESTIONS)
    if val is not None and best == len(val) - 1 and at[best] == n - 1 and n >= 3:
        # not a verdict of its own: the curve has flattened, but the best model is the last one
        reasons.append("validation loss was still at its lowest in the last epoch: the model "
                       "had not finished improving")
        suggestions.insert(0, "Train a few more epochs (with EarlyStopping to stop at the best one).")
    return Diagnosis("good fit", best_epoch, gap, rising_from, suggestions, reasons, n)
