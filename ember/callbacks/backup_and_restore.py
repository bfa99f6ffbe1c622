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
    LearningRateScheduler's scheduler), any ``ember.optim.lr_scheduler`` kept as an attribute
    of the model (for a custom ``train_step`` that steps it) and ember's random streams (the
    global generator, which shuffles and draws dropout masks, and the generators of a
    DataLoader). The random streams of a GPU are not saved: dropout on a GPU differs after a
    resume.

    The backup is one safetensors file written atomically (a kill while writing leaves the
    previous backup), with no pickle. A damaged backup, or one written for another model,
    optimizer or list of callbacks, raises :class:`BackupError` before anything is changed.

    In a distributed ``fit`` every rank backs up its own state (rank 0 to ``backup.safetensors``,
    rank ``r`` to ``backup-rank{r}.safetensors``; its random streams differ) together with the
    shared shuffling seed, and resumes from it.

    With an int ``save_freq`` a backup is also taken every that many training batches, and a
    run resumed from one continues inside the epoch, after the last backed-up batch, exactly
    as the uninterrupted run would have (the epoch's order is drawn again from the random
    streams it was drawn from and the used batches are skipped; the running epoch means and
    the metrics' state are in the backup). Keras restarts such an epoch from its first batch.

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
        self._state = None
        self._batches_seen = 0
        self._warned_gpu = False

    # -------------------------------------------------------------- called by the training loop

    def attach(self, run: Any, rank: int = 0) -> None:
        """Called by ``fit`` before ``on_train_begin``: ``run`` (a :class:`TrainingRun`) names the
        model, the other callbacks, the History, the feed and the random streams to back up;
        ``rank`` is this process's rank in a distributed ``fit``."""
        name = _FILE if rank == 0 else _FILE.replace(".", f"-rank{rank}.", 1)
        self.path = os.path.join(self.backup_dir, name)
        self._run = run
        self._batches_seen = 0
        self._state = None

    def check(self) -> None:
        """Read and check the backup, if there is one, before anything starts: called by ``fit``
        before ``on_train_begin``, so that a damaged or foreign backup stops the run before
        any callback has done anything (a CSVLogger truncated its file, say)."""
        self._state = None
        if os.path.exists(self.path):
            state = self._read()
            _check_backup(state, self._run, self.path)
            self._state = state

    def restore(self) -> dict | None:
        """Load the backup :meth:`check` read into the run, if there is one, and return what
        the loop needs to go on: ``epoch`` (to start from), ``batch`` (the last batch done in
        that epoch, or ``None`` at an epoch's end), ``stop_training``; ``None`` without a
        backup. Called by ``fit`` after every callback's ``on_train_begin``."""
        state = self._state
        if state is None:
            return None
        run = self._run
        self._load(state)
        if state["position"] is not None:
            run.feed.resume_from(state["position"])
        return {"epoch": int(state["epoch"]), "batch": state["batch"],
                "stop_training": bool(state["stop_training"])}

    def resume_inside_epoch(self, running) -> int:
        """Called by ``fit`` after ``on_epoch_begin`` of the epoch a batch-level backup was
        taken in: everything is loaded again (``on_epoch_begin`` may have set a rate), with the
        epoch's running means into ``running`` and the metrics' state; returns the number of
        the next batch."""
        state, self._state = self._state, None
        self._load(state)
        saved = state["running"]
        running.sums = dict(saved["sums"])
        running.count = saved["count"]
        running.latest = dict(saved["latest"])
        for metric, metric_state in zip(self._run.model.compiled_metrics, state["metrics"]):
            metric.load_state(metric_state)
        return int(state["batch"]) + 1

    def _load(self, state: dict) -> None:
        run = self._run
        before = run.snapshot()
        try:
            run.load(state)
        except Exception as e:  # put everything back: a backup is applied whole or not at all
            run.load(before)
            raise BackupError(f"BackupAndRestore: the backup {self.path!r} does not fit this "
                              f"run ({e}); nothing was restored. Delete it (or use another "
                              "backup_dir) to start over.") from e

    def batch_done(self, epoch: int, batch: int, running) -> None:
        """Called by ``fit`` after every callback's ``on_train_batch_end``."""
        if self.save_freq == "epoch" or self._run is None:
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._write(epoch, batch, running)

    def epoch_done(self, epoch: int) -> None:
        """Called by ``fit`` after every callback's ``on_epoch_end``."""
        self._write(epoch + 1, None, None)

    def finish(self, completed: bool) -> None:
        """Called by ``fit`` after ``on_train_end``: the backup goes once the run completed."""
        if completed and self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
        self._run = None
        self._state = None

    # ------------------------------------------------------------------------------ files

    def _write(self, epoch: int, batch: int | None, running) -> None:
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
        inside = batch is not None
        state.update(format=_FORMAT, version=_VERSION, epoch=epoch, batch=batch,
                     position=run.feed.position(epoch_ended=not inside),
                     running=None, metrics=None)
        if inside:
            state["running"] = {"sums": running.sums, "count": running.count,
                                "latest": running.latest}
            state["metrics"] = [m.state() for m in run.model.compiled_metrics]
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
         "random", "position", "running", "metrics", "schedulers", "sampler_seeds")


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
    if not isinstance(state["schedulers"], dict) or set(state["schedulers"]) != set(
            run.schedulers):
        saved = sorted(state["schedulers"]) if isinstance(state["schedulers"], dict) else "?"
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} holds the learning-rate schedulers {saved} "
            f"of the model, but this model has {sorted(run.schedulers)}; build the model as the "
            "interrupted run did (or delete the backup).")
    if len(state["sampler_seeds"]) != len(run.samplers):
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} was written by a "
            f"{'distributed' if state['sampler_seeds'] else 'single-process'} fit but this fit "
            f"is {'distributed' if run.samplers else 'single-process'}; resume the run as it "
            "was started (or delete the backup).")
    batch = state["batch"]
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 0
                              or state["running"] is None or state["metrics"] is None):
        raise BackupError(f"BackupAndRestore: the backup {path!r} names batch {batch!r} without "
                          "the epoch's running state; it is damaged. Delete it to start over.")
    if batch is not None:
        names = [m.name for m in run.model.compiled_metrics]
        if len(state["metrics"]) != len(names):
            raise BackupError(
                f"BackupAndRestore: the backup {path!r} holds the state of "
                f"{len(state['metrics'])} metric(s) but this model compiled {names}; compile "
                "the same metrics as the interrupted run (or delete the backup).")
    if len(state["random"].get("data", [])) != len(run.data_generators):
        raise BackupError(
            f"BackupAndRestore: the backup {path!r} holds {len(state['random'].get('data', []))}"
            f" data generator(s) but this fit's data has {len(run.data_generators)}; give fit "
            "the same kind of data as the interrupted run.")


