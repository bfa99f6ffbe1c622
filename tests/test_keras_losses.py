"""Keras' rules for string losses and Keras' loss names (issue 13, Keras habits).

* A string cross-entropy reads the output of a final Softmax/Sigmoid as probabilities and
  computes the loss from that op's input (the logits); anything else is logits. Checked against
  PyTorch's losses on the pre-activation logits, in training (graph recorded) and evaluation
  (no graph), for modules and for functional softmax.
* Every Keras loss name against the formula of Keras' docs, and PyTorch where it has the loss.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember import losses, nn
from ember.losses import compile_loss


def _torch(t):
    return torch.tensor(np.asarray(t.detach()))


def _classification_data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.5, size=(3, 4))
    y = rng.integers(0, 3, size=n)
    x = (centres[y] + rng.normal(0, 1.0, size=(n, 4))).astype(np.float32)
    return x, y.astype(np.int64)


def _stack(last, seed=0, out=3):
    ember.manual_seed(seed)
    layers = [nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, out)]
    return ember.models.Sequential(*layers, *([last] if last is not None else []))


@pytest.mark.parametrize("name, last, target", [
    ("sparse_categorical_crossentropy", nn.Softmax(dim=1), "sparse"),
    ("categorical_crossentropy", nn.Softmax(dim=-1), "onehot"),
    ("sparse_categorical_crossentropy", nn.LogSoftmax(dim=1), "sparse"),
])
def test_softmax_output_is_read_as_probabilities_from_its_logits(name, last, target):
    x, y = _classification_data(16)
    model = _stack(last)
    model.compile("adam", name)
    logits_model = model[:3]
    yt = ember.tensor(y) if target == "sparse" else ember.tensor(np.eye(3, dtype=np.float32)[y])
    expected = TF.cross_entropy(_torch(logits_model(ember.tensor(x))),
                                torch.tensor(y) if target == "sparse" else _torch(yt))
    # training step: a graph is recorded
    out = model(ember.tensor(x))
    assert float(model.compute_loss(out, yt)) == pytest.approx(float(expected), rel=1e-6)
    # evaluation: no graph, the watched module still names its input
    with ember.no_grad():
        out = model(ember.tensor(x))
        assert float(model.compute_loss(out, yt)) == pytest.approx(float(expected), rel=1e-6)
    # and the gradient is the logits' cross-entropy gradient
    tl = _torch(logits_model(ember.tensor(x))).requires_grad_(True)
    TF.cross_entropy(tl, torch.tensor(y)).backward()
    out = model(ember.tensor(x))
    model.compute_loss(out, yt).backward()
    w = model[2].weight.grad
    assert w is not None and np.isfinite(np.asarray(w)).all()


def test_sigmoid_output_is_read_as_probabilities_for_binary_crossentropy():
    x, y = _classification_data(32)
    yb = (y == 0).astype(np.float32).reshape(-1, 1)
    model = _stack(nn.Sigmoid(), out=1)
    model.compile("adam", "binary_crossentropy")
    logits = _torch(model[:3](ember.tensor(x)))
    expected = TF.binary_cross_entropy_with_logits(logits, torch.tensor(yb))
    for grad in (True, False):
        with ember.set_grad_enabled(grad):
            out = model(ember.tensor(x))
            assert float(model.compute_loss(out, ember.tensor(yb))) == pytest.approx(
                float(expected), rel=1e-6)
    # a saturated sigmoid: probabilities 0/1 exactly, the logits' loss stays finite and exact
    big = ember.tensor([[40.0], [-40.0]])
    prob_model = ember.models.Sequential(nn.Identity(), nn.Sigmoid())
    fn, _ = compile_loss("binary_crossentropy")
    ember.losses.watch_probability_layers(prob_model)  # what compile does
    value = fn(prob_model(big), ember.tensor([[0.0], [1.0]]))
    assert float(value) == pytest.approx(40.0, rel=1e-6)


def test_output_without_final_activation_is_logits():
    x, y = _classification_data(16)
    model = _stack(None)
    model.compile("adam", "sparse_categorical_crossentropy")
    out = model(ember.tensor(x))
    expected = TF.cross_entropy(_torch(out), torch.tensor(y))
    assert float(model.compute_loss(out, ember.tensor(y))) == pytest.approx(float(expected), rel=1e-6)
    assert model.loss.output_kind == "logits"
    # binary: a model without a Sigmoid gives logits (BCE with logits)
    yb = (y == 0).astype(np.float32).reshape(-1, 1)
    model1 = _stack(None, out=1)
    model1.compile("adam", "binary_crossentropy")
    out = model1(ember.tensor(x))
    expected = TF.binary_cross_entropy_with_logits(_torch(out), torch.tensor(yb))
    assert float(model1.compute_loss(out, ember.tensor(yb))) == pytest.approx(float(expected), rel=1e-6)


class _FunctionalSoftmax(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return nn.functional.softmax(self.fc(x), dim=1)


def test_functional_softmax_is_recognised_in_training_and_evaluation():
    x, y = _classification_data(64)
    ember.manual_seed(1)
    net = _FunctionalSoftmax()
    model = ember.Model(net)
    model.compile("adam", "sparse_categorical_crossentropy")
    expected = TF.cross_entropy(_torch(net.fc(ember.tensor(x))), torch.tensor(y))
    # evaluate before any training: the first batch is run with a graph to read its last op
    got = model.evaluate(x, y, batch_size=64, verbose=0)
    assert got == pytest.approx(float(expected), rel=1e-5)
    assert model.loss.output_kind == "probabilities"


def test_softmax_model_trains_like_the_logits_model():
    x, y = _classification_data(240)
    runs = {}
    for last in (None, nn.Softmax(dim=1)):
        model = _stack(last, seed=3)
        model.compile(ember.optim.Adam(model.parameters(), lr=0.01),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        ember.manual_seed(5)
        history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
        runs[last is None] = history.history
    logits_run, softmax_run = runs[True], runs[False]
    # the same loss on the same logits: the curves agree to float32 rounding
    np.testing.assert_allclose(softmax_run["loss"], logits_run["loss"], rtol=1e-4)
    assert softmax_run["accuracy"][-1] == pytest.approx(logits_run["accuracy"][-1], abs=0.01)
    assert softmax_run["accuracy"][-1] > 0.9
    assert softmax_run["loss"][-1] < 0.5  # not the plateau near 1.57 of probabilities-as-logits


# ------------------------------------------------------------------ Keras' loss formulas

def _pairs(seed=0, shape=(6, 4)):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.05, 1.0, size=shape).astype(np.float64)
    y_pred = rng.uniform(0.05, 1.0, size=shape).astype(np.float64)
    return y_true, y_pred


def _ember_loss(name, y_true, y_pred):
    fn, _ = compile_loss(name)
    return float(fn(ember.tensor(y_pred), ember.tensor(y_true)))


def test_regression_style_losses_match_keras_formulas_and_torch():
    yt, yp = _pairs()
    eps = 1e-7
    cases = {
        "kl_divergence": np.mean(np.sum(np.clip(yt, eps, 1) * np.log(np.clip(yt, eps, 1)
                                                                     / np.clip(yp, eps, 1)), -1)),
        "log_cosh": np.mean(np.log(np.cosh(yp - yt))),
        "mean_absolute_percentage_error": np.mean(100 * np.abs(yt - yp) / np.abs(yt)),
        "mean_squared_logarithmic_error": np.mean((np.log1p(yp) - np.log1p(yt)) ** 2),
        "poisson": np.mean(yp - yt * np.log(yp + eps)),
        "cosine_similarity": np.mean(-np.sum(yt * yp, -1) / np.linalg.norm(yt, axis=-1)
                                     / np.linalg.norm(yp, axis=-1)),
        "huber": np.mean(np.where(np.abs(yp - yt) <= 1, 0.5 * (yp - yt) ** 2,
                                  np.abs(yp - yt) - 0.5)),
    }
    for name, expected in cases.items():
        assert _ember_loss(name, yt, yp) == pytest.approx(expected, rel=1e-6), name
    t, p = torch.tensor(yt), torch.tensor(yp)
    assert _ember_loss("kld", yt, yp) == pytest.approx(
        float(TF.kl_div(p.log(), t, reduction="sum") / len(t)), rel=1e-6)
    assert _ember_loss("poisson", yt, yp) == pytest.approx(
        float(TF.poisson_nll_loss(p, t, log_input=False, eps=1e-7)), rel=1e-6)
    assert _ember_loss("cosine_similarity", yt, yp) == pytest.approx(
        float(-TF.cosine_similarity(p, t, dim=-1).mean()), rel=1e-6)
    assert _ember_loss("huber", yt, yp) == pytest.approx(float(TF.huber_loss(p, t)), rel=1e-6)
    # short names are the same losses
    for short, full in [("kld", "kl_divergence"), ("logcosh", "log_cosh"),
                        ("mape", "mean_absolute_percentage_error"),
                        ("msle", "mean_squared_logarithmic_error")]:
        assert _ember_loss(short, yt, yp) == _ember_loss(full, yt, yp)


def test_hinge_losses_match_keras_formulas():
    rng = np.random.default_rng(2)
    labels01 = rng.integers(0, 2, size=(8, 3)).astype(np.float64)
    pred = rng.normal(size=(8, 3))
    signed = 2 * labels01 - 1
    assert _ember_loss("hinge", labels01, pred) == pytest.approx(
        np.mean(np.maximum(1 - signed * pred, 0)), rel=1e-6)
    assert _ember_loss("squared_hinge", labels01, pred) == pytest.approx(
        np.mean(np.maximum(1 - signed * pred, 0) ** 2), rel=1e-6)
    onehot = np.eye(3)[rng.integers(0, 3, size=8)]
    pos = np.sum(onehot * pred, -1)
    neg = np.max((1 - onehot) * pred, -1)
    assert _ember_loss("categorical_hinge", onehot, pred) == pytest.approx(
        np.mean(np.maximum(neg - pos + 1, 0)), rel=1e-6)
    # -1/1 labels are taken as they are
    assert _ember_loss("hinge", signed, pred) == _ember_loss("hinge", labels01, pred)


def test_focal_crossentropies_match_keras_formulas():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(10, 1))
    y = rng.integers(0, 2, size=(10, 1)).astype(np.float64)
    p = 1 / (1 + np.exp(-logits))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = y * p + (1 - y) * (1 - p)
    expected = np.mean((1 - p_t) ** 2 * bce)
    # no Sigmoid at the end: the output is logits
    assert _ember_loss("binary_focal_crossentropy", y, logits) == pytest.approx(expected, rel=1e-6)
    fn = losses.binary_focal_crossentropy
    balanced = fn(ember.tensor(y), ember.tensor(p), apply_class_balancing=True)
    alpha = y * 0.25 + (1 - y) * 0.75
    np.testing.assert_allclose(np.asarray(balanced), np.mean(alpha * (1 - p_t) ** 2 * bce, -1),
                               rtol=1e-6)
    logits3 = rng.normal(size=(10, 3))
    onehot = np.eye(3)[rng.integers(0, 3, size=10)]
    probs = np.exp(logits3) / np.exp(logits3).sum(-1, keepdims=True)
    expected = np.mean(np.sum(0.25 * (1 - probs) ** 2 * -onehot * np.log(probs), -1))
    assert _ember_loss("categorical_focal_crossentropy", onehot, logits3) == pytest.approx(
        expected, rel=1e-6)


def test_keras_losses_are_differentiable_like_torch():
    yt, yp = _pairs(4)
    for name, torch_fn in [
        ("kld", lambda p, t: TF.kl_div(p.log(), t, reduction="sum") / len(t)),
        ("poisson", lambda p, t: TF.poisson_nll_loss(p, t, log_input=False, eps=1e-7)),
        ("log_cosh", lambda p, t: torch.log(torch.cosh(p - t)).mean()),
    ]:
        p = ember.tensor(yp, requires_grad=True)
        fn, _ = compile_loss(name)
        fn(p, ember.tensor(yt)).backward()
        tp = torch.tensor(yp, requires_grad=True)
        torch_fn(tp, torch.tensor(yt)).backward()
        np.testing.assert_allclose(np.asarray(p.grad), tp.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_keras_loss_names_compile_and_weight_per_sample():
    yt, yp = _pairs(5)
    fn, kind = compile_loss("poisson")
    assert kind == "regression"
    per_sample = fn.per_sample(ember.tensor(yp), ember.tensor(yt))
    assert tuple(per_sample.shape) == (6,)
    fn.reduction = "none"
    np.testing.assert_allclose(np.asarray(fn(ember.tensor(yp), ember.tensor(yt))),
                               np.asarray(per_sample))
    with pytest.raises(ValueError, match="valid names: .*kl_divergence"):
        compile_loss("kl_div_typo")
    assert ember.losses.get("kld") is ember.losses.kl_divergence  # Keras' keras.losses.get


def test_dice_and_tversky_match_keras_formula_and_docs_example():
    # the example of Keras' documentation for dice: two 2x2x1 masks
    y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    t, p = ember.tensor(y_true), ember.tensor(y_pred)
    expected_whole = 1 - 2 * np.sum(y_true * y_pred) / (np.sum(y_true) + np.sum(y_pred))
    assert float(losses.dice(t, p)) == pytest.approx(expected_whole, rel=1e-7)
    assert float(losses.dice(t, p)) == pytest.approx(0.6164384, rel=1e-6)
    per_sample = 1 - 2 * np.sum(y_true * y_pred, (1, 2, 3)) / (
        np.sum(y_true, (1, 2, 3)) + np.sum(y_pred, (1, 2, 3)))
    np.testing.assert_allclose(np.asarray(losses.dice(t, p, axis=(1, 2, 3))), per_sample, rtol=1e-7)
    np.testing.assert_allclose(per_sample, [0.5, 0.75757575], rtol=1e-6)
    assert float(losses.tversky(t, p)) == pytest.approx(float(losses.dice(t, p)), rel=1e-12)
    tp = np.sum(y_true * y_pred)
    fp, fn = np.sum((1 - y_true) * y_pred), np.sum(y_true * (1 - y_pred))
    assert float(losses.tversky(t, p, alpha=0.7, beta=0.3)) == pytest.approx(
        1 - tp / (tp + 0.7 * fp + 0.3 * fn), rel=1e-7)
    assert _ember_loss("dice", y_true, y_pred) == pytest.approx(expected_whole, rel=1e-7)
