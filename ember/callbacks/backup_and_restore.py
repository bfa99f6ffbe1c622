"""BackupAndRestore: survive an interrupted ``fit`` and carry on exactly where it stopped."""

from __future__ import annotations

import os
import warnings
from typing import Any

from ember.callbacks.callback import Callback

_FORMAT = "ember.BackupAndRestore"
_VERSION = 1
_FILE = "backup.safetensors"


class BackupError(ValueError):
    """A backup that cannot be used: damaged, or written by a different model or setup."""


class BackupAndRestore(Callback):
    """Back up the whole training state during ``fit`` and restore it when ``fit`` starts again.

    Keras 3's behaviour: the backup is written at the end of every epoch (or every
    ``save_freq`` training batches), read back at the start of the next ``fit`` with the same
    ``backup_dir`` (which then starts from the epoch after the last backed-up one) and deleted
    when ``fit`` completes (``delete_checkpoint``); a run interrupted by an exception, a kill or
    Ctrl-C keeps it.

    Beyond Keras, the backup holds everything a run depends on, so that an interrupted ``fit``
    resumed in a new process (even one whose model was built from another seed) ends bit for
    bit where the uninterrupted run ends: the weights, the optimizer's state, the epoch, the
    History so far, every callback's :meth:`~Callback.state_dict` (EarlyStopping's wait, best
    and best weights, ReduceLROnPlateau's counters, ModelCheckpoint's best, a
    LearningRateScheduler's scheduler) and ember's random streams (the global generator, which
    shuffles and draws dropout masks, and the generators of a DataLoader). The random streams
    of a GPU are not saved: dropout on a GPU differs after a resume.

    The backup is one safetensors file written atomically (a kill while writing leaves the
    previous backup), with no pickle. A damaged backup, or one written for another model,
    optimizer or list of callbacks, raises :class:`BackupError` before anything is changed.

    With an int ``save_freq`` the backup taken inside an epoch resumes, as in Keras, at the
    start of that epoch with the weights of the backup; only the backups taken at the end of
    an epoch resume bit for bit.

    Args:
        backup_dir: the folder for the backup (created if missing); one folder per run.
        save_freq: ``"epoch"``, or an int to back up every that many training batches (and at
            the end of each epoch).
        delete_checkpoint: delete the backup when ``fit`` completes.
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is empty; give the folder for the "
                             "backup, e.g. BackupAndRestore('run1/backup')")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int (a "
                             f"number of training batches), got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, _FILE)
        self._run = None
        self._batches_seen = 0
        self._epoch = 0
        self._warned_gpu = False

    # -------------------------------------------------------------- called by the training loop

    def attach(self, run: Any) -> None:
        """Called by ``fit`` before ``on_train_begin``: ``run`` (a :class:`TrainingRun`) names the
        model, the other callbacks, the History and the random streams to back up."""
        self._run = run
        self._batches_seen = 0

    def restore(self) -> tuple[int, bool] | None:
        """Load the backup into the run, if there is one: returns ``(epoch to start from,
        whether the backed-up run had been told to stop)``, else ``None``. Called by ``fit``
        after every callback's ``on_train_begin``."""
        if not os.path.exists(self.path):
            return None
        state = self._read()
        run = self._run
        _check_backup(state, run, self.path)
        before = run.snapshot()
        try:
            run.load(state)
        except Exception as e:  # put everything back: a backup is applied whole or not at all
            run.load(before)
            raise BackupError(f"BackupAndRestore: the backup {self.path!r} does not fit this "
                              f"run ({e}); nothing was restored. Delete it (or use another "
                              "backup_dir) to start over.") from e
        return int(state["epoch"]), bool(state["stop_training"])

    def epoch_done(self, epoch: int) -> None:
        """Called by ``fit`` after every callback's ``on_epoch_end``."""
        self._write(epoch + 1, None)

    def finish(self, completed: bool) -> None:
        """Called by ``fit`` after ``on_train_end``: the backup goes once the run completed."""
        if completed and self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
        self._run = None

    # ----------------------------------------------------------------------------- events

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.save_freq == "epoch" or self._run is None:
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            # resumes at the start of this epoch (Keras' behaviour), with these weights
            self._write(self._epoch, batch)

    # ------------------------------------------------------------------------------ files

    def _write(self, next_epoch: int, batch: int | None) -> None:
        from ember import serialization

        run = self._run
        if run is None:
            return
        if not self._warned_gpu and run.on_gpu():
            self._warned_gpu = True
            warnings.warn("BackupAndRestore: the GPU's random streams are not in the backup, so "
                          "dropout on the GPU will differ from the uninterrupted run after a "
                          "resume (everything else is restored exactly)", UserWarning,
                          stacklevel=3)
        state = run.capture()
        state.update(format=_FORMAT, version=_VERSION, epoch=next_epoch, batch=batch)
        os.makedirs(self.backup_dir, exist_ok=True)
        serialization.save(state, self.path)  # atomic: temp file, fsync, rename

    def _read(self) -> dict:
        from ember import serialization

        try:
            state = serialization.load(self.path)
        except Exception as e:
            raise BackupError(
                f"BackupAndRestore: the backup {self.path!r} cannot be read ({e}); it is damaged "
                "or was not written by BackupAndRestore. Delete it (or the folder "
                f"{self.backup_dir!r}) to start the training over."
            ) from e
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise BackupError(f"BackupAndRestore: {self.path!r} is not a BackupAndRestore backup "
                              "(no 'format' entry); delete it or choose another backup_dir")
        if state.get("version") != _VERSION:
            raise BackupError(f"BackupAndRestore: {self.path!r} is a version "
                              f"{state.get('version')!r} backup; this ember reads version "
                              f"{_VERSION}. Delete it to start over.")
        return state


