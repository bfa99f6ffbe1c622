"""The feed: which batches each epoch (or evaluation) gets, after Keras 3's ``EpochIterator``.

:class:`EpochIterator` hands ``fit`` the training batches of each epoch, honouring
``steps_per_epoch`` and weighting each batch by ``class_weight``; :func:`limited` cuts
evaluation and prediction at ``steps``. The argument checks for the step counts and
``validation_freq`` live here too.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from ember.models import data_adapter as da
from ember.models.input_checks import probe_output
from ember.models.weighting import ClassWeighter, class_weight_table


def check_steps(value, name: str) -> int | None:
    """``value`` as a positive int, or ``None`` (no limit)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name} must be a positive int (a number of batches) or None for all "
                         f"of the data, got {value!r}")
    return int(value)


def validation_schedule(validation_freq) -> Any:
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


def validates(epoch: int, schedule) -> bool:
    """Whether 0-based ``epoch`` ends with validation (Keras counts the epochs from 1)."""
    if isinstance(schedule, int):
        return (epoch + 1) % schedule == 0
    return epoch + 1 in schedule


def known_len(batches) -> int | None:
    """The number of batches, when the data knows it (and it is not 0)."""
    try:
        return len(batches) or None
    except TypeError:
        return None


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside ember."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("ember."):
        frame, level = frame.f_back, level + 1
    return level


def limited(batches, steps: int | None, what: str):
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
    warnings.warn(
        f"{what}: the data ran out after {got} of {steps} steps; make sure it can give at least "
        f"{steps} batches, or lower the number of steps",
        UserWarning, stacklevel=caller_stacklevel())


def steps_shown(batches, steps: int | None) -> int | None:
    """The batch count the progress bar and callbacks see."""
    known = known_len(batches)
    if steps is None:
        return known
    return min(steps, known) if known else steps


def class_weighter(model, class_weight, batches) -> ClassWeighter | None:
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


class EpochIterator:
    """The training batches of each epoch, class-weighted when ``weigh`` is given.

    Without ``steps_per_epoch`` an epoch is one pass over the data. With it, as in Keras 3, one
    pass runs on across epochs (epoch 2 continues where epoch 1 stopped, so no batch is skipped)
    and a new pass starts once the data is used up; an epoch that finds the data used up before
    its ``steps_per_epoch`` batches warns and ends early.
    """

    def __init__(self, batches, steps_per_epoch: int | None = None,
                 weigh: Callable | None = None):
        self.batches = batches
        self.steps = steps_per_epoch
        self.weigh = weigh
        self.known = known_len(batches)
        self._it = None
        self._seen = 0
        self._epoch_steps = 0
        # for BackupAndRestore: the random streams when the current pass began, so that a
        # resumed run can draw the same order again and skip the batches already used
        self.generators: list | None = None
        self._pass_random = None
        self._pending = None

    @property
    def steps_per_epoch(self) -> int | None:
        """The batches an epoch has, as the callbacks are told (``None`` when unknown)."""
        return self.steps or known_len(self.batches)

    def track(self, generators: list) -> None:
        """Record where each pass starts (the random streams: ember's and ``generators``), so
        that :meth:`position` can say where the feed stands."""
        self.generators = list(generators)

    def position(self, epoch_ended: bool) -> dict | None:
        """Where the feed stands within its current pass (``None`` between passes): the random
        streams at the pass's start, the batches used from it, and those of the current epoch
        (0 once ``epoch_ended``)."""
        if self._it is None or self._pass_random is None:
            return None
        return {"random": self._pass_random, "seen": self._seen,
                "epoch_steps": 0 if epoch_ended else self._epoch_steps}

    def resume_from(self, position: dict) -> None:
        """Continue from a :meth:`position` of another run: the next epoch draws that pass's
        order again and skips the batches it had used (the random streams are left as they
        were when the skipping began)."""
        self._pending = position

    def epoch(self, epoch: int) -> Iterator:
        """The batches of 0-based ``epoch`` (a sampler with ``set_epoch`` is told the epoch)."""
        if hasattr(self.batches, "set_epoch"):
            self.batches.set_epoch(epoch)
        for batch in self._raw_epoch():
            yield batch if self.weigh is None else self.weigh(batch)

    def _new_pass(self) -> None:
        from ember.random import capture_streams

        self._pass_random = capture_streams(self.generators) if self.generators is not None \
            else None
        self._it, self._seen = iter(self.batches), 0

    def _resume_pass(self) -> int:
        """Re-open the pending position's pass and skip its used batches; returns the steps
        the current epoch had already run."""
        from ember.random import capture_streams, restore_streams

        position, self._pending = self._pending, None
        generators = self.generators or []
        now = capture_streams(generators)
        restore_streams(position["random"], generators)
        self._it, self._seen = iter(self.batches), 0
        for _ in range(int(position["seen"])):
            if next(self._it, None) is None:
                raise ValueError(
                    f"fit: resuming needs the {position['seen']} batches the interrupted run had "
                    f"used in this pass, but the data gave only {self._seen}; resume with the "
                    "same data as the interrupted run")
            self._seen += 1
        self._pass_random = position["random"]
        restore_streams(now, generators)
        return int(position["epoch_steps"])

    def _raw_epoch(self) -> Iterator:
        if self.steps is None:
            if self._pending is not None:
                self._epoch_steps = self._resume_pass()
            else:
                self._new_pass()
                self._epoch_steps = 0
            for batch in self._it:
                self._seen += 1
                self._epoch_steps += 1
                yield batch
            self._it = self._pass_random = None
            return
        start = 0
        if self._pending is not None:
            start = self._resume_pass()
        elif self._it is None:
            self._new_pass()
        self._epoch_steps = start
        for step in range(start, self.steps):
            if self.known and self._seen >= self.known:
                self._warn(step)
                break
            try:
                batch = next(self._it)
            except StopIteration:
                if getattr(self.batches, "one_shot", False):
                    break  # a generator is read once: fit stops at the next empty epoch
                if step == 0 and self._seen:  # data of unknown size ended with the last epoch
                    self._new_pass()
                    batch = next(self._it, None)
                    if batch is None:
                        break
                else:
                    self.known = self.known or self._seen
                    self._warn(step)
                    self._seen = self.known
                    break
            self._seen += 1
            self._epoch_steps += 1
            yield batch
        if self.known and self._seen >= self.known:
            self._it = self._pass_random = None

    def _warn(self, step: int) -> None:
        warnings.warn(
            f"fit: the training data ran out after {step} of steps_per_epoch={self.steps} "
            f"batches of this epoch (a pass over it is {self.known} batches, and it runs on "
            "across epochs); the epoch ends early and the next one starts a new pass. A "
            f"steps_per_epoch that divides {self.known} avoids short epochs.",
            UserWarning, stacklevel=caller_stacklevel())
