"""The loops behind ``Model.fit``, ``Model.evaluate`` and ``Model.predict``.

Each loop turns its input into batches (:mod:`ember.models.data_adapter`), calls the model's
overridable step (``train_step``/``test_step``/``predict_step``) per batch and tells the callbacks.
Logs returned by a step are averaged over the epoch's samples (each batch weighted by its size),
except the compiled metrics, whose values are already running results over the epoch.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np

from ember import backend
from ember.callbacks.callback import Callback, CallbackList
from ember.callbacks.progbar import ProgbarLogger, resolve_verbose
from ember.callbacks.terminate_on_nan import TerminateOnNaN
from ember.models import data_adapter as da
from ember.models.history import History, run_settings
from ember.models.split_check import warn_if_sorted_split
from ember.models.input_checks import check_targets, probe_output
from ember.models.weighting import ClassWeighter, as_sample_weight, class_weight_table
from ember.tensor import Tensor


def _scalar(value) -> Any:
    """A Python number from a log value (Tensor, array or number); other values unchanged."""
    if isinstance(value, Tensor):
        return float(value.item()) if value.numel() == 1 else value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and getattr(value, "size", 2) == 1:
        return float(value.reshape(()))
    return value


def _scalars(logs: dict) -> dict:
    """``logs`` with every value through :func:`_scalar`: one device-to-host read per value."""
    return {k: _scalar(v) for k, v in logs.items()}


class _EpochLogs:
    """Sample-weighted running means of step logs; compiled metrics pass through as they are."""

    def __init__(self, passthrough: set[str]):
        self.passthrough = passthrough
        self.sums: dict[str, float] = {}
        self.count = 0
        self.latest: dict[str, Any] = {}

    def add(self, logs: dict, n: int) -> dict:
        """Add one batch of ``n`` samples (``logs`` already through :func:`_scalars`); returns
        a new dict of the running results."""
        self.count += n
        for k, v in logs.items():
            if k in self.passthrough or not isinstance(v, (int, float)) or isinstance(v, bool):
                self.latest[k] = v
            else:
                self.sums[k] = self.sums.get(k, 0.0) + float(v) * n
        return self.result()

    def result(self) -> dict:
        out = {k: s / self.count for k, s in self.sums.items()} if self.count else {}
        out.update(self.latest)
        return out


# ----------------------------------------------------------------------------- distributed

# Metric attributes that are counters (summed across ranks); everything else is configuration.
# A custom metric can name more in a ``dist_counters`` attribute.
_COUNTERS = ("correct", "total", "count", "matrix")


def _process_group():
    """The ``ember.distributed`` group when one with several ranks exists, else ``None``.

    Looked up in ``sys.modules`` so a single-process ``fit`` never imports the distributed
    package (or mpi4py).
    """
    mod = sys.modules.get("ember.distributed.process_group")
    return mod._active_group() if mod is not None else None


def _metric_state(m) -> dict:
    from ember.metrics.metric import Metric

    names = _COUNTERS + tuple(getattr(m, "dist_counters", ()))
    state = {}
    for k, v in vars(m).items():
        if k in names:
            state[k] = v.get() if hasattr(v, "get") and not isinstance(v, dict) else v
        elif isinstance(v, Metric):
            state[k] = _metric_state(v)  # e.g. the Mean inside MeanMetricWrapper
    return state


def _merge_states(states: list) -> Any:
    first = states[0]
    if isinstance(first, dict):
        return {k: _merge_states([s[k] for s in states]) for k in first}
    if isinstance(first, np.ndarray) and first.ndim:
        # confusion matrices grow with the classes seen, which may differ between ranks
        shape = tuple(max(s.shape[d] for s in states) for d in range(first.ndim))
        total = np.zeros(shape, dtype=first.dtype)
        for s in states:
            total[tuple(slice(0, n) for n in s.shape)] += s
        return total
    return sum(states[1:], first)


def _set_state(m, state: dict) -> None:
    for k, v in state.items():
        if isinstance(v, dict):
            _set_state(getattr(m, k), v)
        else:
            setattr(m, k, v)


def _reduce_logs(running: _EpochLogs, model, group) -> dict:
    """The epoch's logs over every rank's samples: sample-weighted sums and counts are added,
    compiled metrics' counters merged (so accuracy/F1 are exact, uneven shards included)."""
    from ember import distributed as dist

    metrics = model.compiled_metrics
    mine = {"count": running.count, "sums": running.sums, "latest": sorted(running.latest),
            "metrics": [_metric_state(m) for m in metrics]}
    everyone = [None] * group.world_size
    dist.all_gather_object(everyone, mine)
    count = sum(e["count"] for e in everyone)
    sums: dict[str, float] = {}
    for e in everyone:
        for k, v in e["sums"].items():
            sums[k] = sums.get(k, 0.0) + v
    seen = set().union(*(e["latest"] for e in everyone))
    for i, m in enumerate(metrics):
        _set_state(m, _merge_states([e["metrics"][i] for e in everyone]))
    out = {k: v / count for k, v in sums.items()} if count else {}
    out.update(running.latest)  # rank-local values that are not compiled metrics
    out.update({m.name: m.result() for m in metrics if m.name in seen})
    return out


