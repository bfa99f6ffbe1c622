"""The metric names ``Model.compile(metrics=[...])`` accepts, and :func:`get`, which builds a
metric from a name, a class, a function or an instance."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ember.metrics import probabilistic as prob
from ember.metrics import regression as reg
from ember.metrics.accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                    SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                    TopKAccuracy, TopKCategoricalAccuracy)
from ember.metrics.classification import F1Score, Precision, Recall
from ember.metrics.metric import MeanMetricWrapper, Metric
from ember.metrics.thresholds import AUC, ThresholdPrecision, ThresholdRecall

# Keras' metric names (and ember's older ones) -> a factory of the metric, given the threshold
# for one-column outputs (0 under a loss on logits, else 0.5) and the log name.
_FACTORIES: dict[str, Callable[[float, str], Metric]] = {
    "accuracy": lambda th, n: Accuracy(threshold=th, name=n),
    "acc": lambda th, n: Accuracy(threshold=th, name=n),
    "top_k_accuracy": lambda th, n: TopKAccuracy(k=5, name=n),
    "top5": lambda th, n: TopKAccuracy(k=5, name=n),
    "precision": lambda th, n: Precision(threshold=th, name=n),
    "recall": lambda th, n: Recall(threshold=th, name=n),
    "f1": lambda th, n: F1Score(threshold=th, name=n),
    "binary_accuracy": lambda th, n: BinaryAccuracy(threshold=th, name=n),
    "categorical_accuracy": lambda th, n: CategoricalAccuracy(name=n),
    "sparse_categorical_accuracy": lambda th, n: SparseCategoricalAccuracy(name=n),
    "top_k_categorical_accuracy": lambda th, n: TopKCategoricalAccuracy(name=n),
    "sparse_top_k_categorical_accuracy": lambda th, n: SparseTopKCategoricalAccuracy(name=n),
    "auc": lambda th, n: AUC(name=n, from_logits=th == 0.0),
    "mae": lambda th, n: reg.MeanAbsoluteError(name=n),
    "mean_absolute_error": lambda th, n: reg.MeanAbsoluteError(name=n),
    "mse": lambda th, n: reg.MeanSquaredError(name=n),
    "mean_squared_error": lambda th, n: reg.MeanSquaredError(name=n),
    "rmse": lambda th, n: reg.RootMeanSquaredError(name=n),
    "root_mean_squared_error": lambda th, n: reg.RootMeanSquaredError(name=n),
    "mape": lambda th, n: reg.MeanAbsolutePercentageError(name=n),
    "mean_absolute_percentage_error": lambda th, n: reg.MeanAbsolutePercentageError(name=n),
    "msle": lambda th, n: reg.MeanSquaredLogarithmicError(name=n),
    "mean_squared_logarithmic_error": lambda th, n: reg.MeanSquaredLogarithmicError(name=n),
    "logcosh": lambda th, n: reg.LogCoshError(name=n),
    "log_cosh_error": lambda th, n: reg.LogCoshError(name=n),
    "r2_score": lambda th, n: reg.R2Score(name=n),
    "kl_divergence": lambda th, n: prob.KLDivergence(name=n),
    "kld": lambda th, n: prob.KLDivergence(name=n),
    "poisson": lambda th, n: prob.Poisson(name=n),
    "cosine_similarity": lambda th, n: prob.CosineSimilarity(name=n),
    "hinge": lambda th, n: prob.Hinge(name=n),
    "squared_hinge": lambda th, n: prob.SquaredHinge(name=n),
    "categorical_hinge": lambda th, n: prob.CategoricalHinge(name=n),
    "binary_crossentropy": lambda th, n: prob.BinaryCrossentropy(name=n, from_logits=th == 0.0),
    "categorical_crossentropy": lambda th, n: prob.CategoricalCrossentropy(name=n),
    "sparse_categorical_crossentropy": lambda th, n: prob.SparseCategoricalCrossentropy(name=n),
}

NAMES = sorted(_FACTORIES)


def get(identifier: Any, loss_kind: str | None = None) -> Metric:
    """A :class:`~ember.metrics.Metric` from an instance, a class, a function or a name.

    With ``loss_kind="binary_logits"`` the names that threshold one-column outputs
    (``"accuracy"``, ``"binary_accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``) threshold
    them at 0 (the logit of probability 0.5) instead of 0.5, and ``"auc"`` applies a sigmoid.
    Under a binary loss, ``"precision"``/``"recall"`` are Keras' (the positive class's, output
    by output); otherwise they are macro averages over the classes.
    """
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        threshold = 0.0 if loss_kind == "binary_logits" else 0.5
        if key not in _FACTORIES:
            raise ValueError(f"unknown metric {identifier!r}; valid names: {', '.join(NAMES)}")
        if key in ("precision", "recall") and loss_kind in ("binary", "binary_logits"):
            # Keras' meaning for a binary model: the positive class's precision/recall
            cls = ThresholdPrecision if key == "precision" else ThresholdRecall
            return cls(thresholds=threshold, name=identifier)
        return _FACTORIES[key](threshold, identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metrics must be Metric objects, functions metric(y_pred, y_true) or names from "
        f"{NAMES}; got {type(identifier).__name__}"
    )
