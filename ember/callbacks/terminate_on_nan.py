"""TerminateOnNaN: stop training as soon as the loss is NaN or infinite."""

from __future__ import annotations

import math

from ember.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or ±inf.

    After the stop, ``stopped_epoch`` and ``stopped_batch`` (0-based) say where it happened.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None
        self._epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.stopped_epoch = self.stopped_batch = None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Epoch {self._epoch + 1}, batch {batch}: invalid loss ({float(loss)}), "
                  "terminating training")
            self.stopped_epoch, self.stopped_batch = self._epoch, batch
            self.model.stop_training = True
