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
                      ("categorical_crossentropy", "KerasCrossentropy")]:
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

    # every Keras name ember has an optimizer for (more since namesopt: adafactor, adamax, nadam)
    with pytest.raises(ValueError,
                       match="unknown optimizer 'adamm'; valid names: adadelta, adafactor, adagrad, adam"):
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


# --------------------------------------------------- sample/class weights, steps, validation_freq

def _frozen(n_out=3, loss="sparse_categorical_crossentropy", lr=0.0, metrics=None, seed=0):
    """A linear model trained with SGD (lr 0 by default: the weights never move, so every
    epoch's loss can be recomputed by hand from the final weights)."""
    ember.manual_seed(seed)
    model = Sequential(nn.Linear(4, n_out))
    model.compile(ember.optim.SGD(model.parameters(), lr=lr), loss, metrics=metrics)
    return model


def _per_sample_ce(model, x, y):
    """Per-sample cross-entropy of ``model`` (one Linear layer), from PyTorch."""
    w = torch.tensor(np.asarray(model[0].weight.detach()))
    b = torch.tensor(np.asarray(model[0].bias.detach()))
    logits = torch.tensor(x) @ w.T + b
    return torch.nn.functional.cross_entropy(logits, torch.tensor(y), reduction="none").numpy()


def _hand_ce(model, x, y):
    """The same per-sample losses in plain NumPy (log-softmax, picked at the labels)."""
    z = x @ np.asarray(model[0].weight.detach()).T + np.asarray(model[0].bias.detach())
    z = z - z.max(1, keepdims=True)
    return -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1)))


def test_sample_and_class_weights_are_keras_sum_over_batch_size():
    """The epoch loss is sum(w_i * l_i) / N over uneven batches of 7 (Keras'
    "sum_over_batch_size", batch losses averaged by batch size), for class_weight,
    sample_weight and both (their product)."""
    x, y = _blobs(50)
    sw = np.random.default_rng(1).uniform(0.0, 2.0, 50).astype(np.float32)
    cw = {0: 1.0, 1: 3.0, 2: 0.25}
    per_class = np.array([1.0, 3.0, 0.25])[y]
    model = _frozen(metrics=["accuracy"])
    losses = _per_sample_ce(model, x, y)
    np.testing.assert_allclose(losses, _hand_ce(model, x, y), rtol=1e-5)
    for kwargs, w in [({"sample_weight": sw}, sw), ({"class_weight": cw}, per_class),
                      ({"sample_weight": sw, "class_weight": cw}, sw * per_class)]:
        h = model.fit(x, y, batch_size=7, epochs=1, verbose=0, **kwargs)
        assert h.history["loss"][0] == pytest.approx((w * losses).sum() / 50, rel=1e-5), kwargs
        # metrics stay unweighted, as Keras' (non-weighted_metrics) metrics
        assert h.history["accuracy"][0] == pytest.approx(np.mean(model.predict(x).argmax(1) == y))
    unweighted = model.fit(x, y, batch_size=7, epochs=1, verbose=0).history["loss"][0]
    assert unweighted == pytest.approx(losses.mean(), rel=1e-5)
    loss, _ = model.evaluate(x, y, batch_size=9, sample_weight=sw, verbose=0)
    assert loss == pytest.approx((sw * losses).sum() / 50, rel=1e-5)
    # a (N, 1) column of weights is taken as one per sample
    assert model.evaluate(x, y, sample_weight=sw[:, None], verbose=0)[0] == pytest.approx(loss)


