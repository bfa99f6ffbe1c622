"""ReduceLROnPlateau: lower the learning rate when a monitored quantity stops improving."""

from __future__ import annotations

from ember.callbacks.callback import Callback
from ember.callbacks.monitor import check_state, is_better, monitored_value, resolve_mode


def optimizer_of(model, owner: str):
    """The compiled optimizer of ``model``, or a clear error."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "param_groups"):
        raise RuntimeError(
            f"{owner} needs the model's optimizer; call model.compile(optimizer=...) before fit()"
        )
    return optimizer


class ReduceLROnPlateau(Callback):
    """Multiply every param group's learning rate by ``factor`` after ``patience`` flat epochs.

    Keras' semantics: an epoch improves when ``monitor`` beats the best value by more than
    ``min_delta``; after ``patience`` epochs without improvement the rate becomes
    ``max(lr * factor, min_lr)`` and ``cooldown`` epochs pass before waiting starts again. The
    current rate is logged as ``learning_rate`` (first param group).

    Args:
        monitor: the log key to watch.
        factor: multiplier for the learning rate (< 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the learning rate never goes below this.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be between 0 and 1, got {factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = resolve_mode(monitor, mode, "ReduceLROnPlateau")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self) -> None:
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    _STATE = ("best", "wait", "cooldown_counter")

    def state_dict(self) -> dict:
        """The best value, the wait and the cooldown left (the rates live in the optimizer)."""
        state = {k: getattr(self, k) for k in self._STATE}
        state.update(monitor=self.monitor, mode=self.mode)
        return state

    def load_state_dict(self, state: dict) -> None:
        check_state("ReduceLROnPlateau", state, {"monitor": self.monitor, "mode": self.mode},
                    self._STATE)
        for k in self._STATE:
            setattr(self, k, state[k])

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        optimizer = optimizer_of(self.model, "ReduceLROnPlateau")
        if logs is not None:
            logs["learning_rate"] = float(optimizer.param_groups[0]["lr"])
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if is_better(current, self.best, self.mode, self.min_delta):
            self.best = current
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        reduced = False
        for group in optimizer.param_groups:
            old = float(group["lr"])
            if old > self.min_lr:
                group["lr"] = max(old * self.factor, self.min_lr)
                reduced = True
        if reduced:
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{optimizer.param_groups[0]['lr']:.4g}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0
