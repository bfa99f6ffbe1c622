"""fit/evaluate/predict check their arguments before any training, accept generators of batches
as Keras does, and let a Ctrl-C finish the current training step."""

import signal
import threading

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.models import Sequential
from ember.utils.data import DataLoader, TensorDataset


def _model(seed=0, out=3):
    ember.manual_seed(seed)
    model = Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, out))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


class _NoTraining(ember.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise AssertionError("training started before the arguments were checked")


@pytest.mark.parametrize("batch_size, words", [
    (0, "got 0"), (-5, "got -5"), (2.5, "pass 2 or 3"), ("32", "type str"), (True, "type bool"),
])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_bad_batch_size_is_refused_with_what_to_pass(method, batch_size, words):
    x, y = _data()
    model = _model()
    call = {"fit": lambda: model.fit(x, y, batch_size=batch_size, verbose=0,
                                     callbacks=[_NoTraining()]),
            "evaluate": lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0),
            "predict": lambda: model.predict(x, batch_size=batch_size)}[method]
    with pytest.raises(ValueError, match=rf"{method}: batch_size must be a whole number >= 1.*"
                                         rf"{words}"):
        call()


def test_batch_size_none_means_32():
    x, y = _data(70)
    steps = []
    cb = ember.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    _model().fit(x, y, batch_size=None, verbose=0, callbacks=[cb])
    assert steps == [0, 1, 2]


@pytest.mark.parametrize("epochs", [-1, 2.0, "3", None, True])
def test_bad_epochs_is_refused(epochs):
    x, y = _data()
    with pytest.raises(ValueError, match="epochs must be a whole number >= 0"):
        _model().fit(x, y, epochs=epochs, verbose=0, callbacks=[_NoTraining()])


def test_numpy_int_epochs_and_batch_size_are_accepted():
    x, y = _data()
    history = _model().fit(x, y, epochs=np.int64(2), batch_size=np.int32(8), verbose=0)
    assert history.epoch == [0, 1]


@pytest.mark.parametrize("split", [1.0, 1.5, -0.1, "0.2", True])
def test_validation_split_out_of_range_is_refused(split):
    x, y = _data()
    with pytest.raises(ValueError, match=r"validation_split must be .*\[0, 1\)"):
        _model().fit(x, y, validation_split=split, verbose=0, callbacks=[_NoTraining()])


def test_empty_dataset_and_loader_are_refused():
    empty = TensorDataset(ember.zeros(0, 4), ember.zeros(0, dtype=ember.int64))
    with pytest.raises(ValueError, match="fit: the Dataset is empty"):
        _model().fit(empty, verbose=0, callbacks=[_NoTraining()])
    with pytest.raises(ValueError, match="evaluate: the Dataset is empty"):
        _model().evaluate(empty, verbose=0)
    with pytest.raises(ValueError, match="DataLoader's dataset is empty"):
        _model().fit(DataLoader(empty, batch_size=4), verbose=0, callbacks=[_NoTraining()])
    with pytest.raises(ValueError, match="hold no samples"):
        _model().fit(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), verbose=0)


def test_single_callback_and_non_bool_shuffle_are_refused():
    x, y = _data()
    with pytest.raises(TypeError, match=r"got a single EarlyStopping; pass "
                                        r"callbacks=\[EarlyStopping\(...\)\]"):
        _model().fit(x, y, verbose=0, callbacks=ember.callbacks.EarlyStopping())
    with pytest.raises(ValueError, match="shuffle must be True or False"):
        _model().fit(x, y, verbose=0, shuffle="batch", callbacks=[_NoTraining()])


def test_x_y_length_mismatch_names_both_shapes():
    x, y = _data()
    with pytest.raises(ValueError, match=r"x has 40 \(shape \(40, 4\)\) but y has 10"):
        _model().fit(x, y[:10], verbose=0, callbacks=[_NoTraining()])


def test_3d_input_for_a_classification_loss_names_the_expected_shape():
    x = np.random.default_rng(1).normal(size=(20, 2, 4)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 2, 20)
    with pytest.raises(ValueError, match=r"output has shape \(N, 2, 3\) for x of shape "
                                         r"\(20, 2, 4\).*y would need shape \(20, 3\).*"
                                         r"nn.Flatten"):
        _model().fit(x, y, verbose=0, callbacks=[_NoTraining()])
    regression = _model(out=1)
    regression.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"outputs have shape \(N, 2, 1\) \(for x of shape "
                                         r"\(20, 2, 4\)\)"):
        regression.fit(x, y.astype(np.float32), verbose=0, callbacks=[_NoTraining()])
    # per-position labels of the right shape are what PyTorch's CrossEntropyLoss takes
    y_positions = np.random.default_rng(2).integers(0, 2, (20, 3))
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y_positions, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ------------------------------------------------------------------------------- generators


def _batches(x, y, batch_size=8, weights=None):
    for start in range(0, len(x), batch_size):
        part = slice(start, start + batch_size)
        if weights is None:
            yield x[part], y[part]
        else:
            yield x[part], y[part], weights[part]


