"""ModelCheckpoint: save the model's weights during training, every epoch or only the best."""

from __future__ import annotations

import os
import tempfile

from ember.callbacks.callback import Callback
from ember.callbacks.monitor import check_state, is_better, monitored_value, resolve_mode
from ember.serialization import check_suffix


class ModelCheckpoint(Callback):
    """Save the model (safetensors, written atomically) at the end of epochs or every few batches.

    ``filepath`` may hold format fields filled from the epoch (1-based, as printed by the progress
    bar) and the logs: ``"ckpt/{epoch:02d}-{val_loss:.4f}.safetensors"``. Without fields the same
    file is overwritten, so with ``save_best_only`` it always holds the best weights.

    The directory is created and checked for writing when training begins, so a bad path fails
    before the first epoch rather than after hours of training.

    Args:
        filepath: where to save, with optional ``{epoch}``/``{batch}``/log-key fields.
        monitor: the log key that decides what "best" means.
        verbose: 1 prints a line for each save.
        save_best_only: save only when ``monitor`` improves on the best value so far.
        save_weights_only: ``True`` saves ``model.state_dict()`` (:meth:`Model.save_weights`);
            ``False`` also saves the optimizer's state (:meth:`Model.save`).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the monitor's name).
        save_freq: ``"epoch"``, or an int to save every that many training batches.
        initial_value_threshold: with ``save_best_only``, the value ``monitor`` must beat for
            the first save (as Keras), e.g. the best ``val_loss`` of an earlier run whose
            checkpoint must not be overwritten by a worse model.

    Under :class:`~ember.callbacks.BackupAndRestore` the best value so far is part of the
    backup, so a resumed run only overwrites the checkpoint with a better model.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = True,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        check_suffix(self.filepath, "ModelCheckpoint")
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.save_freq = save_freq
        if initial_value_threshold is not None:
            initial_value_threshold = float(initial_value_threshold)
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._batches_seen = 0
        self._epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.best = self.initial_value_threshold
        self._batches_seen = 0
        self._check_writable()

    def state_dict(self) -> dict:
        """The best monitored value so far and the batch count (for ``save_freq=int``)."""
        return {"best": self.best, "batches_seen": self._batches_seen,
                "monitor": self.monitor, "mode": self.mode}

    def load_state_dict(self, state: dict) -> None:
        check_state("ModelCheckpoint", state, {"monitor": self.monitor, "mode": self.mode},
                    ("best", "batches_seen"))
        self.best = state["best"]
        self._batches_seen = int(state["batches_seen"])

    def _check_writable(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.filepath))
        if "{" in directory:
            return  # the directory depends on the logs; it is created at save time
        try:
            os.makedirs(directory, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".ember-write-test-"):
                pass
        except OSError as e:
            raise OSError(
                f"ModelCheckpoint cannot write to {self.filepath!r}: {e.strerror or e} "
                f"(directory {directory!r}). Choose a filepath in a writable directory."
            ) from e

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _format_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except (KeyError, IndexError) as e:
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} uses the field {e}, which is not "
                f"among epoch, batch and the logs ({', '.join(sorted(logs))})"
            ) from None

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            current = monitored_value(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                # before formatting: an epoch that did not validate (validation_freq) has no
                # val_* value for a filepath that names one
                return
            path = self._format_path(epoch, batch, logs)
            worst = "inf" if self.mode == "min" else "-inf"
            previous = worst if self.best is None else f"{self.best:.5f}"
            if not is_better(current, self.best, self.mode):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {previous}")
                return
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        else:
            path = self._format_path(epoch, batch, logs)
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
