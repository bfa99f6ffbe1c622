"""The lab's training settings: learning-rate schedules and fitting without the test set."""

import dataclasses

import numpy as np
import pytest

from ember import lab
from ember.callbacks import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau


def _iris_without_test():
    data = lab.iris_data(0)
    data.x_test = data.y_test = None  # fit_model must not need them
    return data


def test_training_callbacks_follow_the_config():
    constant = lab.TrainConfig(epochs=3, batch_size=16, lr=0.01, patience=2)
    assert [type(c) for c in lab.training_callbacks(constant)] == [EarlyStopping]
    plateau = dataclasses.replace(constant, lr_schedule="plateau", lr_factor=0.2, lr_patience=1)
    cbs = lab.training_callbacks(plateau)
    # The rate is lowered before early stopping decides, so the schedule comes first.
    assert [type(c) for c in cbs] == [ReduceLROnPlateau, EarlyStopping]
    assert (cbs[0].monitor, cbs[0].factor, cbs[0].patience) == ("val_loss", 0.2, 1)
    no_stop = dataclasses.replace(constant, patience=None, lr_schedule="exponential")
    assert [type(c) for c in lab.training_callbacks(no_stop)] == [LearningRateScheduler]


def test_unknown_schedule_is_refused():
    cfg = lab.TrainConfig(epochs=1, batch_size=16, lr=0.01, lr_schedule="cosine")
    with pytest.raises(ValueError, match="unknown lr_schedule 'cosine'"):
        lab.training_callbacks(cfg)


def test_exponential_schedule_sets_each_epochs_rate():
    cfg = lab.TrainConfig(epochs=4, batch_size=16, lr=0.01, lr_schedule="exponential",
                          lr_factor=0.5)
    history = lab.fit_model(lab.build_model("iris", "linear"), _iris_without_test(), cfg, seed=0)
    np.testing.assert_allclose(history.history["learning_rate"], [0.01, 0.005, 0.0025, 0.00125])


def test_plateau_schedule_lowers_the_rate_after_a_flat_epoch():
    # A rate far too high for Adam on Iris makes the validation loss bounce: some epochs fail
    # to beat the best, and each of those halves the next epoch's rate.
    cfg = lab.TrainConfig(epochs=6, batch_size=16, lr=2.0, lr_schedule="plateau",
                          lr_factor=0.5, lr_patience=1)
    history = lab.fit_model(lab.build_model("iris", "linear"), _iris_without_test(), cfg, seed=0)
    expected, best, lr = [], np.inf, 2.0
    for loss in history.history["val_loss"]:
        expected.append(lr)
        if loss < best - 1e-4:
            best = loss
        else:
            lr *= 0.5
    assert min(expected) < 2.0  # the run did plateau, so the schedule was exercised
    np.testing.assert_allclose(history.history["learning_rate"], expected)


def test_fit_model_restores_the_best_epoch_without_touching_the_test_set():
    cfg = lab.TrainConfig(epochs=6, batch_size=16, lr=0.05, patience=2)
    data = _iris_without_test()
    model = lab.build_model("iris", "linear")
    history = lab.fit_model(model, data, cfg, seed=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert lab.test_accuracy(model, data.x_val, data.y_val) == pytest.approx(
        history.history["val_accuracy"][best])

