"""Reading learning curves: still improving, under-fitting, over-fitting, or a good fit?

:func:`diagnose` reads the per-epoch training loss ``L`` of a :class:`~ember.models.History`,
the validation loss ``V`` and the accuracies when they were recorded, and the run's own
settings when ``fit`` recorded them (optimizer, learning rate, weight decay, dropout, early
stopping, epochs). Every threshold is a module constant, so a verdict can be quoted and checked.

The method
----------
All loss quantities are taken **relative to the loss's own scale**, so that the rules hold for
cross-entropy, MSE or any other loss, whatever its units:

1. **Window.** The end of the run is the last ``k`` epochs, ``k = clamp(round(n / 5), 3, 10)``
   for ``n`` epochs (counted in validated epochs for ``V``), so no single noisy epoch decides.
2. **Trend.** The least-squares slope of ``L`` over the window, divided by the mean of ``L``
   there: the fraction by which the training loss falls per epoch at the end. Falling faster
   than ``TREND_IMPROVING`` (0.5% a epoch) is *still improving*, unless the loss is already
   negligible (below ``NEGLIGIBLE_LOSS``, 2%, of the first epoch's: the training set is fitted).
3. **Turn.** ``b`` is the epoch of the lowest ``V``. Validation loss *turned* when ``b`` lies
   before the window and ``V``'s mean over the window exceeds ``V[b]`` by more than
   ``RISE_TOLERANCE`` (10%) of ``V[b]`` and by more than ``RISE_ABSOLUTE`` (2%) of the first
   training loss, while ``L`` kept falling after ``b``.
4. **Gap.** ``G = V - L`` at the same epoch. The gap is *wide* when ``G`` is more than
   ``GAP_RELATIVE`` (50%) of ``V`` and more than ``GAP_SCALE`` (10%) of the first training loss;
   its growth is ``G`` at the end minus ``G`` at ``b``. With accuracies, a training accuracy more
   than ``ACCURACY_GAP`` (15 points) above the validation accuracy is a wide gap too.
5. **Level.** The training loss *stayed high* when its final value is above
   ``HIGH_LOSS_FRACTION`` (50%) of the first epoch's, or the final training accuracy is below
   ``LOW_ACCURACY`` (80%).

The verdict, first rule that holds:

* fewer than ``MIN_EPOCHS`` (4) epochs: **still improving** (too early to tell; train longer);
* when early stopping restored the best weights and training stopped after ``b``, the kept model
  is the one at ``b``: it is judged there (wide gap at ``b``: over-fitting; level high at ``b``:
  under-fitting; otherwise a good fit, the early stop having done its job);
* **overfitting**: validation loss turned, or the gap is wide at the end and grew since ``b``;
* **still improving**: the training loss's trend is still improving and validation loss (if
  any) has not turned and was lowest inside the window: train longer;
* **underfitting**: the training loss has levelled off (not still improving) while it stayed
  high;
* **good fit** otherwise: the training loss levelled off low, validation close to it.

Limits, stated plainly: without validation data over-fitting cannot be seen (the report says
so); on data whose labels are noisy a model at the noise floor and a model too small for the data
both level off at a moderate loss, and the accuracy threshold separates them only roughly; a loss
that oscillates (learning rate too high) has a trend near zero and reads as levelled off.

Advice reads the run's settings (``History.settings``, filled by ``fit``) and suggests only what
the run does not use yet: dropout to a model without ``Dropout``, weight decay to an optimizer
without it, early stopping to a run without ``EarlyStopping``, and so on.
"""

from __future__ import annotations

import shutil
import textwrap

import math
from dataclasses import dataclass, field
from typing import NamedTuple

