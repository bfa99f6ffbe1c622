"""ember.metrics against hand computations with NumPy (scikit-learn's definitions) and torch."""

import numpy as np
import pytest
import torch

import ember
from ember import metrics


def _batches(n, c, seed, batches=3):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    labels = rng.integers(0, c, size=n)
    cuts = np.array_split(np.arange(n), batches)
    return logits, labels, cuts


def _hand_confusion(true, pred, c):
    cm = np.zeros((c, c), dtype=np.int64)
    for t, p in zip(true, pred):
        cm[t, p] += 1
    return cm


def _hand_macro(true, pred, c):
    """scikit-learn's macro precision/recall/F1 (labels present in true or pred, zero_division=0)."""
    ps, rs, fs = [], [], []
    for k in range(c):
        tp = np.sum((pred == k) & (true == k))
        fp = np.sum((pred == k) & (true != k))
        fn = np.sum((pred != k) & (true == k))
        if tp + fp + fn == 0:
            continue
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r else 0.0)
    return np.mean(ps), np.mean(rs), np.mean(fs)


def test_accuracy_accumulates_over_batches_and_accepts_tensors():
    logits, labels, cuts = _batches(50, 4, 0)
    m = metrics.Accuracy()
    for idx in cuts:
        m.update(ember.tensor(logits[idx]), ember.tensor(labels[idx]))
    expected = np.mean(logits.argmax(1) == labels)
    assert m.result() == pytest.approx(expected)
    m.reset()
    assert m.result() == 0.0
    m.update_state(labels, logits)  # Keras order: y_true first
    assert m.result() == pytest.approx(expected)
    m.reset_state()
    assert m.total == 0


def test_accuracy_one_hot_and_binary():
    logits, labels, _ = _batches(30, 3, 1)
    onehot = np.eye(3)[labels]
    m = metrics.Accuracy()
    m.update(logits, onehot)
    assert m.result() == pytest.approx(np.mean(logits.argmax(1) == labels))

    rng = np.random.default_rng(2)
    probs = rng.uniform(size=(40, 1))
    y = rng.integers(0, 2, size=40)
    b = metrics.Accuracy()
    b.update(probs, y)
    assert b.result() == pytest.approx(np.mean((probs[:, 0] > 0.5) == y))
    logit_acc = metrics.Accuracy(threshold=0.0)
    logit_acc.update(probs - 0.5, y.astype(np.float32))
    assert logit_acc.result() == pytest.approx(b.result())


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_torch_topk(k):
    logits, labels, cuts = _batches(60, 5, 3)
    m = metrics.TopKAccuracy(k)
    for idx in cuts:
        m.update(logits[idx], labels[idx])
    top = torch.topk(torch.tensor(logits), k, dim=1).indices.numpy()
    expected = np.mean([labels[i] in top[i] for i in range(len(labels))])
    assert m.result() == pytest.approx(expected)


def test_confusion_matrix_and_macro_scores():
    logits, labels, cuts = _batches(80, 4, 4)
    pred = logits.argmax(1)
    cm = metrics.ConfusionMatrix(num_classes=4)
    p, r, f = metrics.Precision(), metrics.Recall(), metrics.F1Score()
    for idx in cuts:
        for m in (cm, p, r, f):
            m.update(logits[idx], labels[idx])
    np.testing.assert_array_equal(cm.result(), _hand_confusion(labels, pred, 4))
    assert cm.result().dtype == np.int64
    hp, hr, hf = _hand_macro(labels, pred, 4)
    assert p.result() == pytest.approx(hp)
    assert r.result() == pytest.approx(hr)
    assert f.result() == pytest.approx(hf)


def test_macro_scores_skip_absent_classes_and_zero_for_unpredicted():
    # class 2 never occurs; class 1 is true once but never predicted
    true = np.array([0, 0, 1, 3, 3])
    pred = np.array([0, 0, 0, 3, 0])
    scores = np.eye(4)[pred]
    p = metrics.Precision()
    p.update(scores, true)
    hp, hr, hf = _hand_macro(true, pred, 4)
    assert p.result() == pytest.approx(hp)
    r = metrics.Recall(average=None)
    r.update(scores, true)
    np.testing.assert_allclose(r.result(), [1.0, 0.0, 0.0, 0.5])
    f = metrics.F1Score()
    f.update(scores, true)
    assert f.result() == pytest.approx(hf)


