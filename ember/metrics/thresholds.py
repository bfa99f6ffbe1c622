"""Keras' threshold metrics: :class:`AUC` (ROC and PR) and :class:`ThresholdPrecision` /
:class:`ThresholdRecall` (Keras' ``Precision``/``Recall`` with ``thresholds``, ``top_k``,
``class_id``).

They count true/false positives and negatives at fixed thresholds, element by element over
every output (binary and multi-label predictions in ``[0, 1]``). The counts are the state a
distributed ``fit`` adds across processes, so the result is exact across ranks.
"""

from __future__ import annotations

import numpy as np

from ember.metrics.metric import Metric

_EPSILON = 1e-7


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


def _flat_pair(metric: Metric, y_pred, y_true) -> tuple[np.ndarray, np.ndarray]:
    p = _host(y_pred).astype(np.float64)
    t = _host(y_true).astype(np.float64)
    if t.shape != p.shape:
        if t.size != p.size:
            raise ValueError(f"{metric.name}: y_true of shape {tuple(t.shape)} does not match "
                             f"y_pred of shape {tuple(p.shape)} (one 0/1 label per output)")
        t = t.reshape(p.shape)
    return p, t


def _count_at(thresholds: np.ndarray, p: np.ndarray, t: np.ndarray, w: np.ndarray | None):
    """``(tp, fp, tn, fn)`` per threshold, predicting positive where ``p > threshold``."""
    p, t = p.reshape(-1), t.reshape(-1) > 0.5
    w = np.ones_like(p) if w is None else w.reshape(-1)
    # sort once and count with cumulative sums: O(n log n) for any number of thresholds
    order = np.argsort(p, kind="stable")
    ps, pos, neg = p[order], (w * t)[order], (w * ~t)[order]
    cum_pos = np.concatenate([[0.0], np.cumsum(pos)])
    cum_neg = np.concatenate([[0.0], np.cumsum(neg)])
    below = np.searchsorted(ps, thresholds, side="right")  # how many have p <= threshold
    fn, tn = cum_pos[below], cum_neg[below]
    tp, fp = cum_pos[-1] - fn, cum_neg[-1] - tn
    return tp, fp, tn, fn


class _ThresholdCounts(Metric):
    state_names = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def reset(self) -> None:
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def _prepare(self, p: np.ndarray, t: np.ndarray):
        return p, t

    def _count(self, y_pred, y_true, w=None) -> None:
        p, t = _flat_pair(self, y_pred, y_true)
        if w is not None:
            w = np.broadcast_to(_host(w).astype(np.float64).reshape(
                (-1,) + (1,) * (p.ndim - 1)), p.shape)
        p, t, w = self._prepare(p, t, w)
        tp, fp, tn, fn = _count_at(self.thresholds, p, t, w)
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.true_negatives = self.true_negatives + tn
        self.false_negatives = self.false_negatives + fn

    def _update(self, y_pred, y_true) -> None:
        self._count(y_pred, y_true)

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        self._count(y_pred, y_true, sample_weight)


class AUC(_ThresholdCounts):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds`` fixed
    thresholds (Keras' ``AUC``).

    The thresholds are ``-eps, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1+eps`` (or ``thresholds``
    given, with ``-eps`` and ``1+eps`` added); an output counts as positive above a threshold.
    ``summation_method="interpolation"`` uses the trapezoidal rule for ROC and Davis &
    Goadrich's interpolation for PR; ``"minoring"``/``"majoring"`` take the lower/upper
    Riemann sum. Predictions must be probabilities, or logits with ``from_logits=True``. All
    outputs are pooled (Keras' ``multi_label=False``).

    Args:
        num_thresholds: how many thresholds (more: closer to the exact area). Default 200.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        thresholds: explicit thresholds in ``[0, 1]`` instead of the evenly spaced ones.
        from_logits: apply a sigmoid to the predictions first.
        name: log key, ``"auc"`` by default.
    """

    default_name = "auc"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 thresholds=None, from_logits: bool = False):
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(v) for v in np.atleast_1d(thresholds))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.num_thresholds = len(self.thresholds)
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.from_logits = from_logits
        super().__init__(name)

    def _prepare(self, p, t, w):
        if self.from_logits:
            p = 0.5 * (1.0 + np.tanh(0.5 * p))  # the sigmoid, without overflow
        return p, t, w

    def result(self) -> float:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr(tp, fp, fn)
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            if self.curve == "ROC":
                x = np.where(fp + tn > 0, fp / (fp + tn), 0.0)
                y = recall
            else:
                x = recall
                y = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    @staticmethod
    def _interpolated_pr(tp, fp, fn) -> float:
        # Davis & Goadrich (2006): precision varies as a ratio of linear functions of TP
        # between two thresholds; integrate that exactly over recall
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(dp > 0, dtp / np.maximum(dp, 0), 0.0)
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), p[:-1] / np.maximum(p[1:], 1e-300), 1.0)
            increment = slope * (dtp + intercept * np.log(ratio))
            positives = tp[1:] + fn[1:]
            area = np.where(positives > 0, increment / np.maximum(positives, 1e-300), 0.0)
        return float(np.sum(area))


class ThresholdPrecision(_ThresholdCounts):
    """Keras' ``Precision``: ``TP / (TP + FP)`` with outputs above ``thresholds`` counted as
    positive, element by element (binary and multi-label outputs).

    Args:
        thresholds: one threshold (a float result) or several (a list of results); default 0.5,
            or none with ``top_k`` (then the top ``k`` outputs of each row count as positive).
        top_k: only each row's ``k`` highest outputs may count as positive.
        class_id: count only this output column.
        name: log key, ``"precision"`` by default.
    """

    default_name = "precision"

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None):
        if thresholds is None:
            thresholds = -np.inf if top_k is not None else 0.5
        self._single = np.ndim(thresholds) == 0
        self.thresholds = np.atleast_1d(np.asarray(thresholds, np.float64))
        if np.any((self.thresholds < 0) | (self.thresholds > 1)) and top_k is None:
            raise ValueError(f"{type(self).__name__}: thresholds must be in [0, 1], got "
                             f"{self.thresholds.tolist()}")
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name)

    def _prepare(self, p, t, w):
        if self.top_k is not None:
            rows = p.reshape(-1, p.shape[-1]) if p.ndim > 1 else p.reshape(1, -1)
            kth = -np.sort(-rows, axis=1)[:, min(self.top_k, rows.shape[1]) - 1:][:, :1]
            p = np.where(rows >= kth, rows, -np.inf).reshape(p.shape)
        if self.class_id is not None:
            p, t = p[..., self.class_id], t[..., self.class_id]
            w = w[..., self.class_id] if w is not None else None
        return p, t, w

    def _ratio(self, num, other):
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(num + other > 0, num / (num + other), 0.0)
        return float(values[0]) if self._single else values.tolist()

    def result(self):
        return self._ratio(self.true_positives, self.false_positives)


class ThresholdRecall(ThresholdPrecision):
    """Keras' ``Recall``: ``TP / (TP + FN)`` at ``thresholds`` (see
    :class:`ThresholdPrecision` for the arguments)."""

    default_name = "recall"

    def result(self):
        return self._ratio(self.true_positives, self.false_negatives)