_KEYS = ("epoch", "batch", "stop_training", "model", "optimizer", "callbacks", "history",
         "random")


def _check_backup(state: dict, run, path: str) -> None:
    """Everything checked that can be checked without changing anything: the entries, the
    model's and optimizer's layout and the callbacks' kinds."""
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise BackupError(f"BackupAndRestore: the backup {path!r} lacks {missing}; it is "
                          "damaged. Delete it to start over.")
    epoch = state["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise BackupError(f"BackupAndRestore: the backup {path!r} names epoch {epoch!r}")
    mine = run.model.state_dict()
    saved = state["model"]
    if not isinstance(saved, dict) or set(saved) != set(mine):
        theirs = set(saved) if isinstance(saved, dict) else set()
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} was written for another model: entries "
            f"only in the backup {sorted(theirs - set(mine))[:5]}, only in this model "
            f"{sorted(set(mine) - theirs)[:5]}. Delete it or use another backup_dir.")
    for k, v in mine.items():
        other = saved[k]
        if tuple(getattr(other, "shape", ())) != tuple(v.shape) or other.dtype != v.dtype:
            raise BackupError(
                f"BackupAndRestore: the backup {path!r} was written for another model: {k!r} "
                f"is {getattr(other, 'dtype', '?')} of shape {tuple(getattr(other, 'shape', ()))}"
                f" there but {v.dtype} of shape {tuple(v.shape)} here. Delete it or use another "
                "backup_dir.")
    kinds = [entry.get("class") if isinstance(entry, dict) else None
             for entry in state["callbacks"]]
    if kinds != run.callback_kinds():
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} was written by a fit with the callbacks "
            f"{kinds} (those with state), but this fit has {run.callback_kinds()}; pass the "
            "same callbacks in the same order (or delete the backup to start over).")
    if len(state["random"].get("data", [])) != len(run.data_generators):
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} holds {len(state['random'].get('data', []))}"
            f" data generator(s) but this fit's data has {len(run.data_generators)}; give fit "
            "the same kind of data as the interrupted run.")


class TrainingRun:
    """What a backup covers: the model and its optimizer, the callbacks with state, the
    History, and the random streams (the global one and ``data_generators``)."""

    def __init__(self, model, callbacks, history, data_generators=()):
        self.model = model
        # only the callbacks that keep state are matched with the backup's: stateless ones (a
        # progress bar, a LambdaCallback) may come and go between the runs
        self.callbacks = [cb for cb in callbacks
                          if type(cb).state_dict is not Callback.state_dict
                          and cb is not history and not isinstance(cb, BackupAndRestore)]
        self.history = history
        self.data_generators = list(data_generators)

    def callback_kinds(self) -> list[str]:
        return [type(cb).__name__ for cb in self.callbacks]

    def on_gpu(self) -> bool:
        return any(p.device.type == "cuda" for p in self.model.parameters())

    def capture(self) -> dict:
        """The state now, as ``ember.save`` stores it."""
        from ember.random import default_generator

        h = self.history
        return {
            "stop_training": bool(self.model.stop_training),
            "model": self.model.state_dict(),
            "optimizer": self.model.optimizer.state_dict(),
            "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()}
                          for cb in self.callbacks],
            "history": {"history": h.history, "epoch": h.epoch, "key_epochs": h.key_epochs},
            "random": {"global": default_generator.state_dict(),
                       "data": [g.state_dict() for g in self.data_generators]},
        }

    def snapshot(self) -> dict:
        """A private copy of :meth:`capture` (to roll back a failed restore)."""
        import copy

        from ember.callbacks.monitor import snapshot_weights

        state = self.capture()
        state["model"] = snapshot_weights(self.model)
        state["optimizer"] = copy.deepcopy(state["optimizer"])
        state["history"] = copy.deepcopy(state["history"])
        return state

    def load(self, state: dict) -> None:
        from ember.random import default_generator

        self.model.load_state_dict(state["model"])
        self.model.optimizer.load_state_dict(state["optimizer"])
        for cb, entry in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(entry["state"])
        h = state["history"]
        self.history.history = {k: list(v) for k, v in h["history"].items()}
        self.history.epoch = list(h["epoch"])
        self.history.key_epochs = {k: list(v) for k, v in h["key_epochs"].items()}
        default_generator.load_state_dict(state["random"]["global"])
        for g, saved in zip(self.data_generators, state["random"]["data"]):
            g.load_state_dict(saved)
