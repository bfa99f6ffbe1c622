"""The high-level API: ``Model`` (compile/fit/evaluate/predict/summary), ``Sequential`` and
``History`` (learning curves, plots, under/over-fitting diagnosis), and ``load_model`` for
files written by ``Model.save``."""

from ember.callbacks.history import History
from ember.callbacks.diagnosis import Diagnosis, diagnose
from ember.models.model import Model
from ember.models.saving import load_model
from ember.models.sequential import Sequential

__all__ = ["Model", "Sequential", "History", "Diagnosis", "diagnose", "load_model"]