def test_weighted_gradient_step_matches_torch():
    """One full-batch SGD step on the weighted loss lands where PyTorch's does with
    (F.cross_entropy(reduction='none') * w).sum() / N."""
    x, y = _blobs(30)
    sw = np.linspace(0.1, 2.0, 30).astype(np.float32)
    model = _frozen(lr=0.5)
    tw = torch.tensor(np.asarray(model[0].weight.detach()), requires_grad=True)
    tb = torch.tensor(np.asarray(model[0].bias.detach()), requires_grad=True)
    model.fit(x, y, batch_size=30, epochs=1, shuffle=False, verbose=0, sample_weight=sw,
              class_weight={2: 4.0})
    w = torch.tensor(sw * np.where(y == 2, 4.0, 1.0).astype(np.float32))
    per = torch.nn.functional.cross_entropy(torch.tensor(x) @ tw.T + tb, torch.tensor(y),
                                            reduction="none")
    ((per * w).sum() / 30).backward()
    np.testing.assert_allclose(np.asarray(model[0].weight.detach()),
                               (tw - 0.5 * tw.grad).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model[0].bias.detach()),
                               (tb - 0.5 * tb.grad).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_class_weight_with_one_hot_targets_and_loss_forms():
    x, y = _blobs(40)
    cw = {0: 2.0, 2: 0.5}  # class 1 not named: weight 1
    w = np.array([2.0, 1.0, 0.5])[y]
    model = _frozen(loss="categorical_crossentropy")
    losses = _per_sample_ce(model, x, y)
    h = model.fit(x, np.eye(3, dtype=np.float32)[y], batch_size=16, epochs=1, verbose=0,
                  class_weight=cw)
    assert h.history["loss"][0] == pytest.approx((w * losses).sum() / 40, rel=1e-5)
    # a loss module with reduction="sum" keeps summing: sum(w * l) per batch, averaged per sample
    model = _frozen(loss=nn.CrossEntropyLoss(reduction="sum"))
    h = model.fit(x, y, batch_size=40, epochs=1, verbose=0, class_weight=cw)
    assert h.history["loss"][0] == pytest.approx((w * losses).sum(), rel=1e-5)
    assert model.loss.reduction == "sum"  # switched for the call only
    # a function taking `reduction` (F.cross_entropy) and one returning per-sample values
    for fn in (nn.functional.cross_entropy,
               lambda p, t: nn.functional.cross_entropy(p, t, reduction="none")):
        model = _frozen(loss=fn)
        h = model.fit(x, y, batch_size=8, epochs=1, verbose=0, class_weight=cw)
        assert h.history["loss"][0] == pytest.approx((w * losses).sum() / 40, rel=1e-5)
    # per-element losses (MSE on 2 outputs) are averaged per sample first, as Keras does
    rng = np.random.default_rng(0)
    target = rng.normal(size=(40, 2)).astype(np.float32)
    sw = rng.uniform(0.5, 1.5, 40).astype(np.float32)
    reg = _frozen(n_out=2, loss="mse")
    out = reg.predict(x)
    h = reg.fit(x, target, batch_size=16, epochs=1, verbose=0, sample_weight=sw)
    expect = (sw * ((out - target) ** 2).mean(1)).sum() / 40
    assert h.history["loss"][0] == pytest.approx(expect, rel=1e-5)
    # a function that reduces the batch itself cannot be weighted
    model = _frozen(loss=lambda p, t: nn.functional.cross_entropy(p, t))
    with pytest.raises(ValueError, match=r"return per-sample losses \(reduction='none'\) to use "
                                         r"sample_weight/class_weight"):
        model.fit(x, y, verbose=0, sample_weight=np.ones(40))
    model.fit(x, y, verbose=0)  # unweighted it is fine


def test_unit_sample_weights_give_the_loss_own_reduction():
    """Weights of 1 change nothing, also for losses whose own reduction is not a mean over N
    samples: class weights and ignore_index in cross-entropy (divided by the targets' summed
    class weights), KLDiv's batchmean, a sum over several outputs."""
    x, y = _blobs(30)
    y_ign = y.copy()
    y_ign[[2, 7, 11]] = -100
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(3), 30).astype(np.float32)
    target = rng.normal(size=(30, 3)).astype(np.float32)
    cw = ember.tensor([1.0, 3.0, 0.5])
    cases = [(nn.CrossEntropyLoss(), y_ign), (nn.functional.cross_entropy, y),
             (nn.CrossEntropyLoss(weight=cw), y), (nn.CrossEntropyLoss(weight=cw), y_ign),
             (nn.NLLLoss(weight=cw, ignore_index=1), y),
             (nn.KLDivLoss(reduction="batchmean"), probs), (nn.MSELoss(reduction="sum"), target)]
    for loss, t in cases:
        model = _frozen(loss=loss)
        own = model.evaluate(x, t, batch_size=30, verbose=0)
        assert model.evaluate(x, t, batch_size=30, verbose=0, sample_weight=np.ones(30)) \
            == pytest.approx(own, rel=1e-5), loss
    # other weights: sum(w * l) over the same denominator as the loss's own mean
    sw = rng.uniform(0.5, 2.0, 30).astype(np.float32)
    model = _frozen(loss=nn.CrossEntropyLoss(weight=cw))
    w_t, b_t = (torch.tensor(np.asarray(p.detach())) for p in (model[0].weight, model[0].bias))
    c = torch.tensor([1.0, 3.0, 0.5])
    per = torch.nn.functional.cross_entropy(torch.tensor(x) @ w_t.T + b_t, torch.tensor(y_ign),
                                            weight=c, reduction="none").numpy()
    counted = np.where(y_ign >= 0, c.numpy()[np.maximum(y_ign, 0)], 0.0).sum()
    got = model.evaluate(x, y_ign, batch_size=30, verbose=0, sample_weight=sw)
    assert got == pytest.approx((sw * per).sum() / counted, rel=1e-5)


