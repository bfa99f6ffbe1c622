"""Callbacks that ``Model.fit``/``evaluate``/``predict`` notify: early stopping, checkpoints,
learning-rate control, logging, progress bars, and ``History`` (the per-epoch record with its
plots and diagnosis, in ``history.py``, ``plotting.py``, ``diagnosis.py``), with Keras' names and
semantics."""

from ember.callbacks.backup_and_restore import BackupAndRestore, BackupError
from ember.callbacks.callback import Callback, CallbackList, LambdaCallback
from ember.callbacks.csv_logger import CSVLogger
from ember.callbacks.early_stopping import EarlyStopping
from ember.callbacks.history import History
from ember.callbacks.lr_scheduler import LearningRateScheduler
from ember.callbacks.model_checkpoint import ModelCheckpoint
from ember.callbacks.progbar import ProgbarLogger
from ember.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ember.callbacks.terminate_on_nan import TerminateOnNaN
from ember.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore", "BackupError", "Callback", "CallbackList", "LambdaCallback", "CSVLogger",
    "EarlyStopping",
    "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau",
    "TerminateOnNaN", "TensorBoard", "History",
]