def _any_rank(group, flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (keeps early stops in lockstep)."""
    from ember import distributed as dist
    from ember.creation import tensor

    t = tensor([1 if flag else 0], dtype=backend.int32)
    dist.all_reduce(t, dist.ReduceOp.MAX)
    return bool(t.item())


def _is_writer(cb) -> bool:
    """Callbacks that write files or progress: they run on rank 0 only."""
    from ember.callbacks import CSVLogger, ModelCheckpoint

    return isinstance(cb, (ProgbarLogger, CSVLogger, ModelCheckpoint)) or bool(
        getattr(cb, "rank_zero_only", False))


def _distribute(model, group, train_batches, val_batches, callbacks):
    """Set ``fit`` up for data parallelism: shards, gradient averaging, rank-0-only output.

    Returns ``(train_batches, val_batches, callbacks, undo)``; ``undo()`` detaches what was
    attached here and restores the callbacks' verbosity.
    """
    from ember import distributed as dist
    from ember.random import get_rng

    # one shuffling seed for all ranks (drawn from rank 0's generator, so manual_seed applies)
    seed = [int(get_rng().integers(0, 2**31 - 1))]
    dist.broadcast_object_list(seed, src=0)
    train_batches = da.shard_batches(train_batches, group.rank, group.world_size, True, seed[0])
    if val_batches is not None:
        val_batches = da.shard_batches(val_batches, group.rank, group.world_size, False)
    callbacks = list(callbacks or [])
    muted = []
    if group.rank != 0:
        callbacks = [cb for cb in callbacks if not _is_writer(cb)]
        for cb in callbacks:  # EarlyStopping & co. decide on every rank but print on rank 0
            if getattr(cb, "verbose", 0):
                muted.append((cb, cb.verbose))
                cb.verbose = 0
    reducer = model.__dict__.get("_ddp_reducer")
    own = reducer is None
    if own:  # not wrapped by the user: attach gradient averaging for this fit only
        from ember.nn.parallel.distributed import Reducer

        reducer = Reducer(model)
        reducer.sync_module_state()
        model.__dict__["_ddp_reducer"] = reducer

    def undo():
        for cb, v in muted:
            cb.verbose = v
        if own:
            reducer.remove()
            model.__dict__.pop("_ddp_reducer", None)

    return train_batches, val_batches, callbacks, undo


def _callback_list(callbacks, model, verbose: int) -> CallbackList:
    """The user's callbacks, plus a progress bar when ``verbose`` asks for output and they
    brought none."""
    cbs = CallbackList(callbacks, model=model)
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose))
    return cbs


def _device_for(model, device):
    if device is not None:
        dev = backend.as_device(device)
        model.to(dev)
        return dev
    for p in model.parameters():
        return p.device
    return None


def _prepare(model, x, y, batch_size, shuffle, device, what, sample_weight=None):
    """Batches for ``(x, y)`` (and ``sample_weight``), after checking the targets against the
    loss."""
    if x is not None and not da.is_loader(x) and not da.is_dataset(x) and y is not None:
        xa, ya = da.as_array(x, f"{what} x", True), da.as_array(y, f"{what} y", False)
        da.check_same_length(xa, ya, what)
        if xa.shape[0] == 0:
            raise ValueError(f"{what}: x and y are empty")
        w = None
        if sample_weight is not None:
            w = as_sample_weight(sample_weight, xa.shape[0],
                                 "sample_weight" if what == "fit" else f"{what} sample_weight")
        ya = _checked_targets(model, xa, ya, device, "y" if what == "fit" else f"{what} y")
        return da.ArrayBatches(xa, ya, batch_size, shuffle, device, w)
    batches = da.make_batches(x, y, batch_size, shuffle, device, what, sample_weight=sample_weight)
    if isinstance(batches, da.ArrayBatches) and batches.y is not None and batches.n:
        batches.y = _checked_targets(model, batches.x, batches.y, device, f"{what} y")
    return batches


def _checked_targets(model, x, y, device, where: str):
    """``y`` checked against the loss and the model's output on the first samples of ``x``
    (whose sample shape is remembered for ``summary``)."""
    out = probe_output(model, x, device)
    model._remember_input(x)
    return check_targets(model._loss_fn, model._loss_kind, y, out, where)


def _validation_batches(model, validation_data, batch_size, device):
    if da.is_loader(validation_data) or da.is_dataset(validation_data):
        return _prepare(model, validation_data, None, batch_size, False, device, "validation_data")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        xv, yv = validation_data[0], validation_data[1]
        wv = validation_data[2] if len(validation_data) == 3 else None
        return _prepare(model, xv, yv, batch_size, False, device, "validation_data", wv)
    raise ValueError(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), a "
        f"Dataset or a DataLoader; got {type(validation_data).__name__}"
        + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
    )


# --------------------------------------------------------------------- argument checks, steps


def _check_steps(value, name: str) -> int | None:
    """``value`` as a positive int, or ``None`` (no limit)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name} must be a positive int (a number of batches) or None for all "
                         f"of the data, got {value!r}")
    return int(value)


