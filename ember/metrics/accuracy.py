"""Accuracy metrics: :class:`Accuracy` and :class:`TopKAccuracy`."""

from __future__ import annotations

import numpy as np

from ember.backend import get_array_module
from ember.metrics.metric import Metric, labels_from


def predicted_labels(y_pred, threshold: float = 0.5):
    """Class labels from model outputs (raw array).

    * ``(N, C)`` with ``C > 1``: the arg-max column (logits and probabilities alike);
    * ``(N,)`` or ``(N, 1)`` floats: binary, ``1`` where the output exceeds ``threshold``;
    * integer arrays: already labels.
    """
    xp = get_array_module(y_pred)
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        return xp.argmax(y_pred.reshape(-1, y_pred.shape[-1]), axis=1)
    flat = y_pred.reshape(-1)
    if flat.dtype.kind in "iub":
        return flat.astype(np.int64, copy=False)
    return (flat > threshold).astype(np.int64)


class _HitRate(Metric):
    """``correct / total`` over every sample seen since the last reset (0.0 before any).

    ``correct`` and ``total`` are the state (:meth:`Metric.state`) a distributed ``fit`` sums
    across ranks.
    """

    state_names = ("correct", "total")

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def result(self) -> float:
        return self.correct / self.total if self.total else 0.0


class Accuracy(_HitRate):
    """The fraction of samples whose predicted class equals the true class.

    ``y_true`` holds class indices (sparse labels) or one-hot rows. ``y_pred`` is either

    * ``(N, C)`` logits or probabilities: the predicted class is the arg-max, so no softmax is
      needed;
    * one output column (``(N, 1)`` or ``(N,)``): **binary** accuracy, predicting class 1 where the
      output is above ``threshold``. The default 0.5 is meant for probabilities (a model ending in
      ``Sigmoid``); for logits use ``threshold=0.0``. ``compile(metrics=["accuracy"])`` picks 0.0
      by itself when the loss takes logits (``BCEWithLogitsLoss``).

    Args:
        threshold: decision threshold for single-column outputs.
        name: log key, ``"accuracy"`` by default.
    """

    default_name = "accuracy"

    def __init__(self, threshold: float = 0.5, name: str | None = None):
        self.threshold = threshold
        super().__init__(name)

    def _update(self, y_pred, y_true) -> None:
        pred = predicted_labels(y_pred, self.threshold)
        true = labels_from(y_true, y_pred.shape[-1] if y_pred.ndim >= 2 else None)
        if true.shape[0] != pred.shape[0]:
            raise ValueError(
                f"{self.name}: {pred.shape[0]} predictions but {true.shape[0]} labels; y_true must "
                "hold one class index (or one one-hot row) per sample"
            )
        self.correct += int((pred == true).sum())
        self.total += int(pred.shape[0])


class TopKAccuracy(_HitRate):
    """The fraction of samples whose true class is among the ``k`` highest-scoring outputs.

    A sample is a hit when fewer than ``k`` classes score strictly higher than its true class,
    so ties at the k-th score count in favour of the true class (as Keras' ``in_top_k``); for
    distinct scores this is the same as ``torch.topk``.

    Args:
        k: how many top classes count as a hit (Keras' default 5).
        name: log key, ``"top_k_accuracy"`` by default.
    """

    default_name = "top_k_accuracy"

    def __init__(self, k: int = 5, name: str | None = None):
        if k < 1:
            raise ValueError(f"TopKAccuracy needs k >= 1, got k={k}")
        self.k = int(k)
        super().__init__(name)

    def _update(self, y_pred, y_true) -> None:
        xp = get_array_module(y_pred)
        if y_pred.ndim != 2:
            raise ValueError(
                f"{self.name}: predictions must be (N, C) class scores, got shape {tuple(y_pred.shape)}"
            )
        n, c = y_pred.shape
        true = labels_from(y_true, c)
        if self.k >= c:
            hits = n
        else:
            true_scores = xp.take_along_axis(y_pred, true.reshape(-1, 1), axis=1)
            higher = (y_pred > true_scores).sum(axis=1)
            hits = int((higher < self.k).sum())
        self.correct += int(hits)
        self.total += int(n)