def test_confusion_matrix_grows_and_checks_range():
    cm = metrics.ConfusionMatrix()
    cm.update(np.array([0, 1]), np.array([0, 1]))
    cm.update(np.array([2]), np.array([4]))
    assert cm.result().shape == (5, 5)
    assert cm.result()[4, 2] == 1
    fixed = metrics.ConfusionMatrix(num_classes=3)
    with pytest.raises(ValueError, match="0..2"):
        fixed.update(np.eye(3)[[0, 1]], np.array([0, 3]))


def test_regression_metrics_align_column_targets():
    rng = np.random.default_rng(5)
    pred = rng.normal(size=(20, 1)).astype(np.float32)
    true = rng.normal(size=20).astype(np.float32)
    mae, mse = metrics.MeanAbsoluteError(), metrics.MeanSquaredError()
    for idx in np.array_split(np.arange(20), 3):
        mae.update(pred[idx], true[idx])
        mse.update(ember.tensor(pred[idx]), ember.tensor(true[idx]))
    diff = pred[:, 0].astype(np.float64) - true
    assert mae.result() == pytest.approx(np.abs(diff).mean())
    assert mse.result() == pytest.approx((diff ** 2).mean())
    assert mse.result() == pytest.approx(
        torch.nn.functional.mse_loss(torch.tensor(pred[:, 0]), torch.tensor(true)).item(), rel=1e-5)
    with pytest.raises(ValueError, match="different numbers"):
        mae.update(pred, true[:5])


def test_mean_and_function_metric():
    m = metrics.Mean()
    m.update(2.0, weight=1)
    m.update(np.array([4.0, 6.0]), weight=3)
    assert m.result() == pytest.approx((2 + 5 * 3) / 4)

    def max_error(y_pred, y_true):
        return float(np.max(np.abs(np.asarray(y_pred) - np.asarray(y_true))))

    w = metrics.MeanMetricWrapper(max_error)
    assert w.name == "max_error"
    w.update(np.zeros(2), np.ones(2))       # 1.0 over 2 samples
    w.update(np.zeros(6), np.full(6, 3.0))  # 3.0 over 6 samples
    assert w.result() == pytest.approx((2 * 1 + 6 * 3) / 8)


def test_metric_names_and_registry_errors():
    assert metrics.get("acc").name == "acc"
    assert isinstance(metrics.get("top5"), metrics.TopKAccuracy)
    assert isinstance(metrics.get("f1"), metrics.F1Score)
    with pytest.raises(ValueError, match="valid names: .*accuracy"):
        metrics.get("acuracy")
    with pytest.raises(ValueError, match="k >= 1"):
        metrics.TopKAccuracy(0)


# --------------------------------------------------------------------- the state protocol

def _split_and_merge(make, batches):
    """Two metrics see alternate batches; their merged state goes into a fresh third one."""
    whole, first, second = make(), make(), make()
    for i, (y_pred, y_true) in enumerate(batches):
        whole.update(y_pred, y_true)
        (first if i % 2 == 0 else second).update(y_pred, y_true)
    merged = make()
    merged.merge([first.state(), second.state()])
    return whole, merged


@pytest.mark.parametrize("make", [
    metrics.Accuracy, lambda: metrics.TopKAccuracy(k=2), metrics.F1Score, metrics.Precision,
    metrics.Recall, metrics.ConfusionMatrix, metrics.MeanAbsoluteError, metrics.MeanSquaredError,
    lambda: metrics.MeanMetricWrapper(lambda p, t: float(np.mean(np.asarray(p)))),
])
def test_merged_state_equals_one_metric_over_all_batches(make):
    logits, labels, cuts = _batches(40, 4, seed=3, batches=4)
    if make in (metrics.MeanAbsoluteError, metrics.MeanSquaredError):
        batches = [(logits[c, 0], labels[c].astype(np.float32)) for c in cuts]
    else:
        batches = [(logits[c], labels[c]) for c in cuts]
    whole, merged = _split_and_merge(make, batches)
    np.testing.assert_allclose(np.asarray(merged.result()), np.asarray(whole.result()))
    assert merged.state().keys() == whole.state().keys()


