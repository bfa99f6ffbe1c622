"""``fit``, ``evaluate`` and ``predict``: the Keras-style entry points of a :class:`Model`.

Each documents its arguments and hands them to the loops in :mod:`ember.models.trainer`; the
steps they run (``train_step``/``test_step``/``predict_step``) live on the model itself.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ember.models import trainer


class FitAPI:
    """Mixin for :class:`~ember.models.Model`: the three loops' public methods."""

    def fit(self, x: Any = None, y: Any = None, batch_size: int = 32, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            initial_epoch: int = 0, device: Any = None,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None,
            validation_freq: int | Iterable[int] = 1):
        """Train for ``epochs`` epochs; returns a :class:`~ember.callbacks.history.History`.

        Args:
            x: inputs as a NumPy array or Tensor (with ``y``), a ``Dataset`` yielding
                ``(x, y)`` or ``(x, y, sample_weight)``, or a ``DataLoader`` (then
                ``batch_size``/``shuffle`` are the loader's), or a Python generator of such
                batches (read once: one epoch until it ends, or ``steps_per_epoch`` per epoch).
                NumPy float64 arrays are cast to the default float dtype.
            y: targets for array ``x``.
            batch_size: samples per gradient step.
            epochs: index of the last epoch (epochs run from ``initial_epoch`` to ``epochs``).
            verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch, ``"auto"`` 1 in
                a terminal or notebook and 2 otherwise.
            callbacks: :class:`~ember.callbacks.Callback` objects.
            validation_split: fraction of the samples held out for validation, taken from the
                end of ``x``/``y`` (and ``sample_weight``) before shuffling (as Keras).
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)`` (then
                ``val_loss`` is weighted), a Dataset or a DataLoader; overrides
                ``validation_split``.
            shuffle: reshuffle the training samples every epoch (from ember's seeded generator).
            initial_epoch: epoch to start from (to resume a run).
            device: move the model (and batches) there first; default: the parameters' device.
            class_weight: ``{class index: weight}`` for the training loss (classes not named
                weigh 1.0); a sample's class is its integer label, its rounded 0/1 target or the
                argmax of its one-hot row. Works with any input; validation is not class-weighted
                (as Keras).
            sample_weight: one non-negative weight per sample of array ``x`` (1-D, aligned with
                ``x``). With a Dataset/DataLoader this is an error: let it yield
                ``(x, y, sample_weight)`` instead. With ``class_weight`` the two multiply.
            steps_per_epoch: at most this many batches per epoch (the progress bar and callbacks
                count these). As in Keras 3 one pass over the data runs on across epochs, so
                every batch gets used; an epoch that finds the data used up before its
                ``steps_per_epoch`` batches warns and ends early, and the next starts a new pass.
            validation_steps: at most this many validation batches each time, always the first
                ones (the same samples every epoch).
            validation_batch_size: samples per validation batch (default ``batch_size``;
                a validation DataLoader keeps its own).
            validation_freq: validate every ``validation_freq`` epochs (after epochs ``k`` with
                ``k % validation_freq == 0``, counting from 1, as Keras), or after the epochs of
                a list of 1-based epoch numbers, e.g. ``[1, 5, 10]``.

        Returns:
            The History (also kept as ``model.history``): ``history.history["loss"]`` holds each
            epoch's mean training loss (sample-weighted over the epoch's batches), ``"val_loss"``
            and the metrics likewise. Epochs without validation (``validation_freq``) have no
            ``val_*`` entries: those lists are shorter, and ``history.epochs_for("val_loss")``
            says which epochs they belong to.

        With ``sample_weight``/``class_weight`` the loss is Keras 3's ``"sum_over_batch_size"``:
        ``sum(w_i * loss_i) / batch_size``, from per-sample losses (the compiled loss with
        ``reduction="none"``; a plain loss function must return one value per sample, else
        fitting raises a ``ValueError``). Metrics stay unweighted.

        Everything is checked before the first step: compile was called, ``x`` and ``y`` (and
        ``sample_weight``) have the same length, the labels fit the loss and the model's output,
        the other arguments are valid. A NaN/inf loss warns once (``TerminateOnNaN`` stops
        instead). Ctrl-C ends the run cleanly after the current training step (no update is
        half applied): callbacks' end actions run (``EarlyStopping`` restores the best weights)
        and the History of the completed epochs is returned with ``history.interrupted = True``.
        To resume an interrupted run exactly, give it ``ember.callbacks.BackupAndRestore``.
        """
        return trainer.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                   callbacks=callbacks, validation_split=validation_split,
                   validation_data=validation_data, shuffle=shuffle, initial_epoch=initial_epoch,
                   device=device, class_weight=class_weight, sample_weight=sample_weight,
                   steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                   validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int = 32,
                 verbose: int | str = "auto", return_dict: bool = False,
                 callbacks: list | None = None, device: Any = None, sample_weight: Any = None,
                 steps: int | None = None):
        """Loss and metrics on data, without training (eval mode, no gradients).

        Args:
            x, y: as for :meth:`fit` (a Dataset may yield ``(x, y, sample_weight)``).
            batch_size: samples per batch (a DataLoader keeps its own).
            verbose: 0 silent, 1 a progress bar, 2 one line, ``"auto"`` as in :meth:`fit`.
            return_dict: return ``{"loss": ..., name: ...}`` instead of a list.
            callbacks: :class:`~ember.callbacks.Callback` objects (``on_test_*`` events).
            device: move the model (and batches) there first.
            sample_weight: one weight per sample of array ``x``; the loss is then
                ``sum(w_i * loss_i) / N`` (Keras' ``"sum_over_batch_size"``), metrics stay
                unweighted. An error with a Dataset/DataLoader (let it yield the weights).
            steps: evaluate only the first ``steps`` batches (a warning if there are fewer).

        Returns the loss alone when no metrics were compiled, else ``[loss, metric, ...]`` in
        compile order, or ``{"loss": ..., name: ...}`` with ``return_dict=True``.
        """
        return trainer.evaluate(self, x, y, batch_size, verbose, return_dict, callbacks, device,
                        sample_weight=sample_weight, steps=steps)

    def predict(self, x: Any, batch_size: int = 32, verbose: int | str = 0,
                callbacks: list | None = None, device: Any = None,
                steps: int | None = None) -> np.ndarray:
        """The model's outputs for ``x`` (arrays, Tensor, Dataset or DataLoader; targets and
        sample weights are ignored), batch by batch in eval mode, concatenated into one NumPy
        array.

        ``steps`` predicts only the first ``steps`` batches (a warning if there are fewer). For
        classification with logits, ``predict(x).argmax(1)`` gives the classes.
        """
        return trainer.predict(self, x, batch_size, verbose, callbacks, device, steps=steps)
