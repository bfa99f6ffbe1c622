"""Losses as modules; each forwards to its :mod:`ember.nn.functional` counterpart."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import ember.nn.functional as F
from ember.nn.modules.module import Module
from ember.tensor import Tensor


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error; ``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """``0.5 d²/beta`` below ``beta``, ``|d| - beta/2`` above."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (inputs in [0, 1], e.g. after a sigmoid)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, computed stably from logits; ``pos_weight`` weighs the
    positive examples (per class)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence of ``target`` from log-probabilities ``input`` (``'batchmean'`` is the
    mathematically right reduction)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices from log-probabilities."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + negative log-likelihood over logits ``(N, C, ...)``, with class weights,
    ``ignore_index``, probability targets and label smoothing."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
           "KLDivLoss", "NLLLoss", "CrossEntropyLoss"]


# ------------------------------------------------------------------------- names for compile

# Keras' loss names, as ``Model.compile(loss=...)`` takes them: name -> (loss, the kind of
# target it compares: "sparse", "categorical", "binary", "binary_logits" or "regression"). The
# loss is a class of this module (Keras' losses that PyTorch has too) or a function of
# :mod:`ember.losses` (Keras' own). The cross-entropy names read the model's output by Keras'
# rule: the output of a final Softmax/Sigmoid is probabilities (the loss is computed from that
# op's input, the logits), anything else is logits (see :class:`ember.losses.KerasCrossentropy`).
NAMES: dict[str, tuple[str, str]] = {
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", "sparse"),
    "cross_entropy": ("CrossEntropyLoss", "sparse"),
    "categorical_crossentropy": ("categorical_crossentropy", "categorical"),
    "binary_crossentropy": ("binary_crossentropy", "binary"),
    "binary_crossentropy_from_logits": ("BCEWithLogitsLoss", "binary_logits"),
    "binary_focal_crossentropy": ("binary_focal_crossentropy", "binary"),
    "categorical_focal_crossentropy": ("categorical_focal_crossentropy", "categorical"),
    "mse": ("MSELoss", "regression"),
    "mean_squared_error": ("MSELoss", "regression"),
    "mae": ("L1Loss", "regression"),
    "mean_absolute_error": ("L1Loss", "regression"),
    "huber": ("HuberLoss", "regression"),
    "huber_loss": ("HuberLoss", "regression"),
    "nll": ("NLLLoss", "sparse"),
    "kl_divergence": ("kl_divergence", "regression"),
    "kld": ("kl_divergence", "regression"),
    "kullback_leibler_divergence": ("kl_divergence", "regression"),
    "hinge": ("hinge", "regression"),
    "squared_hinge": ("squared_hinge", "regression"),
    "categorical_hinge": ("categorical_hinge", "categorical"),
    "log_cosh": ("log_cosh", "regression"),
    "logcosh": ("log_cosh", "regression"),
    "mean_absolute_percentage_error": ("mean_absolute_percentage_error", "regression"),
    "mape": ("mean_absolute_percentage_error", "regression"),
    "mean_squared_logarithmic_error": ("mean_squared_logarithmic_error", "regression"),
    "msle": ("mean_squared_logarithmic_error", "regression"),
    "poisson": ("poisson", "regression"),
    "cosine_similarity": ("cosine_similarity", "regression"),
    "dice": ("dice", "regression"),
    "tversky": ("tversky", "regression"),
}

# The kind of target each loss class (and functional loss) expects, for the checks on targets.
KINDS: dict[str, str] = {
    "CrossEntropyLoss": "sparse", "cross_entropy": "sparse",
    "NLLLoss": "sparse", "nll_loss": "sparse",
    "BCELoss": "binary", "binary_cross_entropy": "binary",
    "BCEWithLogitsLoss": "binary_logits", "binary_cross_entropy_with_logits": "binary_logits",
    "MSELoss": "regression", "mse_loss": "regression",
    "L1Loss": "regression", "l1_loss": "regression",
    "HuberLoss": "regression", "huber_loss": "regression",
    "SmoothL1Loss": "regression", "smooth_l1_loss": "regression",
}


def get(identifier: Any) -> tuple[Callable, str | None]:
    """``(loss, kind)``: the loss callable ``loss(y_pred, y_true)`` for a name, a loss class, a
    loss module or a function, and the kind of target it compares (``None`` when unknown), which
    lets ``fit`` check the labels before training."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in NAMES:
            raise ValueError(f"unknown loss {identifier!r}; valid names: "
                             f"{', '.join(sorted(NAMES))}")
        target, kind = NAMES[key]
        if target in globals():
            return globals()[target](), kind
        # Keras' own losses live one level up, with the functions Keras users call by name
        from ember import losses as keras_losses

        return keras_losses.build(target), kind
    if callable(identifier):
        if inspect.isclass(identifier):
            if not issubclass(identifier, Module):
                raise TypeError(f"loss class {identifier.__name__} is not an ember.nn.Module")
            identifier = identifier()
        name = type(identifier).__name__ if isinstance(identifier, Module) else \
            getattr(identifier, "__name__", "")
        return identifier, KINDS.get(name)
    raise TypeError(
        "loss must be a loss module (e.g. nn.CrossEntropyLoss()), a function "
        f"loss(y_pred, y_true) or one of {sorted(NAMES)}; got {type(identifier).__name__}"
    )