def test_merged_confusion_matrices_of_different_sizes():
    # one rank saw classes 0..1 only, the other 0..3: the matrices are added in their corner
    small, large = metrics.ConfusionMatrix(), metrics.ConfusionMatrix()
    small.update(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
    large.update(np.eye(4, dtype=np.float32), np.array([0, 1, 3, 3]))
    merged = metrics.ConfusionMatrix()
    merged.merge([small.state(), large.state()])
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0], expected[0, 1] = 1, 1  # from the 2-class rank: true 0, predicted 0 and 1
    expected[0, 0] += 1
    expected[1, 1] += 1
    expected[3, 2] += 1
    expected[3, 3] += 1
    np.testing.assert_array_equal(merged.result(), expected)


def test_state_is_what_a_metric_declares():
    class Hits(metrics.Metric):
        state_names = ("hits", "seen")

        def reset(self):
            self.hits, self.seen, self.threshold_used = 0, 0, 0.5

        def _update(self, y_pred, y_true):
            self.hits += int((y_pred == y_true).sum())
            self.seen += int(y_true.size)

        def result(self):
            return self.hits / self.seen if self.seen else 0.0

    a, b = Hits(), Hits()
    a.update(np.array([1, 2, 3]), np.array([1, 2, 0]))
    b.update(np.array([4]), np.array([4]))
    assert a.state() == {"hits": 2, "seen": 3}  # configuration is not state
    a.merge([a.state(), b.state()])
    assert a.result() == pytest.approx(3 / 4)
    b.dist_counters = ("threshold_used",)  # the older way to name more counters still counts
    assert b.state() == {"hits": 1, "seen": 1, "threshold_used": 0.5}


# ------------------------------------------------------------------ each family's names

def test_each_family_resolves_its_own_names():
    params = list(ember.nn.Linear(3, 2).parameters())
    sgd = ember.optim.get("SGD", params)
    assert isinstance(sgd, ember.optim.SGD) and sgd.defaults["lr"] == 0.01
    adam = ember.optim.get("adam", params)
    assert isinstance(adam, ember.optim.Adam)
    assert adam.defaults["lr"] == torch.optim.Adam([torch.zeros(1)]).defaults["lr"]
    assert ember.optim.get(adam, params) is adam
    assert isinstance(ember.optim.get(ember.optim.RMSprop, params), ember.optim.RMSprop)
    with pytest.raises(ValueError, match="valid names: .*adam"):
        ember.optim.get("adan", params)
    with pytest.raises(ValueError, match="no parameters"):
        ember.optim.get("adam", [])

    from ember.losses import compile_loss

    # the Keras cross-entropy names read the output by Keras' rule (probabilities after a final
    # Softmax/Sigmoid, logits otherwise); "cross_entropy" stays PyTorch's loss on logits
    from ember.losses import KerasCrossentropy, binary_crossentropy

    fn, kind = compile_loss("binary_crossentropy")
    assert isinstance(fn, KerasCrossentropy) and fn.fn is binary_crossentropy and kind == "binary"
    fn, kind = compile_loss("sparse_categorical_crossentropy")
    assert isinstance(fn, KerasCrossentropy) and kind == "sparse"
    assert isinstance(compile_loss("cross_entropy")[0], ember.nn.CrossEntropyLoss)
    assert compile_loss(ember.nn.functional.mse_loss) == (ember.nn.functional.mse_loss, "regression")
    assert compile_loss(ember.nn.HuberLoss)[1] == "regression"
    with pytest.raises(ValueError, match="valid names: .*mse"):
        compile_loss("msee")

    assert metrics.get("accuracy", loss_kind="binary_logits").threshold == 0.0
    assert metrics.get("accuracy").threshold == 0.5
    from ember.models import registry  # the older names still reach the same registries

    assert registry.OPTIMIZERS["sgd"] == ("SGD", {"lr": 0.01})
    assert registry.get_loss("mae")[1] == "regression"
