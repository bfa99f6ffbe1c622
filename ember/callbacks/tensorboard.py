"""TensorBoard: write the training curves (and weight histograms) as TensorBoard event files.

The files are written by ``tensorboardX``, a standalone writer of TensorBoard's event format
(``pip install "ember[tensorboard]"`` or ``pip install tensorboardX``); TensorBoard itself is
only needed to look at them: ``tensorboard --logdir LOG_DIR``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ember.callbacks.callback import Callback


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("callbacks.TensorBoard writes its event files with tensorboardX: "
                          "pip install tensorboardX (or the ember[tensorboard] extra)") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Log each epoch's losses and metrics (and, on request, weight histograms) for TensorBoard,
    laid out as Keras does: ``log_dir/train`` holds the training values, ``log_dir/validation``
    the validation ones, both under the tags ``epoch_<name>`` (``epoch_loss``,
    ``epoch_accuracy``, ...), so TensorBoard draws train and validation on one chart per metric.
    The learning rate is logged as ``epoch_learning_rate``.

    Args:
        log_dir: the folder of the event files (created if missing).
        histogram_freq: every this many epochs, write a histogram of every parameter (tag: its
            ``state_dict`` name); 0 writes none.
        update_freq: ``"epoch"`` (default), or ``"batch"`` / an integer ``n`` to also log the
            training logs every ``n`` batches under ``batch_<name>``.
        write_steps_per_second: also log the training speed (``epoch_steps_per_second``).
    """

    rank_zero_only = True  # under a distributed fit only rank 0 writes files

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 update_freq: str | int = "epoch", write_steps_per_second: bool = False,
                 **kwargs: Any):
        super().__init__()
        unknown = set(kwargs) - {"write_graph", "write_images", "profile_batch",
                                 "embeddings_freq", "embeddings_metadata"}
        if unknown:
            raise TypeError(f"TensorBoard got unexpected arguments {sorted(unknown)}")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, got {histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1, "
                             f"got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = update_freq
        self.write_steps_per_second = write_steps_per_second
        self._writers: dict[str, Any] = {}
        self._global_batch = 0
        self._epoch_start = None
        self._epoch_steps = 0
        _summary_writer()  # fail at construction, not after the first epoch

    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = _summary_writer()(
                logdir=os.path.join(self.log_dir, which), flush_secs=10)
        return self._writers[which]

    def on_train_begin(self, logs=None) -> None:
        os.makedirs(self.log_dir, exist_ok=True)
        self._global_batch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        import time

        self._epoch_start = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._global_batch += 1
        self._epoch_steps += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            number = _number(value)
            if number is not None:
                writer.add_scalar(f"batch_{name}", number, self._global_batch)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        import time

        logs = logs or {}
        train, validation = self._writer("train"), None
        for name, value in logs.items():
            number = _number(value)
            if number is None:
                continue
            if name.startswith("val_"):
                validation = validation or self._writer("validation")
                validation.add_scalar(f"epoch_{name[4:]}", number, epoch)
            else:
                train.add_scalar(f"epoch_{name}", number, epoch)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in logs and "lr" not in logs:
            train.add_scalar("epoch_learning_rate", float(optimizer.param_groups[0]["lr"]), epoch)
        if self.write_steps_per_second and self._epoch_start is not None:
            seconds = time.perf_counter() - self._epoch_start
            if seconds > 0:
                train.add_scalar("epoch_steps_per_second", self._epoch_steps / seconds, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            for name, tensor in self.model.state_dict().items():
                values = np.asarray(tensor.detach().cpu()).astype(np.float64)
                if values.size:
                    train.add_histogram(name, values, epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the event files (``fit`` does this at its end)."""
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _number(value) -> float | None:
    """A float from a log value (number, one-element tensor or array); ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.number)):
        return float(value)
    try:
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(())) if arr.size == 1 and arr.dtype.kind in "fiu" else None