def _validation_schedule(validation_freq) -> Any:
    """``validation_freq`` checked: a positive int, or the set of 1-based epoch numbers."""
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"validation_freq must be at least 1 (validate every that many "
                             f"epochs), got {validation_freq}")
        return int(validation_freq)
    if isinstance(validation_freq, (list, tuple, set, frozenset, range)):
        epochs = set()
        for e in validation_freq:
            if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, np.integer)) or e < 1:
                raise ValueError(f"validation_freq as a list holds the 1-based epoch numbers to "
                                 f"validate after (e.g. [1, 5, 10]); got the entry {e!r}")
            epochs.add(int(e))
        return epochs
    raise TypeError(
        "validation_freq must be an int (validate every that many epochs) or a list of 1-based "
        f"epoch numbers (e.g. [1, 5, 10]); got {type(validation_freq).__name__}"
    )


def _validates(epoch: int, schedule) -> bool:
    """Whether 0-based ``epoch`` ends with validation (Keras counts the epochs from 1)."""
    if isinstance(schedule, int):
        return (epoch + 1) % schedule == 0
    return epoch + 1 in schedule


def _known_len(batches) -> int | None:
    try:
        return len(batches) or None
    except TypeError:
        return None


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside ember."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("ember."):
        frame, level = frame.f_back, level + 1
    return level


def _ran_out(what: str, got: int, steps: int) -> None:
    warnings.warn(
        f"{what}: the data ran out after {got} of {steps} steps; make sure it can give at least "
        f"{steps} batches, or lower the number of steps",
        UserWarning, stacklevel=_caller_stacklevel())


class _TrainFeed:
    """The training batches of each epoch.

    Without ``steps_per_epoch`` an epoch is one pass over the data. With it, as in Keras 3, one
    pass runs on across epochs (epoch 2 continues where epoch 1 stopped, so no batch is skipped)
    and a new pass starts once the data is used up; an epoch that finds the data used up before
    its ``steps_per_epoch`` batches warns and ends early.
    """

    def __init__(self, batches, steps: int | None):
        self.batches = batches
        self.steps = steps
        self.known = _known_len(batches)
        self._it = None
        self._seen = 0

    def epoch(self):
        if self.steps is None:
            yield from self.batches
            return
        if self._it is None:
            self._it, self._seen = iter(self.batches), 0
        for step in range(self.steps):
            if self.known and self._seen >= self.known:
                self._warn(step)
                break
            try:
                batch = next(self._it)
            except StopIteration:
                if step == 0 and self._seen:  # data of unknown size ended with the last epoch
                    self._it, self._seen = iter(self.batches), 0
                    batch = next(self._it, None)
                    if batch is None:
                        break
                else:
                    self.known = self.known or self._seen
                    self._warn(step)
                    self._seen = self.known
                    break
            self._seen += 1
            yield batch
        if self.known and self._seen >= self.known:
            self._it = None

    def _warn(self, step: int) -> None:
        warnings.warn(
            f"fit: the training data ran out after {step} of steps_per_epoch={self.steps} "
            f"batches of this epoch (a pass over it is {self.known} batches, and it runs on "
            "across epochs); the epoch ends early and the next one starts a new pass. A "
            f"steps_per_epoch that divides {self.known} avoids short epochs.",
            UserWarning, stacklevel=_caller_stacklevel())


