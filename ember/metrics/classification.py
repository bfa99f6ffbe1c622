"""Per-class metrics built on one confusion matrix: :class:`ConfusionMatrix`, :class:`Precision`,
:class:`Recall` and :class:`F1Score` (macro averages)."""

from __future__ import annotations

import numpy as np

from ember.backend import get_array_module
from ember.metrics.accuracy import predicted_labels
from ember.metrics.metric import Metric, labels_from


class ConfusionMatrix(Metric):
    """Counts of (true class, predicted class) pairs.

    ``result()`` is a ``(C, C)`` int64 NumPy array: row ``i`` is true class ``i``, column ``j``
    predicted class ``j`` (scikit-learn's layout). Predictions follow :class:`Accuracy`: arg-max
    over ``(N, C)`` scores, or ``> threshold`` for a single column (then ``C = 2``).

    Args:
        num_classes: ``C``. When omitted it is the prediction width (2 for one column) and grows if
            a larger label shows up; when given, labels outside ``0 .. C-1`` are an error.
        threshold: decision threshold for single-column outputs (0.5 for probabilities).
    """

    default_name = "confusion_matrix"
    state_names = ("matrix",)

    def __init__(self, num_classes: int | None = None, threshold: float = 0.5,
                 name: str | None = None):
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes}")
        self.num_classes = num_classes
        self.threshold = threshold
        super().__init__(name)

    def reset(self) -> None:
        c = self.num_classes or 0
        self.matrix = np.zeros((c, c), dtype=np.int64)

    def _grow(self, c: int) -> None:
        if c > self.matrix.shape[0]:
            grown = np.zeros((c, c), dtype=np.int64)
            k = self.matrix.shape[0]
            grown[:k, :k] = self.matrix
            self.matrix = grown

    def _update(self, y_pred, y_true) -> None:
        xp = get_array_module(y_pred)
        width = y_pred.shape[-1] if y_pred.ndim >= 2 else 1
        pred = predicted_labels(y_pred, self.threshold)
        true = labels_from(y_true, width if width > 1 else None)
        if true.shape[0] != pred.shape[0]:
            raise ValueError(
                f"{self.name}: {pred.shape[0]} predictions but {true.shape[0]} labels"
            )
        if pred.shape[0] == 0:
            return
        low = int(min(true.min(), pred.min()))
        high = int(max(true.max(), pred.max())) + 1
        if low < 0:
            raise ValueError(f"{self.name}: class labels must be >= 0, got {low}")
        if self.num_classes is not None:
            c = self.num_classes
            if high > c:
                raise ValueError(
                    f"{self.name}: label {high - 1} is out of range for num_classes={c} "
                    f"(valid labels are 0..{c - 1})"
                )
        else:
            c = max(self.matrix.shape[0], high, width if width > 1 else 2)
            self._grow(c)
        counts = xp.bincount(true * c + pred, minlength=c * c).reshape(c, c)
        self.matrix += np.asarray(counts.get() if hasattr(counts, "get") else counts, dtype=np.int64)

    def result(self) -> np.ndarray:
        return self.matrix.copy()


def per_class_scores(matrix: np.ndarray):
    """Precision, recall and F1 per class from a confusion matrix, plus which classes count.

    A class counts for the macro average when it occurs among the true labels or the
    predictions (scikit-learn's rule). Undefined ratios (nothing predicted or nothing true in a
    class) are 0, as scikit-learn's ``zero_division=0``.
    """
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
    present = (predicted > 0) | (actual > 0)
    return precision, recall, f1, present


class _MacroMetric(ConfusionMatrix):
    """A score averaged over classes (``average="macro"``) or returned per class (``None``)."""

    _index = 0

    def __init__(self, num_classes: int | None = None, average: str | None = "macro",
                 threshold: float = 0.5, name: str | None = None, *, thresholds=None,
                 top_k: int | None = None, class_id: int | None = None):
        if average not in ("macro", None):
            raise ValueError(f"average must be 'macro' or None, got {average!r}")
        self.average = average
        super().__init__(num_classes, threshold, name)

    def result(self):
        scores = per_class_scores(self.matrix)
        values, present = scores[self._index], scores[3]
        if self.average is None:
            return values
        return float(values[present].mean()) if present.any() else 0.0


def _keras_form(cls, kwargs):
    """Keras' ``Precision``/``Recall`` when ``thresholds``, ``top_k`` or ``class_id`` is given."""
    from ember.metrics.thresholds import ThresholdPrecision, ThresholdRecall

    keras = {k: kwargs.get(k) for k in ("thresholds", "top_k", "class_id", "name")}
    if all(keras[k] is None for k in ("thresholds", "top_k", "class_id")):
        return None
    other = ThresholdPrecision if cls is Precision else ThresholdRecall
    return other(**keras)


class Precision(_MacroMetric):
    """Macro-averaged precision: per class ``TP / (TP + FP)``, then the mean over classes.

    With Keras' arguments ``thresholds=``, ``top_k=`` or ``class_id=`` it is Keras'
    ``Precision`` instead (:class:`~ember.metrics.thresholds.ThresholdPrecision`): outputs
    above the threshold count as positive, element by element.

    Classes that never occur (neither true nor predicted) are left out of the mean; a class never
    predicted scores 0. ``average=None`` returns the per-class array. For binary (one-column)
    outputs both classes are averaged. See :class:`ConfusionMatrix` for the other arguments.
    """

    default_name = "precision"
    _index = 0

    def __new__(cls, *args, **kwargs):
        keras = _keras_form(cls, kwargs) if cls in (Precision, Recall) else None
        return keras if keras is not None else super().__new__(cls)


class Recall(_MacroMetric):
    """Macro-averaged recall: per class ``TP / (TP + FN)``, then the mean over classes; with
    ``thresholds=``, ``top_k=`` or ``class_id=`` Keras' ``Recall``
    (:class:`~ember.metrics.thresholds.ThresholdRecall`)."""

    default_name = "recall"
    _index = 1

    def __new__(cls, *args, **kwargs):
        keras = _keras_form(cls, kwargs) if cls is Recall else None
        return keras if keras is not None else super().__new__(cls)


class F1Score(_MacroMetric):
    """Macro-averaged F1: per class the harmonic mean of precision and recall, then the mean."""

    default_name = "f1"
    _index = 2
