"""Stateful metrics for ``Model.compile(metrics=...)`` and for use on their own.

Every metric has ``update(y_pred, y_true)`` (alias ``update_state``), ``result()`` and ``reset()``
(alias ``reset_state``). Metrics compute on the raw NumPy/CuPy arrays, never recording a graph.
"""

from ember.metrics.metric import Mean, MeanMetricWrapper, Metric
from ember.metrics.accuracy import Accuracy, TopKAccuracy
from ember.metrics.classification import ConfusionMatrix, F1Score, Precision, Recall
from ember.metrics.regression import MeanAbsoluteError, MeanSquaredError
from ember.metrics.registry import get

MAE = MeanAbsoluteError
MSE = MeanSquaredError


__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "TopKAccuracy", "ConfusionMatrix",
    "Precision", "Recall", "F1Score", "MeanAbsoluteError", "MeanSquaredError", "MAE", "MSE", "get",
]
