"""The loops behind ``Model.fit``, ``Model.evaluate`` and ``Model.predict``.

Each loop gets its batches from the feed (:mod:`ember.models.prepare` turns the arguments into
batches, :mod:`ember.models.epoch_iterator` hands them out per epoch), calls the model's
overridable step (``train_step``/``test_step``/``predict_step``) per batch, gathers the logs
(:mod:`ember.models.epoch_logs`) and tells the callbacks. Over a process group the shards, the
gradient averaging and the reduction of the logs come from :mod:`ember.models.data_parallel`.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import warnings

import numpy as np

from ember.autograd import no_grad
from ember.callbacks.backup_and_restore import BackupAndRestore, TrainingRun
from ember.callbacks.callback import Callback, CallbackList
from ember.callbacks.progbar import ProgbarLogger, resolve_verbose
from ember.callbacks.terminate_on_nan import TerminateOnNaN
from ember.models import data_adapter as da
from ember.models import data_parallel as dp
from ember.models import epoch_iterator as feed
from ember.models.epoch_logs import EpochLogs, as_scalars, checked_logs
from ember.callbacks.history import History, run_settings
from ember.models.prepare import device_for, prepare, validation_batches
from ember.models.split_check import warn_if_sorted_split
from ember.tensor import Tensor


def _callback_list(callbacks, model, verbose: int) -> CallbackList:
    """The user's callbacks, plus a progress bar when ``verbose`` asks for output and they
    brought none."""
    cbs = CallbackList(callbacks, model=model)
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose))
    return cbs


def _check_epochs(epochs, initial_epoch) -> None:
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, (int, np.integer)) \
            or epochs < 0:
        raise ValueError(f"fit: epochs must be a whole number >= 0 (the index of the last epoch, "
                         f"e.g. epochs=10), got {epochs!r}")
    if isinstance(initial_epoch, (bool, np.bool_)) or not isinstance(
            initial_epoch, (int, np.integer)) or initial_epoch < 0 or initial_epoch > epochs:
        raise ValueError(f"fit: initial_epoch must be a whole number in 0..epochs ({epochs}), "
                         f"got {initial_epoch!r}")


class _HeldInterrupt:
    """Ctrl-C (SIGINT) during a training step is held until the step has finished, so the
    optimizer's update is never half applied; then ``KeyboardInterrupt`` is raised as usual.

    Outside a step Ctrl-C interrupts at once, and a second Ctrl-C within a step does too (the
    user insists). Only installed from the main thread and over Python's default handler: a
    program with its own SIGINT handler keeps it.
    """

    def __init__(self):
        self.in_step = False
        self.pending = False
        self.installed = False
        self.previous = None

    def __enter__(self) -> _HeldInterrupt:
        if threading.current_thread() is threading.main_thread():
            try:
                current = signal.getsignal(signal.SIGINT)
            except ValueError:
                current = None
            if current is signal.default_int_handler:
                self.previous = current
                signal.signal(signal.SIGINT, self._handle)
                self.installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False

    def _handle(self, signum, frame) -> None:
        if not self.in_step or self.pending:
            raise KeyboardInterrupt
        self.pending = True
        print("\nCtrl-C: stopping after this training step (press Ctrl-C again to abort it at "
              "once, which may leave the update half applied)", file=sys.stderr)

    def step(self, train_step, batch):
        """``train_step(batch)``, with Ctrl-C held until it returns."""
        self.in_step = True
        try:
            logs = train_step(batch)
        finally:
            self.in_step = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt
        return logs


def _distributed_samplers(batches) -> list:
    """The samplers that share a shuffling seed among the ranks (drawn anew by each fit, so a
    resumed fit must take the interrupted one's back)."""
    from ember.utils.data import DistributedSampler

    found = [getattr(batches, "sampler", None),
             getattr(getattr(batches, "loader", None), "sampler", None)]
    return [s for s in found if isinstance(s, DistributedSampler)]


def _data_generators(batches) -> list:
    """The random generators of the training data other than ember's global one (a
    DataLoader's or its sampler's ``generator``), to be backed up with the run."""
    from ember.random import Generator, default_generator

    loader = getattr(batches, "loader", None)
    found = []
    for owner in (loader, getattr(loader, "sampler", None),
                  getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        gen = getattr(owner, "generator", None)
        if isinstance(gen, Generator) and gen is not default_generator \
                and all(gen is not g for g in found):
            found.append(gen)
    return found


def _validation_batch_size(validation_batch_size, batch_size) -> int:
    if validation_batch_size is None:
        return batch_size
    if isinstance(validation_batch_size, bool) or not isinstance(
            validation_batch_size, (int, np.integer)) or validation_batch_size < 1:
        raise ValueError(f"validation_batch_size must be a positive int or None (then it is "
                         f"batch_size), got {validation_batch_size!r}")
    return validation_batch_size


def fit(model, x=None, y=None, batch_size=32, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
        device=None, class_weight=None, sample_weight=None, steps_per_epoch=None,
        validation_steps=None, validation_batch_size=None, validation_freq=1) -> History:
    """See :meth:`ember.models.model.Model.fit`."""
    model._check_compiled("fit")
    _check_epochs(epochs, initial_epoch)
    batch_size = da.check_batch_size(batch_size, "fit")
    validation_split = da.check_validation_split(validation_split)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"fit: shuffle must be True or False (reshuffle the samples every "
                         f"epoch or not), got {shuffle!r}")
    steps_per_epoch = feed.check_steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = feed.check_steps(validation_steps, "validation_steps")
    validation_batch_size = _validation_batch_size(validation_batch_size, batch_size)
    schedule = feed.validation_schedule(validation_freq)
    if da.is_loader(x) or da.is_dataset(x) or da.is_batch_iterator(x):
        da.check_no_sample_weight(x, sample_weight, "fit")
    verbose = resolve_verbose(verbose)
    dev = device_for(model, device)

    if validation_data is None and validation_split:
        (x, y, sample_weight), (xv, yv, wv) = da.split_validation(x, y, validation_split,
                                                                  sample_weight)
        validation_data = xv if yv is None else (xv, yv, wv)
        warn_if_sorted_split(y, yv, validation_split)
    train_batches = prepare(model, x, y, batch_size, shuffle, dev, "fit", sample_weight)
    weigh_classes = feed.class_weighter(model, class_weight, train_batches)
    val_batches = None
    if validation_data is not None:
        val_batches = validation_batches(model, validation_data, validation_batch_size, dev)
    group = dp.process_group()
    undo_distributed = None
    if group is not None:
        # data parallel: batch_size is per rank (the global batch is batch_size * world_size);
        # weighted losses need nothing more: each rank's epoch sums are sum(w * loss) and the
        # sums and sample counts of all ranks are added (reduce_logs)
        train_batches, val_batches, callbacks, undo_distributed = dp.distribute(
            model, group, train_batches, val_batches, callbacks)
        if group.rank != 0:
            verbose = 0

    history = History()
    cbs = _callback_list(callbacks, model, verbose)
    has_nan_guard = any(isinstance(cb, TerminateOnNaN) for cb in cbs)
    cbs.append(history)
    backups = [cb for cb in cbs if isinstance(cb, BackupAndRestore)]
    if len(backups) > 1:
        raise ValueError("fit: give at most one BackupAndRestore callback (one backup folder)")
    epochs_feed = feed.EpochIterator(train_batches, steps_per_epoch, weigh_classes)
    if backups:
        generators = _data_generators(train_batches)
        epochs_feed.track(generators)
        samplers = [] if group is None else _distributed_samplers(train_batches)
        backups[0].attach(TrainingRun(model, cbs, history, epochs_feed, generators, samplers),
                          rank=0 if group is None else group.rank)
    params = {"epochs": epochs, "steps": epochs_feed.steps_per_epoch, "verbose": verbose,
              "batch_size": batch_size, "do_validation": val_batches is not None}
    cbs.set_model(model)
    cbs.set_params(params)
    history.params = params
    history.settings = run_settings(model, cbs, epochs, batch_size)
    model.history = history
    model.stop_training = False
    model.optimizer.zero_grad()
    passthrough = set(model.metrics_names)
    was_training = model.training

    warned_nan = False
    held = _HeldInterrupt()
    if backups:
        backups[0].check()
    cbs.on_train_begin({})
    resumed = backups[0].restore() if backups else None
    if resumed is not None:
        initial_epoch = resumed["epoch"]
        if resumed["stop_training"]:  # the backed-up run was told to stop (EarlyStopping)
            initial_epoch = max(initial_epoch, epochs)
    epoch, step = initial_epoch, -1
    try:
        held.__enter__()
        for epoch in range(initial_epoch, epochs):
            model.train()
            model.reset_metrics()
            cbs.on_epoch_begin(epoch, {})
            running = EpochLogs(passthrough)
            first = 0
            if resumed is not None and resumed["batch"] is not None and epoch == initial_epoch:
                first = backups[0].resume_inside_epoch(running)  # a batch-level backup
            step = first - 1
            for step, batch in enumerate(epochs_feed.epoch(epoch), start=first):
                cbs.on_train_batch_begin(step, {})
                logs = checked_logs(held.step(model.train_step, batch), "train_step",
                                    " such as {'loss': loss}")
                logs = as_scalars(logs)
                raw_loss = logs.get("loss", 0.0)
                batch_logs = running.add(logs, da.batch_length(batch))
                if (not has_nan_guard and not warned_nan and isinstance(raw_loss, float)
                        and not math.isfinite(raw_loss)):
                    warned_nan = True
                    warnings.warn(
                        f"fit: the loss became {raw_loss} at epoch {epoch + 1}, batch {step}. "
                        "Training goes on but the weights are probably ruined: lower the learning "
                        "rate, check the inputs for NaN/inf, or pass "
                        "callbacks=[ember.callbacks.TerminateOnNaN()] to stop at once.",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                cbs.on_train_batch_end(step, batch_logs)
                if backups:
                    backups[0].batch_done(epoch, step, running)
                if group is not None:
                    model.stop_training = dp.any_rank(group, model.stop_training)
                if model.stop_training:
                    break
            if step == first - 1 and getattr(train_batches, "one_shot", False):
                if epoch == initial_epoch:
                    raise ValueError("fit: the generator yielded no batches; it must yield "
                                     "(x, y) or (x, y, sample_weight) tuples")
                warnings.warn(
                    f"fit: the generator ran out of data before epoch {epoch + 1}; training "
                    f"stops after {epoch} epoch(s). A generator is read once: give "
                    "steps_per_epoch and make it yield steps_per_epoch * epochs batches (e.g. "
                    "loop over the data forever), or pass arrays, a Dataset or a DataLoader.",
                    UserWarning, stacklevel=3)
                break
            epoch_logs = running.result() if group is None else dp.reduce_logs(running, model,
                                                                                 group)
            if val_batches is not None and feed.validates(epoch, schedule):
                val_logs = run_evaluation(model, feed.limited(val_batches, validation_steps,
                                                              "fit (validation_steps)"),
                                          None, group)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if backups:
                backups[0].epoch_done(epoch)
            if model.stop_training:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        done = len(history.epoch)
        print(f"\nTraining interrupted (Ctrl-C) during epoch {epoch + 1}, batch {step + 1}; "
              f"returning the history of the {done} completed epoch(s).", file=sys.stderr)
    finally:
        held.__exit__()
        model.train(was_training)
        if undo_distributed is not None:
            undo_distributed()
    cbs.on_train_end()
    if backups:
        backups[0].finish(completed=not history.interrupted)
    return history


def run_evaluation(model, batches, cbs: Callback | None, group=None) -> dict:
    """Loss and metrics over ``batches`` with ``test_step`` (no gradients, eval mode).

    With a process ``group``, ``batches`` is this rank's shard and the result covers all ranks.
    """
    was_training = model.training
    model.eval()
    model.reset_metrics()
    running = EpochLogs(set(model.metrics_names))
    if cbs is not None:
        cbs.on_test_begin({})
    try:
        with no_grad():
            for step, batch in enumerate(batches):
                if cbs is not None:
                    cbs.on_test_batch_begin(step, {})
                logs = checked_logs(model.test_step(batch), "test_step")
                batch_logs = running.add(as_scalars(logs), da.batch_length(batch))
                if cbs is not None:
                    cbs.on_test_batch_end(step, batch_logs)
    finally:
        model.train(was_training)
    result = running.result() if group is None else dp.reduce_logs(running, model, group)
    if cbs is not None:
        cbs.on_test_end(dict(result))
    return result


def evaluate(model, x=None, y=None, batch_size=32, verbose="auto", return_dict=False,
             callbacks=None, device=None, sample_weight=None, steps=None):
    """See :meth:`ember.models.model.Model.evaluate`."""
    model._check_compiled("evaluate")
    steps = feed.check_steps(steps, "steps")
    batch_size = da.check_batch_size(batch_size, "evaluate")
    if da.is_loader(x) or da.is_dataset(x) or da.is_batch_iterator(x):
        da.check_no_sample_weight(x, sample_weight, "evaluate")
    verbose = resolve_verbose(verbose)
    dev = device_for(model, device)
    batches = prepare(model, x, y, batch_size, False, dev, "evaluate", sample_weight)
    group = dp.process_group()
    if group is not None:  # each rank evaluates its shard; the results are combined
        batches, callbacks, verbose = dp.shard_for_evaluation(batches, callbacks, verbose, group)
    cbs = _callback_list(callbacks, model, verbose)
    cbs.set_params({"steps": feed.steps_shown(batches, steps), "verbose": verbose})
    logs = run_evaluation(model, feed.limited(batches, steps, "evaluate (steps)"), cbs, group)
    if return_dict:
        return logs
    names = ["loss"] + [m for m in model.metrics_names if m in logs]
    values = [logs[k] for k in names if k in logs]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=32, verbose=0, callbacks=None, device=None,
            steps=None) -> np.ndarray:
    """See :meth:`ember.models.model.Model.predict`."""
    steps = feed.check_steps(steps, "steps")
    batch_size = da.check_batch_size(batch_size, "predict")
    verbose = resolve_verbose(verbose)
    dev = device_for(model, device)
    batches = da.make_batches(x, None, batch_size, False, dev, "predict", requires_y=False)
    cbs = _callback_list(callbacks, model, verbose)
    cbs.set_params({"steps": feed.steps_shown(batches, steps), "verbose": verbose})
    was_training = model.training
    model.eval()
    outputs = []
    cbs.on_predict_begin({})
    try:
        with no_grad():
            for step, batch in enumerate(feed.limited(batches, steps, "predict (steps)")):
                cbs.on_predict_batch_begin(step, {})
                out = model.predict_step(batch)
                outputs.append(np.asarray(out.detach()) if isinstance(out, Tensor) else np.asarray(out))
                cbs.on_predict_batch_end(step, {"outputs": out})
    finally:
        model.train(was_training)
    cbs.on_predict_end({})
    if not outputs:
        return np.zeros((0,), dtype=np.float32)
    return np.concatenate(outputs, axis=0)