class TrainingRun:
    """What a backup covers: the model and its optimizer, the callbacks with state, the
    History, the learning-rate schedulers kept as attributes of the model, and the random
    streams (the global one and ``data_generators``)."""

    def __init__(self, model, callbacks, history, feed, data_generators=(), samplers=()):
        self.model = model
        # only the callbacks that keep state are matched with the backup's: stateless ones (a
        # progress bar, a LambdaCallback) may come and go between the runs
        self.callbacks = [cb for cb in callbacks
                          if type(cb).state_dict is not Callback.state_dict
                          and cb is not history and not isinstance(cb, BackupAndRestore)]
        self.history = history
        self.feed = feed
        self.data_generators = list(data_generators)
        self.samplers = list(samplers)  # DistributedSamplers: their shared shuffling seed
        # learning-rate schedulers the model holds (e.g. one a custom train_step steps)
        from ember.optim.lr_scheduler import LRScheduler

        self.schedulers = {name: value for name, value in sorted(vars(model).items())
                           if isinstance(value, LRScheduler)}

    def callback_kinds(self) -> list[str]:
        return [type(cb).__name__ for cb in self.callbacks]

    def on_gpu(self) -> bool:
        return any(p.device.type == "cuda" for p in self.model.parameters())

    def capture(self) -> dict:
        """The state now, as ``ember.save`` stores it."""
        from ember.random import capture_streams

        h = self.history
        return {
            "stop_training": bool(self.model.stop_training),
            "model": self.model.state_dict(),
            "optimizer": self.model.optimizer.state_dict(),
            "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()}
                          for cb in self.callbacks],
            "history": {"history": h.history, "epoch": h.epoch, "key_epochs": h.key_epochs},
            "random": capture_streams(self.data_generators),
            "sampler_seeds": [int(sampler.seed) for sampler in self.samplers],
            "schedulers": {name: {k: v for k, v in sched.state_dict().items() if not callable(v)}
                           for name, sched in self.schedulers.items()},
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
        from ember.random import restore_streams

        self.model.load_state_dict(state["model"])
        self.model.optimizer.load_state_dict(state["optimizer"])
        for cb, entry in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(entry["state"])
        h = state["history"]
        self.history.history = {k: list(v) for k, v in h["history"].items()}
        self.history.epoch = list(h["epoch"])
        self.history.key_epochs = {k: list(v) for k, v in h["key_epochs"].items()}
        restore_streams(state["random"], self.data_generators)
        for sampler, seed in zip(self.samplers, state["sampler_seeds"]):
            sampler.seed = int(seed)
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