def _as_host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


class _WeightedHits(_HitRate):
    """A hit rate whose ``update_state`` also takes per-sample weights (Keras')."""

    def _hits(self, y_pred, y_true):
        raise NotImplementedError

    def _update(self, y_pred, y_true) -> None:
        hits = self._hits(y_pred, y_true)
        self.correct += float(hits.sum())
        self.total += float(hits.size)

    def _update_weighted(self, y_pred, y_true, sample_weight) -> None:
        hits = self._hits(y_pred, y_true).astype(np.float64)
        w = np.broadcast_to(_as_host(sample_weight).astype(np.float64).reshape(
            (-1,) + (1,) * (hits.ndim - 1)), hits.shape)
        self.correct += float((hits * w).sum())
        self.total += float(w.sum())


class BinaryAccuracy(_WeightedHits):
    """How often ``y_pred > threshold`` equals the 0/1 ``y_true``, element by element (Keras'
    ``BinaryAccuracy``; every output column counts, as for multi-label models)."""

    default_name = "binary_accuracy"

    def __init__(self, threshold: float = 0.5, name: str | None = None):
        self.threshold = threshold
        super().__init__(name)

    def _hits(self, y_pred, y_true):
        p = _as_host(y_pred)
        t = _as_host(y_true)
        if t.size == p.size:
            t = t.reshape(p.shape)
        return ((p > self.threshold) == (t > 0.5)).reshape(len(p), -1).mean(axis=1) \
            if p.ndim > 1 else ((p > self.threshold) == (t > 0.5))


class CategoricalAccuracy(_WeightedHits):
    """How often the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true`` (Keras')."""

    default_name = "categorical_accuracy"

    def _hits(self, y_pred, y_true):
        p, t = _as_host(y_pred), _as_host(y_true)
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true must be one-hot rows like y_pred "
                             f"{tuple(p.shape)}, got {tuple(t.shape)} (for class indices use "
                             "SparseCategoricalAccuracy)")
        return p.argmax(-1) == t.argmax(-1)


class SparseCategoricalAccuracy(_WeightedHits):
    """How often the arg-max of ``y_pred`` equals the integer label in ``y_true`` (Keras')."""

    default_name = "sparse_categorical_accuracy"

    def _hits(self, y_pred, y_true):
        p, t = _as_host(y_pred), _as_host(y_true).reshape(-1)
        if t.shape[0] != p.shape[0]:
            raise ValueError(f"{self.name}: {p.shape[0]} predictions but {t.shape[0]} labels")
        return p.argmax(-1).reshape(-1) == np.rint(t).astype(np.int64)


class SparseTopKCategoricalAccuracy(_WeightedHits):
    """How often the integer label is among the ``k`` highest scores (ties count as hits, as
    Keras' ``in_top_k``)."""

    default_name = "sparse_top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name: str | None = None):
        if k < 1:
            raise ValueError(f"{type(self).__name__} needs k >= 1, got k={k}")
        self.k = int(k)
        super().__init__(name)

    def _labels(self, y_true, p):
        return np.rint(_as_host(y_true).reshape(-1)).astype(np.int64)

    def _hits(self, y_pred, y_true):
        p = _as_host(y_pred)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: predictions must be (N, C), got {tuple(p.shape)}")
        t = self._labels(y_true, p)
        true_scores = np.take_along_axis(p, t.reshape(-1, 1), axis=1)
        return (p > true_scores).sum(axis=1) < self.k


class TopKCategoricalAccuracy(SparseTopKCategoricalAccuracy):
    """:class:`SparseTopKCategoricalAccuracy` for one-hot ``y_true`` (Keras')."""

    default_name = "top_k_categorical_accuracy"

    def _labels(self, y_true, p):
        t = _as_host(y_true)
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true must be one-hot rows like y_pred {p.shape}, "
                             f"got {t.shape} (for class indices use SparseTopKCategoricalAccuracy)")
        return t.argmax(-1)