def test_weights_from_datasets_loaders_and_validation_data():
    from ember.utils.data import DataLoader, Dataset, TensorDataset

    x, y = _blobs(45)
    sw = np.random.default_rng(2).uniform(0.0, 3.0, 45).astype(np.float32)
    cw = {1: 5.0}
    model = _frozen()
    losses = _per_sample_ce(model, x, y)
    expect = (sw * losses).sum() / 45

    class Triples(Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return ember.tensor(x[i]), ember.tensor(y[i]), ember.tensor(sw[i])

    triples = TensorDataset(ember.tensor(x), ember.tensor(y), ember.tensor(sw))
    for data in (Triples(), triples, DataLoader(triples, batch_size=10)):
        h = model.fit(data, batch_size=10, epochs=1, verbose=0)
        assert h.history["loss"][0] == pytest.approx(expect, rel=1e-5), type(data).__name__
        assert model.evaluate(data, verbose=0) == pytest.approx(expect, rel=1e-5)
        assert model.predict(data).shape == (45, 3)
    # class_weight works with any input and multiplies the dataset's weights
    both = sw * np.where(y == 1, 5.0, 1.0)
    h = model.fit(DataLoader(triples, batch_size=8), epochs=1, verbose=0, class_weight=cw)
    assert h.history["loss"][0] == pytest.approx((both * losses).sum() / 45, rel=1e-5)
    pairs = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=8)
    h = model.fit(pairs, epochs=1, verbose=0, class_weight=cw)
    assert h.history["loss"][0] == pytest.approx(
        (np.where(y == 1, 5.0, 1.0) * losses).sum() / 45, rel=1e-5)
    # 3-tuple validation_data weights val_loss; class_weight never applies to validation
    h = model.fit(x, y, epochs=1, verbose=0, class_weight=cw, validation_data=(x, y, sw))
    assert h.history["val_loss"][0] == pytest.approx(expect, rel=1e-5)
    # validation_split splits the sample weights too: the tail weighs the validation loss
    h = model.fit(x, y, epochs=1, verbose=0, sample_weight=sw, validation_split=0.2)
    assert h.history["loss"][0] == pytest.approx((sw * losses)[:36].sum() / 36, rel=1e-5)
    assert h.history["val_loss"][0] == pytest.approx((sw * losses)[36:].sum() / 9, rel=1e-5)


def test_custom_steps_see_weighted_batches():
    class Plain(Sequential):
        def train_step(self, batch):
            x, y = self.unpack(batch)  # written before weights existed: refuses, not ignores
            return {"loss": self.compute_loss(self(x), y)}

    x, y = _blobs(20)
    ember.manual_seed(0)
    model = Plain(nn.Linear(4, 3))
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="unpack_x_y_sample_weight"):
        model.fit(x, y, verbose=0, class_weight={0: 2.0})
    assert Model.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert Model.unpack_x_y_sample_weight((1, 2, 3)) == (1, 2, 3)


class _Counter(ember.callbacks.Callback):
    """Counts training batches (and samples) per epoch, and evaluate/predict batches."""

    def __init__(self):
        super().__init__()
        self.per_epoch, self.samples, self.test, self.predict = [], 0, 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1

    def on_predict_batch_end(self, batch, logs=None):
        self.predict += 1


