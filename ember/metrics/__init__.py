"""Stateful metrics for ``Model.compile(metrics=...)`` and for use on their own, with Keras'
names and torchmetrics' methods.

Every metric has ``update_state(y_true, y_pred, sample_weight=None)`` (Keras' order: targets
first), ``update(y_pred, y_true)`` (torchmetrics' order: predictions first), ``result()``,
``reset()`` / ``reset_state()``, and the state protocol (``state_names``, ``state()``,
``merge()``) a distributed ``fit`` uses. Metrics compute on the raw NumPy/CuPy arrays, never
recording a graph.
"""

from ember.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from ember.metrics.accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                    SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                    TopKAccuracy, TopKCategoricalAccuracy)
from ember.metrics.classification import ConfusionMatrix, F1Score, Precision, Recall
from ember.metrics.thresholds import AUC, ThresholdPrecision, ThresholdRecall
from ember.metrics.regression import (LogCoshError, MeanAbsoluteError,
                                      MeanAbsolutePercentageError, MeanSquaredError,
                                      MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError)
from ember.metrics.probabilistic import (BinaryCrossentropy, CategoricalCrossentropy,
                                         CategoricalHinge, CosineSimilarity, Hinge, KLDivergence,
                                         LossMean, Poisson, SparseCategoricalCrossentropy,
                                         SquaredHinge)
from ember.metrics.registry import NAMES, get

MAE = MeanAbsoluteError
MSE = MeanSquaredError


__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "TopKAccuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "ConfusionMatrix", "Precision", "Recall", "F1Score", "AUC",
    "ThresholdPrecision", "ThresholdRecall", "MeanAbsoluteError", "MeanSquaredError",
    "RootMeanSquaredError", "R2Score", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "LogCoshError", "KLDivergence", "Poisson", "CosineSimilarity",
    "Hinge", "SquaredHinge", "CategoricalHinge", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "LossMean", "MAE", "MSE", "NAMES", "get",
]
