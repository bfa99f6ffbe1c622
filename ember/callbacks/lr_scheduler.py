"""LearningRateScheduler: set the learning rate each epoch from a function or a scheduler."""

from __future__ import annotations

from typing import Any, Callable

from ember.callbacks.callback import Callback
from ember.callbacks.reduce_lr_on_plateau import optimizer_of


class LearningRateScheduler(Callback):
    """Drive the optimizer's learning rate epoch by epoch.

    ``schedule`` is either

    * a function ``schedule(epoch, lr) -> new_lr`` (Keras): called at the start of every epoch
      (0-based) with the current rate of the first param group; the result is set on every group;
    * an ``ember.optim.lr_scheduler`` object built on the compiled optimizer (PyTorch): its
      ``step()`` is called at the end of every epoch, as in a hand-written PyTorch loop. A
      ``ReduceLROnPlateau`` scheduler is stepped with ``logs[monitor]``.

    The rate used during each epoch is logged as ``learning_rate``.

    Args:
        schedule: the function or scheduler object.
        verbose: 1 prints the rate at the start of each epoch.
        monitor: the log key passed to a plateau scheduler's ``step``.
    """

    def __init__(self, schedule: Callable[[int, float], float] | Any, verbose: int = 0,
                 monitor: str = "val_loss"):
        super().__init__()
        is_scheduler = hasattr(schedule, "step") and not callable(schedule)
        if not callable(schedule) and not is_scheduler:
            raise TypeError(
                "LearningRateScheduler needs schedule(epoch, lr) -> lr or an "
                f"ember.optim.lr_scheduler object, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.is_scheduler = is_scheduler
        self.verbose = verbose
        self.monitor = monitor
        self._epoch_lr = None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        optimizer = optimizer_of(self.model, "LearningRateScheduler")
        if not self.is_scheduler:
            lr = self.schedule(epoch, float(optimizer.param_groups[0]["lr"]))
            try:
                lr = float(lr)
            except (TypeError, ValueError):
                raise TypeError(
                    f"LearningRateScheduler: schedule(epoch, lr) must return a number, got {lr!r}"
                ) from None
            for group in optimizer.param_groups:
                group["lr"] = lr
        self._epoch_lr = float(optimizer.param_groups[0]["lr"])
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{self._epoch_lr:.6g}.")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None and self._epoch_lr is not None:
            logs["learning_rate"] = self._epoch_lr
        if self.is_scheduler:
            if type(self.schedule).__name__ == "ReduceLROnPlateau":
                value = (logs or {}).get(self.monitor)
                if value is None:
                    raise KeyError(
                        f"LearningRateScheduler: the plateau scheduler needs {self.monitor!r} in "
                        f"the logs (available: {', '.join(sorted(logs or {}))}); set monitor="
                    )
                self.schedule.step(value)
            else:
                self.schedule.step()