WINDOW_FRACTION = 0.2
WINDOW_MIN, WINDOW_MAX = 3, 10
MIN_EPOCHS = 4
TREND_IMPROVING = 0.005
NEGLIGIBLE_LOSS = 0.02
RISE_TOLERANCE = 0.10
RISE_ABSOLUTE = 0.02
GAP_RELATIVE = 0.5
GAP_SCALE = 0.1
ACCURACY_GAP = 0.15
HIGH_LOSS_FRACTION = 0.5
LOW_ACCURACY = 0.8

VERDICTS = ("still improving", "underfitting", "overfitting", "good fit")


class Gap(NamedTuple):
    """Validation loss minus training loss, at the last epoch and at the best epoch."""

    end: float
    best: float


@dataclass
class Diagnosis:
    """The outcome of :func:`diagnose`; ``str(d)`` is a readable report.

    Attributes:
        verdict: one of :data:`VERDICTS`: ``"still improving"``, ``"underfitting"``,
            ``"overfitting"`` or ``"good fit"``.
        best_epoch: the epoch (0-based, as ``History.epoch``) with the lowest validation loss
            (training loss when there is no validation).
        gap: :class:`Gap` ``(end, best)`` of validation minus training loss; ``None`` without
            validation data.
        rising_from: the epoch from which validation loss rose for good, or ``None``.
        trend: the training loss's relative change per epoch over the final window (negative
            while it falls).
        suggestions: what to try next, in plain words, given the run's settings.
        reasons: the rules that decided the verdict, with the numbers.
        epochs: epochs trained.
    """

    verdict: str
    best_epoch: int
    gap: Gap | None
    rising_from: int | None
    suggestions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    epochs: int = 0
    trend: float = 0.0

    def __str__(self) -> str:
        lines = [f"Diagnosis: {self.verdict.upper()}"]
        lines.append(f"  epochs trained: {self.epochs}; best epoch: {self.best_epoch + 1} "
                     f"(1-based, as in the progress bar)")
        lines.append("  training loss at the end: "
                     + (f"falling {-self.trend:.2%} per epoch" if self.trend < 0 else
                        f"rising {self.trend:.2%} per epoch" if self.trend > 0 else "flat"))
        if self.gap is not None:
            lines.append(f"  validation - training loss: {self.gap.end:+.4f} at the end, "
                         f"{self.gap.best:+.4f} at the best epoch")
        if self.rising_from is not None:
            lines.append(f"  validation loss rising from epoch {self.rising_from + 1}")
        # bullets wrap at the terminal's width (80 columns when not a terminal), indented under
        # their dash, so a learner's 80-column screen never splits a word
        width = max(40, min(shutil.get_terminal_size((80, 24)).columns, 100))
        for title, items in (("why", self.reasons), ("suggestions", self.suggestions)):
            if items:
                lines.append(f"  {title}:")
                lines.extend(textwrap.fill(item, width - 1, initial_indent="    - ",
                                           subsequent_indent="      ") for item in items)
        return "\n".join(lines)


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _argmin(values: list[float]) -> int:
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    return min(finite)[1] if finite else len(values) - 1


def window_size(n: int) -> int:
    """The number of final epochs the end of an ``n``-epoch run is judged over."""
    return max(WINDOW_MIN, min(WINDOW_MAX, int(round(WINDOW_FRACTION * n))))


def relative_trend(values: list[float], k: int) -> float:
    """Least-squares slope of the last ``k`` values divided by their mean: the relative change
    per epoch (``-0.01``: falling 1% an epoch). ``0.0`` when it cannot be measured."""
    tail = [v for v in values[-k:] if math.isfinite(v)]
    if len(tail) < 2:
        return 0.0
    m = len(tail)
    xs_mean = (m - 1) / 2
    ys_mean = sum(tail) / m
    num = sum((i - xs_mean) * (v - ys_mean) for i, v in enumerate(tail))
    den = sum((i - xs_mean) ** 2 for i in range(m))
    if ys_mean <= 0 or den == 0:
        return 0.0
    return num / den / ys_mean


