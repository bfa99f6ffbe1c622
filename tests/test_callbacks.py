"""Callbacks driven by small deterministic models, with scripted validation curves."""

import math
import os
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.callbacks import (
    Callback, CallbackList, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
    ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN,
)


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return x, y


def _model(lr=0.1, seed=0):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model.compile(ember.optim.SGD(model.parameters(), lr=lr), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _weights(model):
    return {k: np.array(v.detach()) for k, v in model.state_dict().items()}


class Scripted(Callback):
    """Replaces logs[key] with a scripted value each epoch and snapshots the weights."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.snapshots.append(_weights(self.model))


def _assert_same_weights(model, snapshot):
    now = _weights(model)
    assert now.keys() == snapshot.keys()
    for k in now:
        np.testing.assert_array_equal(now[k], snapshot[k])


# ------------------------------------------------------------------------------ EarlyStopping

def test_early_stopping_stops_after_patience_and_restores_best():
    x, y = _data()
    model = _model()
    script = Scripted([1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    es = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=[script, es])
    # epoch 1 is best; epochs 2 and 3 do not improve -> stop at the end of epoch 3
    assert history.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 0.8
    assert model.stop_training
    _assert_same_weights(model, script.snapshots[1])
    assert not np.array_equal(script.snapshots[1]["0.weight"], script.snapshots[3]["0.weight"])


def test_early_stopping_restores_at_end_even_without_stopping():
    x, y = _data()
    model = _model()
    script = Scripted([1.0, 0.5, 0.7, 0.8])
    es = EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[script, es])
    assert es.stopped_epoch == 0 and es.best_epoch == 1
    _assert_same_weights(model, script.snapshots[1])


def test_early_stopping_without_restore_keeps_last_weights_and_min_delta():
    x, y = _data()
    model = _model()
    script = Scripted([1.0, 0.95, 0.93, 0.5])
    es = EarlyStopping(patience=1, min_delta=0.1)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[script, es])
    # improvements smaller than min_delta do not count: stops at epoch 1
    assert es.stopped_epoch == 1 and es.best_epoch == 0
    _assert_same_weights(model, script.snapshots[-1])


def test_early_stopping_max_mode_baseline_and_warmup():
    x, y = _data()
    es = EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    script = Scripted([0.5, 0.6, 0.55, 0.58, 0.9], key="val_accuracy")
    _model().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[script, es])
    assert es.best_epoch == 1 and es.stopped_epoch == 2

    # an unbeaten baseline: improvements below it do not reset the wait (Keras 3), so the stop
    # comes one epoch earlier than without the baseline
    for baseline, stop in ((0.95, 2), (None, 3)):
        es = EarlyStopping(monitor="val_accuracy", patience=2, baseline=baseline)
        script = Scripted([0.5, 0.6, 0.55, 0.58, 0.9], key="val_accuracy")
        h = _model().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[script, es])
        assert es.stopped_epoch == stop and len(h.epoch) == stop + 1

    es = EarlyStopping(patience=0, start_from_epoch=3)
    script = Scripted([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    h = _model().fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=[script, es])
    assert es.stopped_epoch == 4 and es.best_epoch == 3


def test_early_stopping_warns_on_missing_monitor():
    x, y = _data()
    es = EarlyStopping(monitor="val_loss")
    with pytest.warns(RuntimeWarning, match="val_loss.*available: accuracy, loss"):
        _model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[es])


# ---------------------------------------------------------------------------- ModelCheckpoint

def test_model_checkpoint_save_best_only_files_and_contents(tmp_path):
    x, y = _data()
    model = _model()
    script = Scripted([1.0, 0.8, 0.9, 0.5, 0.6])
    ckpt = ModelCheckpoint(str(tmp_path / "ckpt" / "w-{epoch:02d}-{val_loss:.2f}.safetensors"),
                           save_best_only=True)
    model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[script, ckpt])
    files = sorted(os.listdir(tmp_path / "ckpt"))
    assert files == ["w-01-1.00.safetensors", "w-02-0.80.safetensors", "w-04-0.50.safetensors"]
    probe = _model(seed=1)
    probe.load_weights(tmp_path / "ckpt" / "w-04-0.50.safetensors")
    _assert_same_weights(probe, script.snapshots[3])


def test_model_checkpoint_best_only_skips_unvalidated_epochs(tmp_path):
    # with validation_freq the epochs without val_loss have nothing to compare or to put in a
    # filepath that names it: they are skipped, not a KeyError
    x, y = _data()
    ckpt = ModelCheckpoint(str(tmp_path / "w-{epoch}-{val_loss:.3f}.safetensors"),
                           save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _model().fit(x, y, epochs=4, batch_size=8, verbose=0, validation_split=0.25,
                     validation_freq=2, callbacks=[ckpt])
    epochs = sorted(int(f.split("-")[1]) for f in os.listdir(tmp_path))
    assert epochs and set(epochs) <= {2, 4}


def test_model_checkpoint_every_epoch_overwrites_single_file(tmp_path):
    x, y = _data()
    model = _model()
    path = tmp_path / "last.safetensors"
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[ModelCheckpoint(path)])
    assert os.listdir(tmp_path) == ["last.safetensors"]
    probe = _model(seed=1)
    probe.load_weights(path)
    _assert_same_weights(probe, _weights(model))


def test_model_checkpoint_batch_frequency(tmp_path):
    x, y = _data()
    cb = ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.safetensors"), save_freq=2)
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])  # 3 batches / epoch
    assert sorted(os.listdir(tmp_path)) == ["b-1-1.safetensors", "b-2-0.safetensors",
                                            "b-2-2.safetensors"]


def test_model_checkpoint_unwritable_path_fails_before_training(tmp_path):
    x, y = _data()
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    model = _model()
    before = _weights(model)
    seen = []
    with pytest.raises(OSError, match="ModelCheckpoint cannot write"):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                  callbacks=[ModelCheckpoint(str(blocker / "w.safetensors")),
                             LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b))])
    assert seen == []
    _assert_same_weights(model, before)


# -------------------------------------------------------------------------- ReduceLROnPlateau

def test_reduce_lr_on_plateau_sequence():
    x, y = _data()
    model = _model(lr=1.0)
    script = Scripted([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    lrs = []
    rl = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    record = LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(
        model.optimizer.param_groups[0]["lr"]))
    h = model.fit(x, y, epochs=9, batch_size=24, verbose=0, callbacks=[script, rl, record])
    # e0 best; e1, e2 flat -> halve at e2 (cooldown 1); e3 cooldown ends and improves;
    # e4, e5 flat -> halve at e5; e6 cooldown ends, flat (wait 1); e7 flat -> 0.125, clipped
    # to min_lr 0.2; e8: already at min_lr
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert h.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2]


def test_reduce_lr_on_plateau_cooldown_skips_epochs():
    """cooldown=1 above is unobservable (Keras 3 semantics: the counter falls back to 0 in the very
    next epoch, before that epoch is judged); cooldown=2 leaves one epoch out of the count."""
    x, y = _data()
    model = _model(lr=1.0)
    script = Scripted([1.0] * 8)
    lrs = []
    rl = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    record = LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(
        model.optimizer.param_groups[0]["lr"]))
    model.fit(x, y, epochs=8, batch_size=24, verbose=0, callbacks=[script, rl, record])
    # e0 sets best; e1 flat -> halve, cooldown 2; e2 in cooldown (counter 2 -> 1, not counted);
    # e3 counter 1 -> 0, counted: wait 1 -> halve; e4 cooldown; e5 halve; e6 cooldown; e7 halve.
    # Without the cooldown every epoch from e1 on would halve.
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625]


# ------------------------------------------------------------------------ LearningRateScheduler

def test_learning_rate_scheduler_function_and_torch_style_scheduler():
    x, y = _data()
    model = _model(lr=0.1)
    seen = []
    cb = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    spy = LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(
        model.optimizer.param_groups[0]["lr"]) if b == 0 else None)
    h = model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[cb, spy])
    assert seen == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])

    model = _model(lr=0.1)
    step = ember.optim.lr_scheduler.StepLR(model.optimizer, step_size=2, gamma=0.1)
    h = model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                  callbacks=[LearningRateScheduler(step)])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])

    with pytest.raises(TypeError, match="schedule"):
        LearningRateScheduler(3)


# --------------------------------------------------------------------------------- CSVLogger

def test_csv_logger_contents_and_append(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    h = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25,
                  callbacks=[CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(lines) == 4
    row = lines[2].split(",")
    assert row[0] == "1"
    assert float(row[2]) == pytest.approx(h.history["loss"][1])
    assert float(row[4]) == pytest.approx(h.history["val_loss"][1])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25,
              callbacks=[CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 6 and lines[5].startswith("1;")


# ---------------------------------------------------------------------------- TerminateOnNaN

def _nan_data():
    x, y = _data()
    x[13, 0] = np.nan  # batch 13 // 4 = 3 of the first epoch (no shuffling)
    return x, y


def test_terminate_on_nan_stops_at_the_bad_batch():
    x, y = _nan_data()
    seen = []
    t = TerminateOnNaN()
    h = _model().fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                     callbacks=[t, LambdaCallback(on_train_batch_end=lambda b, l: seen.append(b))])
    assert (t.stopped_epoch, t.stopped_batch) == (0, 3)
    assert seen == [0, 1, 2, 3]
    assert len(h.epoch) == 1 and math.isnan(h.history["loss"][0])


def test_nan_loss_without_terminate_warns_once():
    x, y = _nan_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = _model().fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
            and "loss became" in str(w.message)]
    assert len(msgs) == 1 and "epoch 1, batch 3" in msgs[0]
    assert len(h.epoch) == 2


# ------------------------------------------------------------------------- KeyboardInterrupt

def test_keyboard_interrupt_returns_partial_history_and_restores_best(capsys):
    x, y = _data()
    model = _model()
    script = Scripted([1.0, 0.5, 0.7, 0.8, 0.9, 1.0])
    es = EarlyStopping(patience=10, restore_best_weights=True)
    ended = []

    class Interrupt(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(script.snapshots) == 3 and batch == 1:
                raise KeyboardInterrupt

        def on_train_end(self, logs=None):
            ended.append(True)

    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0,
                        callbacks=[script, es, Interrupt()])
    assert history.epoch == [0, 1, 2]
    assert history.interrupted
    assert len(history.history["loss"]) == 3
    assert model.history is history
    assert ended == [True]
    _assert_same_weights(model, script.snapshots[1])
    assert "interrupted" in capsys.readouterr().err


# ----------------------------------------------------------------------- progress, plumbing

def test_progress_output_verbose_2_and_1(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=8, verbose=2, validation_split=0.25)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith("Epoch 1/2 - ") and "loss: " in out[0] and "val_accuracy: " in out[0]
    _model().fit(x, y, epochs=1, batch_size=8, verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.out and "3/3" in captured.out
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""
    # not a terminal: "auto" means one line per epoch
    assert ProgbarLogger("auto").verbose == 2
    with pytest.raises(ValueError, match="verbose"):
        ProgbarLogger(3)


def test_callback_list_order_events_and_errors():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append(("begin", self.params["epochs"], self.params["steps"]))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch", epoch))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch", batch, sorted(logs)))

        def on_test_begin(self, logs=None):
            events.append(("test",))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("end", epoch, sorted(logs)))

    x, y = _data()
    _model().fit(x, y, epochs=2, initial_epoch=1, batch_size=12, verbose=0,
                 validation_data=(x[:4], y[:4]), callbacks=[Recorder()])
    assert events == [
        ("begin", 2, 2), ("epoch", 1), ("batch", 0, ["accuracy", "loss"]),
        ("batch", 1, ["accuracy", "loss"]),
        ("end", 1, ["accuracy", "loss", "val_accuracy", "val_loss"]),
    ]
    with pytest.raises(TypeError, match="instead of an instance"):
        CallbackList([EarlyStopping])
    with pytest.raises(ValueError, match="unknown events"):
        LambdaCallback(on_epoch_ends=print)


def test_model_checkpoint_full_save_restores_optimizer_state(tmp_path):
    x, y = _data()
    model = _model()
    model.compile(ember.optim.Adam(model.parameters(), lr=0.01), "sparse_categorical_crossentropy")
    path = tmp_path / "full.safetensors"
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[ModelCheckpoint(path, save_weights_only=False)])
    other = _model(seed=3)
    other.compile(ember.optim.Adam(other.parameters(), lr=0.01), "sparse_categorical_crossentropy")
    other.load(path)
    _assert_same_weights(other, _weights(model))
    saved = model.optimizer.state_dict()["state"][0]["exp_avg"]
    restored = other.optimizer.state_dict()["state"][0]["exp_avg"]
    np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))
    with pytest.raises(ValueError, match="load_weights"):
        model.save_weights(tmp_path / "plain.safetensors")
        other.load(tmp_path / "plain.safetensors")
