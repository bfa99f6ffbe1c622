"""Keras' metrics that are the mean of a loss over the samples: :class:`KLDivergence`,
:class:`Poisson`, :class:`CosineSimilarity`, the hinges and the cross-entropies.

Each computes the per-sample values with the function of :mod:`ember.losses` of the same name
(so a metric and its loss agree), without recording a graph, and keeps their (weighted) sum
and count as its state.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ember import losses
from ember.autograd.grad_mode import no_grad
from ember.metrics.regression import _PerSampleMean
from ember.tensor import Tensor


class LossMean(_PerSampleMean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)``, a per-sample function of
    :mod:`ember.losses` (Keras' ``MeanMetricWrapper``).

    Args:
        fn: the per-sample function.
        name: log key (default: the function's name).
        sign: multiply the values by this (``CosineSimilarity`` reports ``+cos``).
    """

    fn: Callable = staticmethod(losses.mean_squared_error)
    sign = 1.0

    def __init__(self, fn: Callable | None = None, name: str | None = None, **kwargs: Any):
        if fn is not None:
            self.fn = fn
        self.kwargs = kwargs
        super().__init__(name or self.default_name or getattr(self.fn, "__name__", "metric"))

    def _pair(self, y_pred, y_true):
        return y_pred, y_true

    def _values(self, p, t) -> np.ndarray:
        with no_grad():
            pred = Tensor._wrap(np.asarray(p.get() if hasattr(p, "get") else p))
            if pred.dtype.is_floating_point is False:
                pred = pred.float()
            true = np.asarray(t.get() if hasattr(t, "get") else t)
            values = type(self).fn(true, pred, **self.kwargs)
        return self.sign * np.asarray(values.detach()).astype(np.float64)


def _loss_metric(cls_name: str, fn: Callable, log_name: str, doc: str, sign: float = 1.0,
                 defaults: dict | None = None) -> type:
    def __init__(self, name: str | None = None, **kwargs: Any):
        LossMean.__init__(self, None, name, **{**(defaults or {}), **kwargs})

    return type(cls_name, (LossMean,), {"fn": staticmethod(fn), "default_name": log_name,
                                        "sign": sign, "__init__": __init__, "__doc__": doc,
                                        "__module__": __name__})


KLDivergence = _loss_metric(
    "KLDivergence", losses.kl_divergence, "kl_divergence",
    "Mean of ``sum(y_true * log(y_true / y_pred))`` per sample (Keras' ``KLDivergence``).")
Poisson = _loss_metric(
    "Poisson", losses.poisson, "poisson",
    "Mean of ``y_pred - y_true * log(y_pred + eps)`` (Keras' ``Poisson``).")
CosineSimilarity = _loss_metric(
    "CosineSimilarity", losses.cosine_similarity, "cosine_similarity",
    "Mean cosine similarity of ``y_true`` and ``y_pred`` along the last axis (+1: same "
    "direction; Keras' ``CosineSimilarity``).", sign=-1.0)
Hinge = _loss_metric("Hinge", losses.hinge, "hinge", "Mean hinge loss (Keras' ``Hinge``).")
SquaredHinge = _loss_metric("SquaredHinge", losses.squared_hinge, "squared_hinge",
                            "Mean squared hinge loss (Keras' ``SquaredHinge``).")
CategoricalHinge = _loss_metric("CategoricalHinge", losses.categorical_hinge, "categorical_hinge",
                                "Mean categorical hinge loss (Keras' ``CategoricalHinge``).")
BinaryCrossentropy = _loss_metric(
    "BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
    "Mean binary cross-entropy of probabilities (``from_logits=True`` for logits; Keras').")
CategoricalCrossentropy = _loss_metric(
    "CategoricalCrossentropy", losses.categorical_crossentropy, "categorical_crossentropy",
    "Mean cross-entropy of one-hot targets and probabilities (``from_logits=True`` for "
    "logits; Keras').")
SparseCategoricalCrossentropy = _loss_metric(
    "SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "Mean cross-entropy of class indices and probabilities (``from_logits=True`` for logits; "
    "Keras').")

__all__ = ["LossMean", "KLDivergence", "Poisson", "CosineSimilarity", "Hinge", "SquaredHinge",
           "CategoricalHinge", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy"]
