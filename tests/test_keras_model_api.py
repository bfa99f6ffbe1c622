"""Keras' Model API on ember (issue 13, Keras habits): ``ember.Model(module)``, the error for a
plain module, ``layers``, ``count_params``, ``*_on_batch``, ``get_config``/``from_config``,
``save``/``load_model``, foreign suffixes refused, Keras' optimizer defaults, and the
TensorBoard callback read back from its event files.
"""

from __future__ import annotations

import glob
import os
import struct

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.callbacks import ModelCheckpoint, TensorBoard


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


def _sequential(seed=0):
    ember.manual_seed(seed)
    return ember.models.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3),
                                   nn.Softmax(dim=1))


def test_model_wraps_a_module_without_copying_it():
    net = Net()
    with pytest.raises(AttributeError, match=r"ember\.Model\(module\)"):
        net.fit(None)
    model = ember.Model(net)
    assert list(model.parameters()) == list(net.parameters())
    assert all(a is b for a, b in zip(model.parameters(), net.parameters()))
    assert list(model.state_dict()) == list(net.state_dict())
    x, y = _data()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = net.out.weight.detach().numpy().copy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before, net.out.weight.detach().numpy())  # the module itself trained
    np.testing.assert_array_equal(model.predict(x), net(ember.tensor(x)).detach().numpy())
    model.eval()
    assert not net.training
    model.train()
    assert net.training


def test_layers_and_count_params():
    model = _sequential()
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "ReLU", "Dropout",
                                                                "Linear", "Softmax"]
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    assert model.count_params() == sum(p.numel() for p in torch_model.parameters())
    assert ember.Model(Net()).layers[0].out_features == 8
    leaf = nn.Linear(2, 3)
    assert ember.Model(leaf).layers == [leaf]
    assert ember.Model(leaf).summary(input_shape=(2,), print_fn=None).startswith('Model: "Model(Linear)"')


def test_on_batch_methods_return_keras_values():
    x, y = _data()
    model = _sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.train_on_batch(x[:16], y[:16])
    assert isinstance(loss, float)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    values = model.train_on_batch(x[:16], y[:16])
    assert isinstance(values, list) and len(values) == 2
    logs = model.train_on_batch(x[:16], y[:16], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    model.reset_metrics()
    test_loss, test_acc = model.test_on_batch(x, y)
    evaluated = model.evaluate(x, y, batch_size=len(x), verbose=0)
    assert test_loss == pytest.approx(evaluated[0], rel=1e-6)
    assert test_acc == pytest.approx(evaluated[1])
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, batch_size=len(x)))
    weighted = model.train_on_batch(x[:16], y[:16], class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert np.isfinite(weighted[0])


def test_get_config_round_trips_ember_layers():
    model = ember.models.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10, bias=False), nn.Dropout(p=0.3),
        nn.LayerNorm(10), nn.Softmax(dim=-1))
    config = model.get_config()
    import json

    assert json.loads(json.dumps(config)) == config  # plain JSON
    rebuilt = ember.models.Sequential.from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt[5].bias is None and rebuilt[0].kernel_size == (3, 3)
    assert rebuilt.count_params() == model.count_params()
    with pytest.raises(NotImplementedError, match="get_config"):
        ember.Model(Net()).get_config()


