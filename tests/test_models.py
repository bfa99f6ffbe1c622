"""Model / Sequential: compile, fit, evaluate, predict, summary, weights, input checks, mixing."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.models import Model, Sequential


def _blobs(n=90, seed=0):
    """Three well-separated Gaussian blobs in 4-d (an Iris stand-in)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    x = (centers[y] + 0.5 * rng.normal(size=(n, 4))).astype(np.float32)
    return x, y


def _mlp(seed=0, hidden=8):
    ember.manual_seed(seed)
    return Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def test_fit_learns_and_records_history():
    x, y = _blobs()
    model = _mlp()
    model.compile(optimizer=ember.optim.Adam(model.parameters(), lr=0.02),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy", "f1"])
    history = model.fit(x, y, epochs=30, batch_size=16, validation_split=0.2, verbose=0)
    assert model.history is history
    assert history.epoch == list(range(30))
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"}
    assert all(len(v) == 30 for v in history.history.values())
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.9
    assert history.params["epochs"] == 30
    loss, acc, f1 = model.evaluate(x, y, verbose=0)
    assert acc >= 0.9 and 0 < loss < history.history["loss"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": loss, "accuracy": acc, "f1": f1})
    pred = model.predict(x, batch_size=7)
    assert isinstance(pred, np.ndarray) and pred.shape == (90, 3)
    assert np.mean(pred.argmax(1) == y) == pytest.approx(acc)
    assert model.training  # fit/evaluate/predict restore the mode


def test_loss_is_sample_weighted_mean_and_validation_split_takes_the_tail():
    """With a zero learning rate the weights never change, so the epoch loss must equal the loss
    over all training samples, even with an uneven last batch."""
    x, y = _blobs(50)
    model = _mlp()
    model.compile(ember.optim.SGD(model.parameters(), lr=0.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, y, epochs=2, batch_size=7, validation_split=0.2, verbose=0)
    w = {k: torch.tensor(np.asarray(v.detach())) for k, v in model.state_dict().items()}

    def torch_loss(xs, ys):
        hidden = torch.relu(torch.tensor(xs) @ w["0.weight"].T + w["0.bias"])
        logits = hidden @ w["2.weight"].T + w["2.bias"]
        return torch.nn.functional.cross_entropy(logits, torch.tensor(ys)).item()

    assert h.history["loss"][0] == pytest.approx(torch_loss(x[:40], y[:40]), rel=1e-5)
    assert h.history["val_loss"][0] == pytest.approx(torch_loss(x[40:], y[40:]), rel=1e-5)
    assert h.history["loss"][0] == pytest.approx(h.history["loss"][1], rel=1e-6)


def test_same_seed_same_history():
    x, y = _blobs()

    def run():
        ember.manual_seed(123)
        model = Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(x, y, epochs=4, batch_size=10, validation_split=0.1, verbose=0).history

    first, second = run(), run()
    assert first == second
    ember.manual_seed(7)
    model = _mlp(seed=123)
    model.compile("sgd", "sparse_categorical_crossentropy")
    other = model.fit(x, y, epochs=4, batch_size=10, verbose=0, shuffle=True).history
    assert other["loss"] != first["loss"]


def test_dataset_and_dataloader_inputs():
    from ember.utils.data import DataLoader, Dataset, TensorDataset

    x, y = _blobs(60)

    class Pairs(Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return ember.tensor(x[i]), ember.tensor(y[i])

    for data in (TensorDataset(ember.tensor(x), ember.tensor(y)), Pairs()):
        model = _mlp()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
        h = model.fit(data, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
        assert len(h.history["val_acc"]) == 3
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=16,
                        shuffle=True)
    val = DataLoader(TensorDataset(ember.tensor(x[:12]), ember.tensor(y[:12])), batch_size=5)
    h = model.fit(loader, epochs=2, validation_data=val, verbose=0)
    assert h.params["steps"] == 4 and len(h.history["val_accuracy"]) == 2
    assert model.evaluate(loader, verbose=0)[1] == model.evaluate(x, y, verbose=0)[1]
    assert model.predict(val).shape == (12, 3)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model.fit(loader, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(loader, y, verbose=0)


def test_custom_low_level_module_inside_fit():
    class Affine(nn.Module):
        """A layer written with raw ops and its own Parameters."""

        def __init__(self, n_in, n_out):
            super().__init__()
            self.w = nn.Parameter(ember.randn(n_in, n_out) * 0.1)
            self.b = nn.Parameter(ember.zeros(n_out))

        def forward(self, x):
            return x @ self.w + self.b

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.body = Affine(4, 6)
            self.head = nn.Linear(6, 3)

        def forward(self, x):
            return self.head(self.body(x).tanh())

    ember.manual_seed(0)
    x, y = _blobs()
    net = Net()
    net.compile("adam", nn.CrossEntropyLoss(), metrics=["accuracy"])
    before = np.array(net.body.w.detach())
    h = net.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert not np.allclose(before, np.array(net.body.w.detach()))
    assert h.history["accuracy"][-1] > 0.9
    assert list(net.state_dict()) == ["body.w", "body.b", "head.weight", "head.bias"]


def test_sequential_trained_by_hand_written_loop_and_container_behaviour():
    x, y = _blobs()
    model = _mlp()
    assert isinstance(model, nn.Module)
    assert nn.Sequential is Sequential
    opt = ember.optim.Adam(model.parameters(), lr=0.05)
    xt, yt = ember.tensor(x), ember.tensor(y)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first
    assert len(model) == 3 and isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Linear)
    model.append(nn.Softmax(dim=1))
    assert len(model) == 4 and isinstance(model[3], nn.Softmax)
    head = model[:2]
    assert len(head) == 2 and head[0] is model[0]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "Softmax"]
    model.add(nn.Identity())
    assert len(model) == 5


def test_custom_train_step_override():
    class Counting(Sequential):
        calls = 0

        def train_step(self, batch):
            type(self).calls += 1
            logs = super().train_step(batch)
            logs["batch_size"] = len(batch[0])
            return logs

    ember.manual_seed(0)
    x, y = _blobs(30)
    model = Counting(nn.Linear(4, 3))
    model.compile("sgd", "sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert Counting.calls == 8
    # non-metric logs are sample-weighted means over the epoch: (8*3 + 6*6) / 30
    assert h.history["batch_size"] == pytest.approx([(8 * 8 * 3 + 6 * 6) / 30] * 2)


def test_regression_and_binary_targets_are_aligned_with_outputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    target = x @ np.array([1.0, -2.0, 0.5]) + 0.3  # float64, shape (64,)
    ember.manual_seed(0)
    model = Sequential(nn.Linear(3, 1))
    model.compile(ember.optim.SGD(model.parameters(), lr=0.1), "mse", metrics=["mae"])
    h = model.fit(x, target, epochs=30, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < 1e-3  # (N,) targets were not broadcast against (N, 1)
    assert model.evaluate(x, target, verbose=0)[1] < 0.05

    labels = (x[:, 0] > 0).astype(np.int64)
    ember.manual_seed(0)
    clf = Sequential(nn.Linear(3, 1), nn.Sigmoid())
    clf.compile(ember.optim.Adam(clf.parameters(), lr=0.05), "binary_crossentropy",
                metrics=["accuracy"])
    h = clf.fit(x, labels, epochs=40, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    ember.manual_seed(0)
    logit = Sequential(nn.Linear(3, 1))
    logit.compile(ember.optim.Adam(logit.parameters(), lr=0.05),
                  "binary_crossentropy_from_logits", metrics=["accuracy"])
    assert logit.compiled_metrics[0].threshold == 0.0
    h2 = logit.fit(x, labels, epochs=40, batch_size=16, verbose=0)
    assert h2.history["accuracy"][-1] > 0.9


def test_compile_accepts_objects_classes_and_names():
    model = _mlp()
    model.compile(ember.optim.RMSprop, "cross_entropy", metrics=[ember.metrics.TopKAccuracy(2)])
    assert isinstance(model.optimizer, ember.optim.RMSprop)
    assert model.metrics_names == ["top_k_accuracy"]
    for name, cls in [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"),
                      ("rmsprop", "RMSprop"), ("adagrad", "Adagrad"), ("adadelta", "Adadelta")]:
        model.compile(name, "mse")
        assert type(model.optimizer).__name__ == cls
    assert model.optimizer.param_groups[0]["params"][0] is next(model.parameters())
    for loss, cls in [("huber", "HuberLoss"), ("mae", "L1Loss"), ("mean_squared_error", "MSELoss"),
                      ("categorical_crossentropy", "CrossEntropyLoss")]:
        model.compile("sgd", loss)
        assert type(model.loss).__name__ == cls
    model.compile("adam", lambda y_pred, y_true: ((y_pred - y_true) ** 2).mean(),
                  metrics=["precision", "recall", "top5", "mse"])
    assert model.metrics_names == ["precision", "recall", "top5", "mse"]
    assert "loss" not in dict(model.named_modules())


def test_categorical_crossentropy_with_one_hot_targets():
    x, y = _blobs()
    model = _mlp()
    model.compile(ember.optim.Adam(model.parameters(), lr=0.02), "categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, np.eye(3, dtype=np.float32)[y], epochs=20, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, y, epochs=1, verbose=0)


# ------------------------------------------------------------------------------ input errors

def test_bad_inputs_fail_before_training():
    x, y = _blobs(30)
    model = _mlp()
    with pytest.raises(RuntimeError, match=r"fit\(\) called before compile\(\)"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match=r"evaluate\(\) called before compile\(\)"):
        model.evaluate(x, y, verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    before = np.array(model[0].weight.detach())
    with pytest.raises(ValueError, match=r"x has 30 .* y has 29"):
        model.fit(x, y[:29], verbose=0)
    with pytest.raises(ValueError, match="integer class labels.*float32"):
        model.fit(x, y.astype(np.float32), verbose=0)
    bad = y.copy()
    bad[5] = 10
    with pytest.raises(ValueError, match=r"label 10 .* 3 outputs.*0\.\.2"):
        model.fit(x, bad, verbose=0)
    bad[5] = -1
    with pytest.raises(ValueError, match=r"label -1 .*0\.\.2"):
        model.fit(x, bad, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data: x and y .* x has 30 .* y has 4"):
        model.fit(x, y, validation_data=(x, y[:4]), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    np.testing.assert_array_equal(before, np.array(model[0].weight.detach()))

    with pytest.raises(ValueError, match="unknown optimizer 'adamm'.*adadelta, adagrad, adam"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'.*sparse_categorical"):
        model.compile("adam", "crossentropy")
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*accuracy"):
        model.compile("adam", "mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="needs a loss"):
        model.compile("adam")
    with pytest.raises(ValueError, match="targets in \\[0, 1\\]"):
        binary = Sequential(nn.Linear(4, 1), nn.Sigmoid())
        binary.compile("adam", "binary_crossentropy")
        binary.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        reg = Sequential(nn.Linear(4, 2))
        reg.compile("adam", "mse")
        reg.fit(x, np.zeros((30, 3), np.float32), verbose=0)


# ----------------------------------------------------------------------- summary and weights

def test_summary_lists_layers_shapes_and_counts():
    ember.manual_seed(0)
    model = Sequential(nn.Linear(4, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 3))
    model[2].weight.requires_grad_(False)
    lines = []
    text = model.summary(input_shape=(4,), print_fn=lines.append)
    assert lines == [text]
    total = sum(p.numel() for p in model.parameters())
    frozen = model[2].weight.numel()
    assert total == 4 * 16 + 16 + 32 + 16 * 3 + 3
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - frozen:,}" in text
    assert f"Non-trainable params: {frozen:,}" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line[:1].isdigit()}
    assert "(Linear)" in rows["0"] and "(None, 16)" in rows["0"] and rows["0"].endswith(" 80")
    assert "(ReLU)" in rows["1"] and rows["1"].endswith(" 0")
    assert "(BatchNorm1d)" in rows["2"] and rows["2"].endswith(" 32")
    assert "(None, 3)" in rows["3"] and rows["3"].endswith(" 51")
    assert 'Model: "Sequential"' in text
    assert "Output shapes unknown" in _mlp().summary(print_fn=None)
    # after fit the data's shape is remembered
    x, y = _blobs(12)
    fitted = _mlp()
    fitted.compile("sgd", "sparse_categorical_crossentropy")
    fitted.fit(x, y, verbose=0)
    assert "(None, 8)" in fitted.summary(print_fn=None)


def test_summary_of_nested_subclassed_model():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten())
            self.fc = nn.Linear(4 * 6 * 6, 10)

        def forward(self, x):
            return self.fc(self.features(x))

    net = Net()
    text = net.summary(x=np.zeros((5, 1, 8, 8), np.float32), print_fn=None)
    assert "features (Sequential)" in text and "  0 (Conv2d)" in text
    assert "(None, 4, 6, 6)" in text and "(None, 144)" in text and "(None, 10)" in text
    assert f"Total params: {sum(p.numel() for p in net.parameters()):,}" in text


def test_save_and_load_weights_roundtrip(tmp_path):
    x, y = _blobs(30)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    other = _mlp(seed=5)
    assert not np.allclose(model.predict(x), other.predict(x))
    other.load_weights(path)
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    weights = model.get_weights()
    weights[0][:] = 0
    assert not np.all(np.array(model[0].weight.detach()) == 0)
    model.set_weights(weights)
    assert np.all(np.array(model[0].weight.detach()) == 0)