class _CountingTests(Sequential):
    """Counts the validation batches and samples (fit's validation runs test_step)."""

    def __init__(self, *layers):
        super().__init__(*layers)
        self.__dict__["val_batches"] = []

    def test_step(self, batch):
        self.val_batches.append(len(batch[0]))
        return super().test_step(batch)


def test_steps_per_epoch_validation_steps_and_steps():
    x, y = _blobs(80)  # 10 batches of 8
    ember.manual_seed(0)
    model = _CountingTests(nn.Linear(4, 3))
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    count = _Counter()
    seen = []

    class Samples(ember.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    h = model.fit(x, y, batch_size=8, epochs=2, steps_per_epoch=5, verbose=0, callbacks=[count],
                  validation_data=(x[:50], y[:50]), validation_steps=2,
                  validation_batch_size=20)
    assert count.per_epoch == [5, 5] and h.params["steps"] == 5
    assert model.val_batches == [20, 20, 20, 20]  # 2 batches of validation_batch_size each epoch
    # the same first validation samples every epoch: val_loss equals evaluate on those 40
    assert h.history["val_loss"][1] == pytest.approx(
        model.evaluate(x[:40], y[:40], batch_size=40, verbose=0)[0], rel=1e-5)
    # steps_per_epoch=4 of 10 batches: the pass runs on, and the third epoch has 2 left
    count = _Counter()
    with pytest.warns(UserWarning, match=r"ran out after 2 of steps_per_epoch=4.*10 batches"):
        model.fit(x, y, batch_size=8, epochs=4, steps_per_epoch=4, verbose=0, callbacks=[count])
    assert count.per_epoch == [4, 4, 2, 4]
    # without the limit the validation batch size defaults to batch_size
    model.val_batches.clear()
    model.fit(x, y, batch_size=32, epochs=1, validation_data=(x[:50], y[:50]), verbose=0)
    assert model.val_batches == [32, 18]

    count = _Counter()
    model.evaluate(x, y, batch_size=8, steps=3, verbose=0, callbacks=[count])
    assert count.test == 3
    loss = model.evaluate(x, y, batch_size=8, steps=3, verbose=0)[0]
    assert loss == pytest.approx(model.evaluate(x[:24], y[:24], verbose=0)[0], rel=1e-5)
    with pytest.warns(UserWarning, match="ran out after 10 of 12 steps"):
        model.evaluate(x, y, batch_size=8, steps=12, verbose=0)
    pred = model.predict(x, batch_size=8, steps=2, callbacks=[count])
    assert count.predict == 2 and pred.shape == (16, 3)
    np.testing.assert_allclose(pred, model.predict(x)[:16], rtol=1e-6)


def test_validation_freq_int_and_list(tmp_path):
    x, y = _blobs(60)
    csv = tmp_path / "log.csv"
    model = _frozen(lr=0.05, metrics=["accuracy"])
    h = model.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, validation_freq=2,
                  verbose=0, callbacks=[ember.callbacks.CSVLogger(csv)])
    assert h.epoch == list(range(6)) and len(h.history["loss"]) == 6
    assert len(h.history["val_loss"]) == 3 == len(h.history["val_accuracy"])
    assert h.epochs_for("val_loss") == [1, 3, 5] and h.epochs_for("loss") == list(range(6))
    rows = csv.read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert rows[1].endswith(",NA,NA") and not rows[2].endswith("NA")
    # the plot draws each validation point at its own epoch (1-based), the best one marked
    fig = h.plot(metrics=["loss"])
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    assert list(lines["validation"].get_xdata()) == [2, 4, 6]
    assert list(lines["training"].get_xdata()) == [1, 2, 3, 4, 5, 6]
    best = h.epochs_for("val_loss")[int(np.argmin(h.history["val_loss"]))]
    assert h.best_epoch() == best == h.diagnose().best_epoch
    assert h.plot(tmp_path / "curves.png") == str(tmp_path / "curves.png")
    d = h.diagnose()
    assert d.gap.end == pytest.approx(h.history["val_loss"][-1] - h.history["loss"][-1])

    h = model.fit(x, y, epochs=5, batch_size=16, validation_data=(x, y), verbose=0,
                  validation_freq=[1, 4])
    assert h.epochs_for("val_loss") == [0, 3] and h.epochs_for("val_accuracy") == [0, 3]
    assert h.diagnose().verdict in ("still improving", "underfitting", "good fit", "overfitting")
    h = model.fit(x, y, epochs=2, initial_epoch=1, validation_data=(x, y), verbose=0,
                  validation_freq=3)
    assert h.epoch == [1] and "val_loss" not in h.history
    h.plot()


