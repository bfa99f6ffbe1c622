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

    def state_dict(self) -> dict:
        """The rate of the current epoch and, for a scheduler object, its ``state_dict()`` (a
        function schedule keeps no state: it is called again with the restored rate)."""
        state: dict = {"epoch_lr": self._epoch_lr, "scheduler": None}
        if self.is_scheduler:
            state["scheduler"] = {k: v for k, v in self.schedule.state_dict().items()
                                  if not callable(v)}
        return state

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "epoch_lr" not in state or "scheduler" not in state:
            raise ValueError("LearningRateScheduler.load_state_dict expects {'epoch_lr', "
                             f"'scheduler'}}, got {state!r}")
        if (state["scheduler"] is None) == self.is_scheduler:
            saved = "a scheduler object" if state["scheduler"] is not None else "a function"
            mine = "a scheduler object" if self.is_scheduler else "a function"
            raise ValueError(f"LearningRateScheduler.load_state_dict: the state was saved with "
                             f"{saved} as schedule but this callback has {mine}")
        if self.is_scheduler:
            self.schedule.load_state_dict(state["scheduler"])
        self._epoch_lr = state["epoch_lr"]

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
