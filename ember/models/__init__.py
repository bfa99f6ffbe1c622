"""The high-level API: ``Model`` (compile/fit/evaluate/predict/summary), ``Sequential`` and
``History`` (learning curves, plots, under/over-fitting diagnosis)."""

from ember.models.history import History
from ember.models.diagnosis import Diagnosis, diagnose
from ember.models.model import Model
from ember.models.sequential import Sequential

__all__ = ["Model", "Sequential", "History", "Diagnosis", "diagnose"]