def test_weight_and_step_argument_errors():
    from ember.utils.data import DataLoader, TensorDataset

    x, y = _blobs(30)
    model = _frozen()
    before = np.array(model[0].weight.detach())
    for kwargs, match in [
        ({"steps_per_epoch": -1}, r"steps_per_epoch must be a positive int .* got -1"),
        ({"steps_per_epoch": 0}, r"steps_per_epoch must be a positive int"),
        ({"validation_steps": 2.5}, r"validation_steps must be a positive int .* got 2\.5"),
        ({"validation_batch_size": 0}, r"validation_batch_size must be a positive int"),
        ({"validation_freq": 0}, r"validation_freq must be at least 1"),
        ({"validation_freq": [1, 0]}, r"1-based epoch numbers .* got the entry 0"),
        ({"class_weight": {"1": 2.0}}, r"class_weight keys must be class indices .* '1' \(str\)"),
        ({"class_weight": {-1: 2.0}}, r"class_weight keys must be class indices .* -1"),
        ({"class_weight": {True: 2.0}}, r"class_weight keys must be class indices"),
        ({"class_weight": {5: 2.0}}, r"class_weight key 5 is not a class index: the model has 3 "
                                     r"classes \(0\.\.2\)"),
        ({"class_weight": {0: -1.0}}, r"class_weight\[0\] must be a finite, non-negative"),
        ({"class_weight": {}}, r"class_weight is empty"),
        ({"sample_weight": np.ones(29)}, r"sample_weight has 29 weights but x has 30 samples"),
        ({"sample_weight": np.ones((30, 2))}, r"sample_weight must be 1-D.*\(30, 2\)"),
        ({"sample_weight": np.full(30, np.nan)}, r"finite, non-negative.*nan"),
        ({"validation_data": (x, y, np.ones(5))},
         r"validation_data sample_weight has 5 weights but x has 30 samples"),
        ({"validation_data": (x, y, None, None)}, r"\(x_val, y_val, sample_weight_val\)"),
    ]:
        with pytest.raises(ValueError, match=match):
            model.fit(x, y, verbose=0, **kwargs)
    for kwargs, match in [({"validation_freq": "2"}, r"validation_freq must be an int .* str"),
                          ({"validation_freq": 1.5}, r"validation_freq must be an int"),
                          ({"class_weight": [1.0, 2.0]}, r"class_weight must be a dict")]:
        with pytest.raises(TypeError, match=match):
            model.fit(x, y, verbose=0, **kwargs)
    np.testing.assert_array_equal(before, np.array(model[0].weight.detach()))
    data = TensorDataset(ember.tensor(x), ember.tensor(y))
    for source, kind in ((data, "Dataset"), (DataLoader(data, batch_size=8), "DataLoader")):
        with pytest.raises(ValueError, match=rf"sample_weight cannot be given with a {kind}; "
                                             r"make the .* yield \(x, y, sample_weight\)"):
            model.fit(source, verbose=0, sample_weight=np.ones(30))
        with pytest.raises(ValueError, match="sample_weight cannot be given"):
            model.evaluate(source, verbose=0, sample_weight=np.ones(30))
    with pytest.raises(ValueError, match=r"evaluate sample_weight has 3 weights but x has 30"):
        model.evaluate(x, y, sample_weight=np.ones(3), verbose=0)
    with pytest.raises(ValueError, match=r"steps must be a positive int .* got -2"):
        model.evaluate(x, y, steps=-2, verbose=0)
    with pytest.raises(ValueError, match=r"steps must be a positive int .* got '3'"):
        model.predict(x, steps="3")
    reg = _frozen(n_out=1, loss="mse")
    with pytest.raises(ValueError, match="class_weight needs class labels.*sample_weight"):
        reg.fit(x, y.astype(np.float32), verbose=0, class_weight={0: 1.0})