def _limited(batches, steps: int | None, what: str):
    """The first ``steps`` batches of ``batches`` (all without ``steps``); a warning when there
    are fewer."""
    if steps is None:
        yield from batches
        return
    got = 0
    for batch in batches:
        yield batch
        got += 1
        if got == steps:
            return
    _ran_out(what, got, steps)


def _steps_shown(batches, steps: int | None) -> int | None:
    """The batch count the progress bar and callbacks see."""
    known = _known_len(batches)
    if steps is None:
        return known
    return min(steps, known) if known else steps


def _class_weighter(model, class_weight, batches):
    """A :class:`ClassWeighter` for ``class_weight``, checked against the model's classes."""
    if class_weight is None:
        return None
    kind = model._loss_kind
    n_classes = None
    if kind in ("binary", "binary_logits"):
        n_classes = 2
    elif kind in ("sparse", "categorical") and isinstance(batches, da.ArrayBatches) and batches.n:
        out = probe_output(model, batches.x)
        if out is not None and out.ndim >= 2:
            n_classes = int(out.shape[1])
    return ClassWeighter(class_weight_table(class_weight, n_classes, kind))


def fit(model, x=None, y=None, batch_size=32, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
        device=None, class_weight=None, sample_weight=None, steps_per_epoch=None,
        validation_steps=None, validation_batch_size=None, validation_freq=1) -> History:
    """See :meth:`ember.models.model.Model.fit`."""
    model._check_compiled("fit")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if initial_epoch < 0 or initial_epoch > epochs:
        raise ValueError(f"initial_epoch must be in 0..epochs ({epochs}), got {initial_epoch}")
    steps_per_epoch = _check_steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = _check_steps(validation_steps, "validation_steps")
    if validation_batch_size is None:
        validation_batch_size = batch_size
    elif isinstance(validation_batch_size, bool) or not isinstance(
            validation_batch_size, (int, np.integer)) or validation_batch_size < 1:
        raise ValueError(f"validation_batch_size must be a positive int or None (then it is "
                         f"batch_size), got {validation_batch_size!r}")
    schedule = _validation_schedule(validation_freq)
    if da.is_loader(x) or da.is_dataset(x):
        da.check_no_sample_weight(x, sample_weight, "fit")
    verbose = resolve_verbose(verbose)
    dev = _device_for(model, device)

    if validation_data is None and validation_split:
        (x, y, sample_weight), (xv, yv, wv) = da.split_validation(x, y, validation_split,
                                                                  sample_weight)
        validation_data = xv if yv is None else (xv, yv, wv)
        warn_if_sorted_split(y, yv, validation_split)
    train_batches = _prepare(model, x, y, batch_size, shuffle, dev, "fit", sample_weight)
    weigh_classes = _class_weighter(model, class_weight, train_batches)
    val_batches = None
    if validation_data is not None:
        val_batches = _validation_batches(model, validation_data, validation_batch_size, dev)
    group = _process_group()
    undo_distributed = None
    if group is not None:
        # data parallel: batch_size is per rank (the global batch is batch_size * world_size);
        # weighted losses need nothing more: each rank's epoch sums are sum(w * loss) and the
        # sums and sample counts of all ranks are added (_reduce_logs)
        train_batches, val_batches, callbacks, undo_distributed = _distribute(
            model, group, train_batches, val_batches, callbacks)
        if group.rank != 0:
            verbose = 0

    history = History()
    cbs = _callback_list(callbacks, model, verbose)
    has_nan_guard = any(isinstance(cb, TerminateOnNaN) for cb in cbs)
    cbs.append(history)
    feed = _TrainFeed(train_batches, steps_per_epoch)
    steps = steps_per_epoch or _known_len(train_batches)
    params = {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size,
              "do_validation": val_batches is not None}
    cbs.set_model(model)
    cbs.set_params(params)
    history.params = params
    history.settings = run_settings(model, cbs, epochs, batch_size)
    model.history = history
    model.stop_training = False
    model.optimizer.zero_grad()
    passthrough = set(model.metrics_names)
    was_training = model.training

    epoch, step = initial_epoch, -1
    warned_nan = False
    cbs.on_train_begin({})
    try:
        for epoch in range(initial_epoch, epochs):
            model.train()
            model.reset_metrics()
            cbs.on_epoch_begin(epoch, {})
            running = _EpochLogs(passthrough)
            if hasattr(train_batches, "set_epoch"):
                train_batches.set_epoch(epoch)
            for step, batch in enumerate(feed.epoch()):
                cbs.on_train_batch_begin(step, {})
                if weigh_classes is not None:
                    batch = weigh_classes(batch)
                logs = model.train_step(batch)
                if not isinstance(logs, dict):
                    raise TypeError(
                        f"train_step must return a dict of logs such as {{'loss': loss}}, got "
                        f"{type(logs).__name__}"
                    )
                logs = _scalars(logs)
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
                if group is not None:
                    model.stop_training = _any_rank(group, model.stop_training)
                if model.stop_training:
                    break
            epoch_logs = running.result() if group is None else _reduce_logs(running, model, group)
            if val_batches is not None and _validates(epoch, schedule):
                val_logs = run_evaluation(model, _limited(val_batches, validation_steps,
                                                          "fit (validation_steps)"), None, group)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        done = len(history.epoch)
        print(f"\nTraining interrupted (Ctrl-C) during epoch {epoch + 1}, batch {step + 1}; "
              f"returning the history of the {done} completed epoch(s).", file=sys.stderr)
    finally:
        model.train(was_training)
        if undo_distributed is not None:
            undo_distributed()
    cbs.on_train_end()
    return history


