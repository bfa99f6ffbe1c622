"""Callbacks that ``Model.fit``/``evaluate``/``predict`` notify: early stopping, checkpoints,
learning-rate control, logging, progress bars (Keras' names and semantics)."""

from ember.callbacks.callback import Callback, CallbackList, LambdaCallback
from ember.callbacks.csv_logger import CSVLogger
from ember.callbacks.early_stopping import EarlyStopping
from ember.callbacks.lr_scheduler import LearningRateScheduler
from ember.callbacks.model_checkpoint import ModelCheckpoint
from ember.callbacks.progbar import ProgbarLogger
from ember.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ember.callbacks.terminate_on_nan import TerminateOnNaN
from ember.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback", "CallbackList", "LambdaCallback", "CSVLogger", "EarlyStopping",
    "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau",
    "TerminateOnNaN", "TensorBoard", "History",
]


def __getattr__(name):
    # History lives with the models (it carries plot/diagnose); loaded lazily to avoid a cycle.
    if name == "History":
        from ember.models.history import History

        return History
    raise AttributeError(f"module 'ember.callbacks' has no attribute {name!r}")
