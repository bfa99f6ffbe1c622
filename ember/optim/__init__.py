"""Optimizers (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``) and learning-rate
schedulers (:mod:`ember.optim.lr_scheduler`), with PyTorch's names, arguments and update rules;
:func:`get` builds one from a Keras-style name."""

from __future__ import annotations

import inspect
from typing import Any, Iterable

from ember.optim.optimizer import Optimizer, required
from ember.optim.sgd import SGD
from ember.optim.adam import Adam, AdamW
from ember.optim.rmsprop import RMSprop
from ember.optim.adagrad import Adagrad
from ember.optim.adadelta import Adadelta
from ember.optim.nadam import NAdam
from ember.optim.radam import RAdam
from ember.optim.adamax import Adamax
from ember.optim.asgd import ASGD
from ember.optim.rprop import Rprop
from ember.optim.lbfgs import LBFGS
from ember.optim.adafactor import Adafactor
from ember.optim.muon import Muon
from ember.optim import lr_scheduler
from ember.optim import swa_utils

# The names ``Model.compile(optimizer=...)`` takes, with Keras 3's defaults (a Keras user who
# writes "rmsprop" gets Keras' lr 0.001, not PyTorch's 0.01): name -> (class name in
# ember.optim, keyword arguments). Keras' rho is RMSprop's alpha; its epsilon is eps. The
# update rules stay PyTorch's (Keras adds Adam's epsilon to sqrt(v) before the bias
# correction, PyTorch after: the two differ only while v is near zero).
NAMES: dict[str, tuple[str, dict]] = {
    "sgd": ("SGD", {"lr": 0.01}),
    "adam": ("Adam", {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}),
    "adamw": ("AdamW", {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0.004}),
    "rmsprop": ("RMSprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    "adagrad": ("Adagrad", {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": ("Adadelta", {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    "nadam": ("NAdam", {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}),
    "adamax": ("Adamax", {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}),
    "lion": ("Lion", {"lr": 0.001, "betas": (0.9, 0.99)}),
    "lamb": ("Lamb", {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}),
    "adafactor": ("Adafactor", {"lr": 0.001, "beta2_decay": -0.8, "eps": (1e-30, 1e-3)}),
    "ftrl": ("Ftrl", {"lr": 0.001, "lr_power": -0.5, "initial_accumulator_value": 0.1}),
}


def available() -> list[str]:
    """The names of :data:`NAMES` whose optimizer class ember has."""
    return sorted(n for n, (cls, _) in NAMES.items() if cls in globals())


def get(identifier: Any, parameters: Iterable) -> Optimizer:
    """An optimizer over ``parameters`` from a name (``"adam"``, with Keras' defaults: see
    :data:`NAMES`), a class (with its PyTorch defaults), or an instance (returned as it is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    params = list(parameters)
    if not params:
        raise ValueError(
            "the model has no parameters to optimize; create its layers in __init__ before "
            "compile()"
        )
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier(params)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in NAMES:
            raise ValueError(f"unknown optimizer {identifier!r}; valid names: "
                             f"{', '.join(available())}")
        cls_name, kwargs = NAMES[key]
        if cls_name not in globals():
            raise ValueError(f"Keras' optimizer {identifier!r} ({cls_name}) is not in ember yet; "
                             f"available names: {', '.join(available())}")
        return globals()[cls_name](params, **kwargs)
    raise TypeError(
        "optimizer must be an ember.optim.Optimizer, an optimizer class or one of "
        f"{sorted(NAMES)}; got {type(identifier).__name__}"
    )


__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler", "get", "NAMES", "available",
           "NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS", "Adafactor", "Muon", "swa_utils"]