def test_generator_trains_like_the_arrays_it_yields():
    x, y = _data()
    by_arrays = _model()
    by_arrays.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    by_generator = _model()
    history = by_generator.fit(_batches(x, y), epochs=1, verbose=0)
    assert history.epoch == [0]
    for a, b in zip(by_arrays.get_weights(), by_generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_generator_with_sample_weights_matches_arrays():
    x, y = _data()
    w = np.linspace(0.1, 2, len(x)).astype(np.float32)
    by_arrays = _model()
    by_arrays.fit(x, y, sample_weight=w, batch_size=8, shuffle=False, verbose=0)
    by_generator = _model()
    by_generator.fit(_batches(x, y, weights=w), verbose=0)
    for a, b in zip(by_arrays.get_weights(), by_generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_generator_without_steps_runs_one_epoch_then_stops_with_a_warning():
    x, y = _data()
    with pytest.warns(UserWarning, match="generator ran out of data before epoch 2"):
        history = _model().fit(_batches(x, y), epochs=3, verbose=0)
    assert history.epoch == [0]


def test_generator_with_steps_per_epoch_runs_on_across_epochs():
    x, y = _data(48)

    def forever():
        while True:
            yield from _batches(x, y)

    seen = []
    cb = ember.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    history = _model().fit(forever(), steps_per_epoch=4, epochs=3, verbose=0, callbacks=[cb])
    assert history.epoch == [0, 1, 2] and seen == [0, 1, 2, 3] * 3


def test_generator_evaluate_and_predict():
    x, y = _data()
    model = _model()
    assert model.evaluate(_batches(x, y), verbose=0, return_dict=True)["loss"] == pytest.approx(
        model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"], rel=1e-6)
    out = model.predict((x[i:i + 8] for i in range(0, 40, 8)))
    np.testing.assert_array_equal(out, model.predict(x, batch_size=8))


@pytest.mark.parametrize("bad, words", [
    ([{"x": 1}], "is a dict"),
    ([(np.zeros((4, 4), np.float32),)], "holds x only"),
    ([(np.zeros((4, 4), np.float32), np.zeros(3, np.int64))], "same first dimension"),
    ([(np.array(["a"] * 4), np.zeros(4, np.int64))], "must hold numbers"),
    ([], "yielded no batches"),
])
def test_bad_generator_batches_are_refused_in_words(bad, words):
    with pytest.raises(ValueError if words != "must hold numbers" else TypeError, match=words):
        _model().fit(iter(bad), verbose=0)


def test_generator_refusals_say_what_to_pass():
    x, y = _data()
    with pytest.raises(TypeError, match=r"x is a function \(_batches\).*_batches\(\)"):
        _model().fit(_batches, verbose=0)
    with pytest.raises(TypeError, match=r"list of \(x, y\) batches; pass iter\(x\)"):
        _model().fit(list(_batches(x, y)), verbose=0)
    with pytest.raises(ValueError, match="y must be None"):
        _model().fit(_batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split cannot split a generator"):
        _model().fit(_batches(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="validation_data cannot be a generator"):
        _model().fit(x, y, validation_data=_batches(x, y), verbose=0)
    with pytest.raises(ValueError, match="sample_weight cannot be given with a generator"):
        _model().fit(_batches(x, y), sample_weight=np.ones(40), verbose=0)


# --------------------------------------------------------------------------------- Ctrl-C


class _InterruptedAdam(optim.Adam):
    """Adam that receives SIGINT (a real Ctrl-C) after updating its first parameter of step
    ``at`` (``times`` signals)."""

    def __init__(self, params, at, times=1):
        super().__init__(params, lr=0.01)
        self.at, self.times, self.calls = at, times, 0

    def _update(self, p, group):
        super()._update(p, group)
        self.calls += 1
        if self.calls == self.at:
            for _ in range(self.times):
                signal.raise_signal(signal.SIGINT)


def _interrupted_fit(times):
    x, y = _data()
    ember.manual_seed(0)
    model = Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    n_params = len(list(model.parameters()))
    model.compile(optimizer=_InterruptedAdam(model.parameters(), at=5 * n_params + 1, times=times),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    steps = [model.optimizer.state[p]["step"] for p in model.parameters()]
    return history, steps


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals reach the main thread only")
def test_ctrl_c_inside_optimizer_step_lets_the_step_finish(capsys):
    history, steps = _interrupted_fit(times=1)
    assert history.interrupted
    assert steps == [6, 6, 6, 6]  # the sixth step was applied to every parameter, no more
    assert "stopping after this training step" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals reach the main thread only")
def test_second_ctrl_c_aborts_the_step_at_once():
    history, steps = _interrupted_fit(times=2)
    assert history.interrupted and steps == [6, 5, 5, 5]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


_CHILD = r"""
import os, sys, time
import numpy as np
import ember
from ember import nn, optim
from ember.models import Sequential

marker = sys.argv[1]


class SlowAdam(optim.Adam):
    # step 3 takes a while, parameter by parameter, and says when it has begun
    def _update(self, p, group):
        super()._update(p, group)
        if self.state[p]["step"] == 3:
            if not os.path.exists(marker):
                open(marker, "w").close()
            time.sleep(0.5)


ember.manual_seed(0)
model = Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
model.compile(optimizer=SlowAdam(model.parameters(), lr=0.01),
              loss="sparse_categorical_crossentropy")
x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
y = np.random.default_rng(0).integers(0, 3, 64)
history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
print("interrupted", history.interrupted)
print("steps", [model.optimizer.state[p]["step"] for p in model.parameters()])
"""


def test_sigint_from_outside_during_a_step_stops_after_the_step(tmp_path):
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    marker = tmp_path / "in-step"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, str(script), str(marker)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached step 3"
            time.sleep(0.01)
        child.send_signal(signal.SIGINT)  # while the first parameter's update sleeps
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "interrupted True" in out
    assert "steps [3, 3, 3, 3]" in out, out + err
    assert "stopping after this training step" in err
