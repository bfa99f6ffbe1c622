"""The metric names ``Model.compile(metrics=[...])`` accepts, and :func:`get`, which builds a
metric from a name, a class, a function or an instance."""

from __future__ import annotations

import inspect
from typing import Any

from ember.metrics.accuracy import Accuracy, TopKAccuracy
from ember.metrics.classification import F1Score, Precision, Recall
from ember.metrics.metric import MeanMetricWrapper, Metric
from ember.metrics.regression import MeanAbsoluteError, MeanSquaredError

NAMES = ["accuracy", "acc", "top_k_accuracy", "top5", "precision", "recall", "f1", "mae",
         "mse", "mean_absolute_error", "mean_squared_error"]


def get(identifier: Any, loss_kind: str | None = None) -> Metric:
    """A :class:`~ember.metrics.Metric` from an instance, a class, a function or a name.

    With ``loss_kind="binary_logits"`` the ``"accuracy"``, ``"precision"``, ``"recall"`` and
    ``"f1"`` names threshold outputs at 0 (the logit of probability 0.5) instead of 0.5.
    """
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        threshold = 0.0 if loss_kind == "binary_logits" else 0.5
        if key in ("accuracy", "acc"):
            return Accuracy(threshold=threshold, name=identifier)
        if key in ("top_k_accuracy", "top5"):
            return TopKAccuracy(k=5, name=identifier)
        if key in ("precision", "recall", "f1"):
            cls = {"precision": Precision, "recall": Recall, "f1": F1Score}[key]
            return cls(threshold=threshold, name=identifier)
        if key in ("mae", "mean_absolute_error"):
            return MeanAbsoluteError(name=identifier)
        if key in ("mse", "mean_squared_error"):
            return MeanSquaredError(name=identifier)
        raise ValueError(f"unknown metric {identifier!r}; valid names: {', '.join(sorted(NAMES))}")
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metrics must be Metric objects, functions metric(y_pred, y_true) or names from "
        f"{NAMES}; got {type(identifier).__name__}"
    )