def test_save_then_load_model_reproduces_predictions_exactly(tmp_path):
    x, y = _data()
    model = _sequential()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = ember.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.metrics_names == ["accuracy"] and type(loaded.optimizer).__name__ == "Adam"
    saved = model.optimizer.state_dict()["state"][0]["exp_avg"]
    restored = loaded.optimizer.state_dict()["state"][0]["exp_avg"]
    np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))
    # the file is a plain state dict too
    other = _sequential(seed=9)
    other.load_state_dict(ember.load(path))
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    from safetensors.numpy import load_file

    assert set(model.state_dict()) <= set(load_file(str(path)))
    # a model with its own forward: weights come back through an instance, not load_model
    wrapped = ember.Model(Net())
    wrapped.compile("sgd", "sparse_categorical_crossentropy")
    wrapped.save(tmp_path / "net.safetensors")
    with pytest.raises(ValueError, match="no architecture"):
        ember.models.load_model(tmp_path / "net.safetensors")
    again = ember.Model(Net())
    again.load(tmp_path / "net.safetensors")
    np.testing.assert_array_equal(again.predict(x), wrapped.predict(x))


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5", ".keras", ".pt", ".pth"])
def test_foreign_suffixes_are_refused_in_words(tmp_path, suffix):
    model = _sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    path = tmp_path / ("model" + suffix)
    for call in (model.save, model.save_weights, ModelCheckpoint):
        with pytest.raises(ValueError, match=r"\.safetensors"):
            call(path)
    assert not os.listdir(tmp_path)


def test_string_optimizers_take_keras_defaults():
    params = list(_sequential().parameters())
    expected = {
        "adam": ("Adam", {"lr": 1e-3, "eps": 1e-7, "betas": (0.9, 0.999)}),
        "adamw": ("AdamW", {"lr": 1e-3, "eps": 1e-7, "weight_decay": 0.004}),
        "rmsprop": ("RMSprop", {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "momentum": 0.0}),
        "adagrad": ("Adagrad", {"lr": 1e-3, "initial_accumulator_value": 0.1, "eps": 1e-7}),
        "adadelta": ("Adadelta", {"lr": 1e-3, "rho": 0.95, "eps": 1e-7}),
        "sgd": ("SGD", {"lr": 0.01, "momentum": 0.0, "nesterov": False}),
    }
    for name, (cls, defaults) in expected.items():
        opt = ember.optim.get(name, params)
        assert type(opt).__name__ == cls
        for key, value in defaults.items():
            assert opt.param_groups[0][key] == value, (name, key)
    for name in ("nadam", "adamax", "lion", "lamb", "adafactor", "ftrl"):
        if name in ember.optim.available():
            assert ember.optim.get(name, params).param_groups[0]["lr"] == 1e-3
        else:
            with pytest.raises(ValueError, match="not in ember yet"):
                ember.optim.get(name, params)


def _read_scalars(folder):
    """``{tag: [(step, value)]}`` from the event files in ``folder``: the TFRecord framing
    (length, CRC, payload, CRC) parsed by hand and each payload by TensorBoard's Event proto."""
    from tensorboardX.proto import event_pb2

    scalars, histograms = {}, {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        data = open(path, "rb").read()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("histo"):
                    histograms.setdefault(value.tag, []).append(event.step)
                else:
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, histograms


def test_tensorboard_writes_epoch_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboardX")
    x, y = _data()
    model = _sequential()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    log_dir = tmp_path / "logs"
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[TensorBoard(log_dir, histogram_freq=1, update_freq="batch")])
    train, train_histograms = _read_scalars(log_dir / "train")
    validation, _ = _read_scalars(log_dir / "validation")
    for name in ("loss", "accuracy"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]],
                                   history.history[name], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{name}"]],
                                   history.history[f"val_{name}"], rtol=1e-6)
    assert [v for _, v in train["epoch_learning_rate"]] == pytest.approx([1e-3] * 3)
    assert len(train["batch_loss"]) == 3 * 2  # 48 training samples, batches of 32
    assert set(train_histograms) == set(model.state_dict())
    assert all(steps == [0, 1, 2] for steps in train_histograms.values())
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(log_dir, histogram_freq=-1)
    try:  # TensorBoard's own reader, where TensorBoard is installed
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return
    reader = EventAccumulator(str(log_dir / "validation"))
    reader.Reload()
    np.testing.assert_allclose([e.value for e in reader.Scalars("epoch_loss")],
                               history.history["val_loss"], rtol=1e-6)
