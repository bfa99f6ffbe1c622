"""Regression metrics: :class:`MeanAbsoluteError`, :class:`MeanSquaredError`,
:class:`RootMeanSquaredError`, :class:`MeanAbsolutePercentageError`,
:class:`MeanSquaredLogarithmicError`, :class:`LogCoshError` and :class:`R2Score` (Keras')."""

from __future__ import annotations

import numpy as np

from ember.metrics.metric import Metric


def _aligned(y_pred, y_true):
    """``y_true`` shaped like ``y_pred`` when they hold the same number of values.

    This avoids the silent (N, 1) - (N,) -> (N, N) broadcast, the classic regression bug.
    """
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(
                f"predictions of shape {tuple(y_pred.shape)} and targets of shape "
                f"{tuple(y_true.shape)} hold different numbers of values"
            )
        y_true = y_true.reshape(y_pred.shape)
    return y_pred, y_true


class _MeanError(Metric):
    state_names = ("total", "count")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def _error(self, diff):
        raise NotImplementedError

    def _update(self, y_pred, y_true) -> None:
        y_pred, y_true = _aligned(y_pred, y_true)
        diff = y_pred.astype("float64") - y_true.astype("float64")
        self.total += float(self._error(diff).sum())
        self.count += int(diff.size)

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        y_pred, y_true = _aligned(y_pred, y_true)
        err = np.asarray(_host(self._error(y_pred.astype("float64") - y_true.astype("float64"))))
        w = np.broadcast_to(_host(sample_weight).astype(np.float64).reshape(
            (-1,) + (1,) * (err.ndim - 1)), err.shape)
        self.total += float((err * w).sum())
        self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanAbsoluteError(_MeanError):
    """Mean of ``|y_pred - y_true|`` over every value seen (log key ``"mae"``)."""

    default_name = "mae"

    def _error(self, diff):
        return abs(diff)


class MeanSquaredError(_MeanError):
    """Mean of ``(y_pred - y_true) ** 2`` over every value seen (log key ``"mse"``)."""

    default_name = "mse"

    def _error(self, diff):
        return diff * diff


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


class _PerSampleMean(Metric):
    """The (weighted) mean over samples of a per-sample value ``_values(y_pred, y_true)``
    (Keras' ``MeanMetricWrapper`` of a loss-like function)."""

    state_names = ("total", "count")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def _values(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _pair(self, y_pred, y_true):
        p = _host(y_pred).astype(np.float64)
        t = _host(y_true).astype(np.float64)
        return _aligned(p, t)

    def _update(self, y_pred, y_true) -> None:
        v = self._values(*self._pair(y_pred, y_true))
        self.total += float(v.sum())
        self.count += float(v.size)

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        v = self._values(*self._pair(y_pred, y_true))
        w = np.broadcast_to(_host(sample_weight).astype(np.float64).reshape(
            (-1,) + (1,) * (v.ndim - 1)), v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def _last_mean(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=-1) if x.ndim > 1 else x


class RootMeanSquaredError(_PerSampleMean):
    """``sqrt(mean((y_pred - y_true)²))`` over every value seen (Keras' ``RootMeanSquaredError``)."""

    default_name = "root_mean_squared_error"

    def _values(self, p, t):
        return (p - t) ** 2

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsolutePercentageError(_PerSampleMean):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` (Keras')."""

    default_name = "mean_absolute_percentage_error"

    def _values(self, p, t):
        return _last_mean(100.0 * np.abs(t - p) / np.maximum(np.abs(t), 1e-7))


class MeanSquaredLogarithmicError(_PerSampleMean):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))²)`` (Keras')."""

    default_name = "mean_squared_logarithmic_error"

    def _values(self, p, t):
        d = np.log1p(np.maximum(p, 1e-7)) - np.log1p(np.maximum(t, 1e-7))
        return _last_mean(d * d)


class LogCoshError(_PerSampleMean):
    """``mean(log(cosh(y_pred - y_true)))`` (Keras'), computed without overflow."""

    default_name = "logcosh"

    def _values(self, p, t):
        x = p - t
        return _last_mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0))


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` over everything seen (Keras'
    ``R2Score``), per output column and then averaged (``"uniform_average"``) or weighted by
    each column's variance (``"variance_weighted_average"``), or per column (``None``).

    Args:
        class_aggregation: how the columns' scores combine, as above.
        num_regressors: for the adjusted R² (0: plain R²).
        name: log key, ``"r2_score"`` by default.
    """

    default_name = "r2_score"
    state_names = ("sum_true", "sum_squared_true", "sum_squared_residual", "count")

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str | None = None):
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError("R2Score: class_aggregation must be 'uniform_average', "
                             f"'variance_weighted_average' or None, got {class_aggregation!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        super().__init__(name)

    def reset(self) -> None:
        self.sum_true = np.zeros(0)
        self.sum_squared_true = np.zeros(0)
        self.sum_squared_residual = np.zeros(0)
        self.count = 0.0

    def _update(self, y_pred, y_true) -> None:
        self._update_weighted(y_pred, y_true, None)

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        p = _host(y_pred).astype(np.float64)
        t = _host(y_true).astype(np.float64)
        p, t = _aligned(p, t)
        p, t = p.reshape(len(p), -1), t.reshape(len(t), -1)
        w = np.ones((len(p), 1)) if sample_weight is None else \
            _host(sample_weight).astype(np.float64).reshape(-1, 1)
        if self.sum_true.size == 0:
            width = p.shape[1]
            self.sum_true, self.sum_squared_true = np.zeros(width), np.zeros(width)
            self.sum_squared_residual = np.zeros(width)
        self.sum_true = self.sum_true + (w * t).sum(0)
        self.sum_squared_true = self.sum_squared_true + (w * t * t).sum(0)
        self.sum_squared_residual = self.sum_squared_residual + (w * (t - p) ** 2).sum(0)
        self.count += float(w.sum())

    def result(self):
        if not self.count:
            return 0.0
        mean = self.sum_true / self.count
        total = self.sum_squared_true - self.count * mean * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(total > 0, 1.0 - self.sum_squared_residual / total, 0.0)
        if self.class_aggregation is None:
            return scores
        if self.class_aggregation == "variance_weighted_average":
            score = float(np.sum(scores * total) / np.sum(total)) if np.sum(total) else 0.0
        else:
            score = float(np.mean(scores))
        n, k = self.count, self.num_regressors
        if k and n - k - 1 > 0:
            score = 1.0 - (1.0 - score) * (n - 1) / (n - k - 1)
        return score
