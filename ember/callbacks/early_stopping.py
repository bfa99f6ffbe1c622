"""EarlyStopping: stop when a monitored quantity has stopped improving."""

from __future__ import annotations

from ember.callbacks.callback import Callback
from ember.callbacks.monitor import (
    check_state, is_better, monitored_value, resolve_mode, restore_weights, snapshot_weights,
)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    Every epoch (from ``start_from_epoch`` on) counts one more epoch of waiting; an improvement
    (by more than ``min_delta``, in the direction of ``mode``) records the best value and epoch and,
    if it also beats ``baseline``, resets the wait. Once the wait reaches ``patience`` (and it is
    not the first epoch) training stops; ``stopped_epoch`` is that epoch (0-based, 0 if it never
    stopped) and ``best_epoch`` the best one.

    With ``restore_best_weights=True`` the weights from the end of the best epoch are put back at
    the end of training: after an early stop, after the last epoch if it never stopped early (as
    Keras 3 does), and after a Ctrl-C. Before any improvement the first monitored epoch's weights
    count as the best.

    Args:
        monitor: the log key to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a message when stopping and restoring.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the name: losses down, accuracies up).
        baseline: a value the monitored quantity must beat for the wait to reset.
        restore_best_weights: restore the best epoch's weights at the end of training.
        start_from_epoch: epochs to let pass (warm-up) before watching.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = resolve_mode(monitor, mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    _STATE = ("wait", "stopped_epoch", "best", "best_epoch", "best_weights")

    def state_dict(self) -> dict:
        """The wait, the best value and epoch, the best weights (a snapshot) and the stop epoch;
        ``monitor`` and ``mode`` too, to refuse a state recorded for another quantity."""
        state = {k: getattr(self, k) for k in self._STATE}
        state.update(monitor=self.monitor, mode=self.mode)
        return state

    def load_state_dict(self, state: dict) -> None:
        check_state("EarlyStopping", state, {"monitor": self.monitor, "mode": self.mode},
                    self._STATE)
        for k in self._STATE:
            setattr(self, k, state[k])

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = monitored_value(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = snapshot_weights(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if is_better(current, self.best, self.mode, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = snapshot_weights(self.model)
            if self.baseline is None or is_better(current, self.baseline, self.mode, self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            restore_weights(self.model, self.best_weights)
