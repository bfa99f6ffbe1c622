"""Regression metrics: :class:`MeanAbsoluteError` and :class:`MeanSquaredError`."""

from __future__ import annotations

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
