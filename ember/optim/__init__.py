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

# The names ``Model.compile(optimizer=...)`` takes: name -> (class, keyword arguments). The
# class's own (PyTorch) defaults, except "sgd", which uses Keras' lr=0.01 (PyTorch's 1e-3 makes
# plain SGD very slow).
NAMES: dict[str, tuple[type, dict]] = {
    "sgd": (SGD, {"lr": 0.01}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
    "adadelta": (Adadelta, {}),
}


def get(identifier: Any, parameters: Iterable) -> Optimizer:
    """An optimizer over ``parameters`` from a name (``"adam"``), a class, or an instance (returned
    as it is)."""
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
                             f"{', '.join(sorted(NAMES))}")
        cls, kwargs = NAMES[key]
        return cls(params, **kwargs)
    raise TypeError(
        "optimizer must be an ember.optim.Optimizer, an optimizer class or one of "
        f"{sorted(NAMES)}; got {type(identifier).__name__}"
    )


__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler", "get",
           "NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS", "Adafactor", "Muon", "swa_utils"]
