"""String names for optimizers, losses and metrics, as ``Model.compile`` accepts them.

Optimizer names build the ``ember.optim`` class over the model's parameters with the class's
own (PyTorch) defaults, except ``"sgd"`` which uses Keras' ``lr=0.01`` (PyTorch's 1e-3 makes plain
SGD very slow). Pass an optimizer object for any other setting.

**Loss names that end in cross-entropy take logits** (the model's last layer is ``Linear``, no
softmax): ``"sparse_categorical_crossentropy"`` and ``"cross_entropy"`` are
``nn.CrossEntropyLoss`` (integer class labels), ``"categorical_crossentropy"`` is the same loss
for one-hot or probability rows. The exception is ``"binary_crossentropy"``, which, as in Keras,
takes **probabilities** (the model ends in ``Sigmoid``); ``"binary_crossentropy_from_logits"`` is
``nn.BCEWithLogitsLoss``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

OPTIMIZERS: dict[str, tuple[str, dict]] = {
    "sgd": ("SGD", {"lr": 0.01}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "adadelta": ("Adadelta", {}),
}

# name -> (nn class name, what the loss compares: "sparse", "categorical", "binary",
# "binary_logits" or "regression")
LOSSES: dict[str, tuple[str, str]] = {
    "sparse_categorical_crossentropy": ("CrossEntropyLoss", "sparse"),
    "cross_entropy": ("CrossEntropyLoss", "sparse"),
    "categorical_crossentropy": ("CrossEntropyLoss", "categorical"),
    "binary_crossentropy": ("BCELoss", "binary"),
    "binary_crossentropy_from_logits": ("BCEWithLogitsLoss", "binary_logits"),
    "mse": ("MSELoss", "regression"),
    "mean_squared_error": ("MSELoss", "regression"),
    "mae": ("L1Loss", "regression"),
    "mean_absolute_error": ("L1Loss", "regression"),
    "huber": ("HuberLoss", "regression"),
    "nll": ("NLLLoss", "sparse"),
}

# The kind of target each nn loss class (and functional loss) expects, for input checks.
LOSS_KINDS: dict[str, str] = {
    "CrossEntropyLoss": "sparse", "cross_entropy": "sparse",
    "NLLLoss": "sparse", "nll_loss": "sparse",
    "BCELoss": "binary", "binary_cross_entropy": "binary",
    "BCEWithLogitsLoss": "binary_logits", "binary_cross_entropy_with_logits": "binary_logits",
    "MSELoss": "regression", "mse_loss": "regression",
    "L1Loss": "regression", "l1_loss": "regression",
    "HuberLoss": "regression", "huber_loss": "regression",
    "SmoothL1Loss": "regression", "smooth_l1_loss": "regression",
}

METRICS = ["accuracy", "acc", "top_k_accuracy", "top5", "precision", "recall", "f1", "mae",
           "mse", "mean_absolute_error", "mean_squared_error"]


def _unknown(kind: str, name: str, valid) -> ValueError:
    return ValueError(f"unknown {kind} {name!r}; valid names: {', '.join(sorted(valid))}")


def get_optimizer(identifier: Any, parameters) -> Any:
    """An optimizer from an instance, a class (built over ``parameters``) or a name."""
    from ember import optim

    if isinstance(identifier, optim.Optimizer):
        return identifier
    params = list(parameters)
    if not params:
        raise ValueError(
            "the model has no parameters to optimize; create its layers in __init__ before "
            "compile()"
        )
    if inspect.isclass(identifier) and issubclass(identifier, optim.Optimizer):
        return identifier(params)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in OPTIMIZERS:
            raise _unknown("optimizer", identifier, OPTIMIZERS)
        cls_name, kwargs = OPTIMIZERS[key]
        return getattr(optim, cls_name)(params, **kwargs)
    raise TypeError(
        "optimizer must be an ember.optim.Optimizer, an optimizer class or one of "
        f"{sorted(OPTIMIZERS)}; got {type(identifier).__name__}"
    )


def get_loss(identifier: Any) -> tuple[Callable, str | None]:
    """``(loss, kind)``: the loss callable ``loss(y_pred, y_true)`` and its target kind.

    The kind (``"sparse"``, ``"categorical"``, ``"binary"``, ``"binary_logits"``,
    ``"regression"`` or ``None`` when unknown) lets ``fit`` check the labels before training.
    """
    from ember import nn

    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in LOSSES:
            raise _unknown("loss", identifier, LOSSES)
        cls_name, kind = LOSSES[key]
        return getattr(nn, cls_name)(), kind
    if callable(identifier):
        if inspect.isclass(identifier):
            if issubclass(identifier, nn.Module):
                identifier = identifier()
            else:
                raise TypeError(f"loss class {identifier.__name__} is not an ember.nn.Module")
        name = type(identifier).__name__ if isinstance(identifier, nn.Module) else \
            getattr(identifier, "__name__", "")
        return identifier, LOSS_KINDS.get(name)
    raise TypeError(
        "loss must be a loss module (e.g. nn.CrossEntropyLoss()), a function "
        f"loss(y_pred, y_true) or one of {sorted(LOSSES)}; got {type(identifier).__name__}"
    )


def get_metric(identifier: Any, loss_kind: str | None = None):
    """A :class:`~ember.metrics.Metric` from an instance, a class, a function or a name.

    With ``loss_kind="binary_logits"`` the ``"accuracy"`` metric thresholds outputs at 0 (the
    logit of probability 0.5) instead of 0.5.
    """
    from ember import metrics as m

    if isinstance(identifier, m.Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, m.Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        threshold = 0.0 if loss_kind == "binary_logits" else 0.5
        if key in ("accuracy", "acc"):
            return m.Accuracy(threshold=threshold, name=identifier)
        if key in ("top_k_accuracy", "top5"):
            return m.TopKAccuracy(k=5, name=identifier)
        if key in ("precision", "recall", "f1"):
            cls = {"precision": m.Precision, "recall": m.Recall, "f1": m.F1Score}[key]
            return cls(threshold=threshold, name=identifier)
        if key in ("mae", "mean_absolute_error"):
            return m.MeanAbsoluteError(name=identifier)
        if key in ("mse", "mean_squared_error"):
            return m.MeanSquaredError(name=identifier)
        raise _unknown("metric", identifier, METRICS)
    if callable(identifier):
        return m.MeanMetricWrapper(identifier)
    raise TypeError(
        f"metrics must be Metric objects, functions metric(y_pred, y_true) or names from "
        f"{METRICS}; got {type(identifier).__name__}"
    )