def run_evaluation(model, batches, cbs: Callback | None, group=None) -> dict:
    """Loss and metrics over ``batches`` with ``test_step`` (no gradients, eval mode).

    With a process ``group``, ``batches`` is this rank's shard and the result covers all ranks.
    """
    from ember.autograd import no_grad

    was_training = model.training
    model.eval()
    model.reset_metrics()
    running = _EpochLogs(set(model.metrics_names))
    if cbs is not None:
        cbs.on_test_begin({})
    try:
        with no_grad():
            for step, batch in enumerate(batches):
                if cbs is not None:
                    cbs.on_test_batch_begin(step, {})
                logs = model.test_step(batch)
                if not isinstance(logs, dict):
                    raise TypeError(f"test_step must return a dict of logs, got {type(logs).__name__}")
                batch_logs = running.add(_scalars(logs), da.batch_length(batch))
                if cbs is not None:
                    cbs.on_test_batch_end(step, batch_logs)
    finally:
        model.train(was_training)
    result = running.result() if group is None else _reduce_logs(running, model, group)
    if cbs is not None:
        cbs.on_test_end(dict(result))
    return result


def evaluate(model, x=None, y=None, batch_size=32, verbose="auto", return_dict=False,
             callbacks=None, device=None, sample_weight=None, steps=None):
    """See :meth:`ember.models.model.Model.evaluate`."""
    model._check_compiled("evaluate")
    steps = _check_steps(steps, "steps")
    if da.is_loader(x) or da.is_dataset(x):
        da.check_no_sample_weight(x, sample_weight, "evaluate")
    verbose = resolve_verbose(verbose)
    dev = _device_for(model, device)
    batches = _prepare(model, x, y, batch_size, False, dev, "evaluate", sample_weight)
    group = _process_group()
    if group is not None:  # each rank evaluates its shard; the results are combined
        batches = da.shard_batches(batches, group.rank, group.world_size, False)
        if group.rank != 0:
            verbose = 0
            callbacks = [cb for cb in (callbacks or []) if not _is_writer(cb)]
    cbs = _callback_list(callbacks, model, verbose)
    cbs.set_params({"steps": _steps_shown(batches, steps), "verbose": verbose})
    logs = run_evaluation(model, _limited(batches, steps, "evaluate (steps)"), cbs, group)
    if return_dict:
        return logs
    names = ["loss"] + [m for m in model.metrics_names if m in logs]
    values = [logs[k] for k in names if k in logs]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=32, verbose=0, callbacks=None, device=None,
            steps=None) -> np.ndarray:
    """See :meth:`ember.models.model.Model.predict`."""
    from ember.autograd import no_grad

    steps = _check_steps(steps, "steps")
    verbose = resolve_verbose(verbose)
    dev = _device_for(model, device)
    batches = da.make_batches(x, None, batch_size, False, dev, "predict", requires_y=False)
    cbs = _callback_list(callbacks, model, verbose)
    cbs.set_params({"steps": _steps_shown(batches, steps), "verbose": verbose})
    was_training = model.training
    model.eval()
    outputs = []
    cbs.on_predict_begin({})
    try:
        with no_grad():
            for step, batch in enumerate(_limited(batches, steps, "predict (steps)")):
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