def _accuracy(history: dict, prefix: str, n: int) -> list[float] | None:
    for key in ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                "binary_accuracy"):
        values = history.get(prefix + key)
        if values and (prefix or len(values) == n):
            return _floats(values)
    return None


def diagnose(history: dict, epochs: list[int] | None = None,
             val_epochs: list[int] | None = None, settings: dict | None = None) -> Diagnosis:
    """Classify learning curves by the method in the module docstring.

    Args:
        history: a ``History.history``-style dict with at least ``"loss"``; ``"val_loss"``,
            ``"accuracy"`` and ``"val_accuracy"`` are used when present.
        epochs: the epoch numbers of the entries (``History.epoch``); ``0..n-1`` by default.
        val_epochs: the epochs the ``"val_loss"`` entries belong to when validation ran on some
            epochs only (``fit(validation_freq=...)``).
        settings: the run's settings (``History.settings``: ``optimizer``, ``lr``,
            ``weight_decay``, ``dropout``, ``early_stopping``, ``epochs``...), used to judge a
            run whose best weights early stopping restored, and to give advice that fits it.
    """
    if not history.get("loss"):
        raise ValueError("diagnose() needs at least one epoch of 'loss' in the history; train first")
    settings = dict(settings or {})
    train = _floats(history["loss"])
    n = len(train)
    epochs = list(epochs) if epochs is not None and len(epochs) == n else list(range(n))
    scale = train[0] if math.isfinite(train[0]) and train[0] > 0 else max(
        (abs(v) for v in train if math.isfinite(v)), default=1.0) or 1.0
    val = _floats(history["val_loss"]) if history.get("val_loss") else None
    at = list(range(n))  # the validated epochs as positions in the training curve
    if val is not None and len(val) != n:
        position = {e: i for i, e in enumerate(epochs)}
        if val_epochs is not None and len(val_epochs) == len(val) and all(
                e in position for e in val_epochs):
            at = [position[e] for e in val_epochs]
        else:
            val = None
    acc = _accuracy(history, "", n)
    val_acc = _accuracy(history, "val_", n) if val is not None else None
    if val_acc is not None and len(val_acc) != len(at):
        val_acc = None

    k = window_size(n)
    trend = relative_trend(train, k)
    negligible = train[-1] < NEGLIGIBLE_LOSS * scale
    improving = -trend > TREND_IMPROVING and not negligible
    reasons: list[str] = []

    best = _argmin(val if val is not None else train)
    best_pos = at[best] if val is not None else best
    best_epoch = epochs[best_pos]
    gap = rising_from = None
    turned = wide_end = False
    val_lowest_late = True
    if val is not None:
        nv = len(val)
        kv = window_size(nv)
        vtrain = [train[i] for i in at]
        gap = Gap(end=val[-1] - vtrain[-1], best=val[best] - vtrain[best])
        tail_val = sum(val[-kv:]) / min(kv, nv)
        tail_train = sum(vtrain[-kv:]) / min(kv, nv)
        val_lowest_late = best >= nv - kv
        turned = (not val_lowest_late and tail_val > val[best] * (1 + RISE_TOLERANCE)
                  and tail_val - val[best] > RISE_ABSOLUTE * scale and tail_train < vtrain[best])
        if turned:
            rising_from = epochs[at[best + 1]]
        wide_end = _wide(gap.end, val[-1], scale) and gap.end > gap.best
    early = settings.get("early_stopping") or {}
    restored = (val is not None and bool(early.get("restore_best_weights"))
                and early.get("monitor", "val_loss") == "val_loss" and best_pos < n - 1
                and n < int(settings.get("epochs", n + 1)))

    def verdict(kind: str) -> Diagnosis:
        return Diagnosis(kind, best_epoch, gap, rising_from,
                         advice(kind, settings, n, trend), reasons, n, trend)

    if n < MIN_EPOCHS:
        reasons.append(f"only {n} epoch(s): too early to judge (at least {MIN_EPOCHS}); "
                       "train longer")
        return verdict("still improving")

    if restored:
        # the model fit returned is the one of the best epoch: judge it there
        reasons.append(f"early stopping restored the weights of epoch {best_epoch + 1}, where "
                       f"validation loss was lowest ({val[best]:.4f}); the model is judged there")
        acc_gap = (acc[best_pos] - val_acc[best]) if acc and val_acc else None
        if _wide(gap.best, val[best], scale) or (acc_gap is not None and acc_gap > ACCURACY_GAP):
            reasons.append(_gap_text(gap.best, val[best], "at the best epoch", acc_gap))
            return verdict("overfitting")
        low = _level_high(train[best_pos], scale, acc[best_pos] if acc else None)
        if low:
            reasons.append(low)
            return verdict("underfitting")
        reasons.append(f"at that epoch validation loss stays close to training loss (gap "
                       f"{gap.best:+.4f}) and training loss is low ({train[best_pos]:.4f}, "
                       f"{train[best_pos] / scale:.0%} of the first epoch's)")
        return verdict("good fit")

    acc_gap = (acc[-1] - val_acc[-1]) if acc and val_acc else None
    if turned:
        reasons.append(
            f"validation loss turned: lowest {val[best]:.4f} at epoch {best_epoch + 1}, then "
            f"{sum(val[-window_size(len(val)):]) / min(window_size(len(val)), len(val)):.4f} on "
            f"average over the last {window_size(len(val))} validated epochs (more than "
            f"{RISE_TOLERANCE:.0%} higher) while training loss kept falling")
    if wide_end or (acc_gap is not None and acc_gap > ACCURACY_GAP):
        reasons.append(_gap_text(gap.end, val[-1], "at the end", acc_gap)
                       + f"; the gap grew from {gap.best:+.4f} at the best epoch")
    if turned or wide_end or (acc_gap is not None and acc_gap > ACCURACY_GAP):
        return verdict("overfitting")

    if improving and val_lowest_late:
        reasons.append(
            f"training loss is still falling {-trend:.1%} per epoch over the last {k} epochs "
            f"(threshold {TREND_IMPROVING:.1%})"
            + (", and validation loss was lowest in that window" if val is not None else "")
            + ": the run stopped before the model finished learning")
        return verdict("still improving")

    level = _level_high(train[-1], scale, acc[-1] if acc else None)
    if level:
        reasons.append(f"training loss has levelled off ({trend:+.2%} per epoch at the end) "
                       f"but {level}")
        return verdict("underfitting")

    if negligible:
        reasons.append(f"training loss is negligible ({train[-1]:.2e}, under "
                       f"{NEGLIGIBLE_LOSS:.0%} of the first epoch's): the training set is fitted")
    else:
        reasons.append(f"training loss has levelled off low ({train[-1]:.4f}, "
                       f"{train[-1] / scale:.0%} of the first epoch's; {trend:+.2%} per epoch "
                       "at the end)")
    if val is None:
        reasons.append("no validation data: over-fitting cannot be seen; pass validation_split "
                       "or validation_data to fit")
    else:
        reasons.append(f"validation loss stays close to it (gap {gap.end:+.4f})"
                       + (" and has stopped improving" if improving else ""))
    return verdict("good fit")


