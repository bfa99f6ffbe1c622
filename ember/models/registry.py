"""The names ``Model.compile`` accepts, gathered from the families that own them.

Each family keeps its own registry: :func:`ember.optim.get`, :func:`ember.losses.compile_loss`
and :func:`ember.metrics.get`. This module only hands them on under their older names (for code
such as ``ember.lab`` that reads the tables).
"""

from __future__ import annotations

from ember import optim
from ember.metrics.registry import NAMES as METRICS
from ember.metrics.registry import get as get_metric
from ember.losses import KINDS as LOSS_KINDS
from ember.losses import NAMES as LOSSES
from ember.losses import compile_loss as get_loss

# name -> (class name in ember.optim, keyword arguments)
OPTIMIZERS: dict[str, tuple[str, dict]] = {
    name: optim.NAMES[name] for name in optim.available()}

get_optimizer = optim.get

__all__ = ["OPTIMIZERS", "LOSSES", "LOSS_KINDS", "METRICS", "get_optimizer", "get_loss",
           "get_metric"]