def _wide(gap: float, val: float, scale: float) -> bool:
    return val > 0 and gap > GAP_RELATIVE * val and gap > GAP_SCALE * scale


def _gap_text(gap: float, val: float, where: str, acc_gap: float | None) -> str:
    text = (f"validation loss is {gap:+.4f} above training loss {where} "
            f"({gap / val:.0%} of the validation loss; wide above {GAP_RELATIVE:.0%})"
            if val > 0 else f"validation - training loss {gap:+.4f} {where}")
    if acc_gap is not None:
        text += f"; training accuracy {acc_gap * 100:+.1f} points above validation accuracy"
    return text


def _level_high(loss: float, scale: float, accuracy: float | None) -> str:
    """Why the training loss counts as high, or ``""``."""
    if loss > HIGH_LOSS_FRACTION * scale:
        return (f"it stayed high: {loss:.4f} is {loss / scale:.0%} of the first epoch's loss "
                f"(high above {HIGH_LOSS_FRACTION:.0%})")
    if accuracy is not None and accuracy < LOW_ACCURACY:
        return f"training accuracy is only {accuracy:.1%} (low below {LOW_ACCURACY:.0%})"
    return ""


# ---------------------------------------------------------------------------------- advice

def advice(verdict: str, settings: dict, epochs_run: int, trend: float) -> list[str]:
    """What to try next for ``verdict``, leaving out what the run already does.

    ``settings`` is ``History.settings`` (may be empty: then every usual remedy is listed)."""
    known = bool(settings)
    opt = str(settings.get("optimizer", "")).lower()
    lr = settings.get("lr")
    wd = float(settings.get("weight_decay") or 0.0)
    dropout = [float(p) for p in settings.get("dropout") or []]
    early = settings.get("early_stopping")
    planned = settings.get("epochs", epochs_run)
    out: list[str] = []
    stop_hint = ("callbacks.EarlyStopping(monitor='val_loss', patience=10, "
                 "restore_best_weights=True)")
    if verdict == "still improving":
        more = max(epochs_run, 10)
        out.append(f"Train longer: {epochs_run} epoch(s) ran and the training loss was still "
                   f"falling {max(-trend, 0.0):.1%} per epoch; try about {epochs_run + more}.")
        if not early:
            out.append(f"With {stop_hint} you can set a generous epoch count and keep the best "
                       "epoch.")
        if opt in ("sgd", "") and known:
            out.append("Adam (optimizer='adam') usually gets there in fewer epochs than plain SGD.")
        elif lr is not None and opt:
            out.append(f"A larger learning rate than {lr:g} may also speed it up.")
    elif verdict == "overfitting":
        out.append("Get more training data, or augment the data you have.")
        out.append("Use a smaller model (fewer layers or units) so it cannot memorise the training "
                   "set.")
        if not dropout or not known:
            out.append("Add dropout (ember.nn.Dropout(0.2-0.5)) between layers.")
        else:
            out.append(f"Raise the dropout rate (now {', '.join(f'{p:g}' for p in dropout)}).")
        if wd == 0.0 or not known:
            out.append("Add weight decay (e.g. optim.AdamW(..., weight_decay=1e-2)).")
        else:
            out.append(f"Raise the weight decay (now {wd:g}).")
        if not early:
            out.append(f"Use early stopping: {stop_hint}.")
        elif not early.get("restore_best_weights"):
            out.append("Pass restore_best_weights=True to EarlyStopping so the best epoch is kept.")
    elif verdict == "underfitting":
        out.append("Use a bigger model (more units or layers).")
        if dropout:
            out.append(f"Use less dropout (now {', '.join(f'{p:g}' for p in dropout)}).")
        if wd > 0:
            out.append(f"Use less weight decay (now {wd:g}).")
        if opt == "sgd":
            out.append("Try an adaptive optimizer (optimizer='adam') or momentum.")
        elif lr is not None:
            out.append(f"Try a higher learning rate than {lr:g}.")
        elif not known:
            out.append("Try a higher learning rate (or an adaptive optimizer such as Adam).")
        out.append("Check the inputs are scaled (standardised features) and the labels are right.")
    else:
        if not early:
            out.append("Keep the weights of the best epoch: "
                       f"{stop_hint} or ModelCheckpoint(save_best_only=True).")
        if planned and epochs_run < planned and early:
            out.append("Early stopping ended the run at the right time; nothing to fix.")
        out.append("To go further, try a somewhat larger model with regularisation, or more data.")
    return out
