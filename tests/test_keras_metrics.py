"""Keras' metrics: ``update_state(y_true, y_pred)`` in Keras' order, the metric classes and
names, and their state protocol (issue 13, Keras habits).

References are computed exactly in the test: ROC AUC by ranking (the Mann-Whitney statistic),
accuracies, precision/recall and regression scores with NumPy, top-k with ``torch.topk``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import metrics


def _exact_roc_auc(y, scores):
    """The probability that a positive scores above a negative (ties count one half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _exact_average_precision(y, scores):
    order = np.argsort(-scores, kind="mergesort")
    hits = y[order] == 1
    precision_at = np.cumsum(hits) / np.arange(1, len(y) + 1)
    return precision_at[hits].mean()


def _binary_scores(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    scores = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1.5, size=n))))
    return y.astype(np.float32), scores.astype(np.float32)


def test_update_state_takes_keras_order_and_update_torchmetrics_order():
    # 3 positives predicted, 1 of them right; 2 true positives in all: precision 1/3, recall 1/2
    y_true = np.array([1, 0, 0, 1, 0], np.float32)
    y_pred = np.array([0.9, 0.8, 0.7, 0.2, 0.1], np.float32)
    keras_style = metrics.Precision(thresholds=0.5)
    keras_style.update_state(y_true, y_pred)
    assert keras_style.result() == pytest.approx(1 / 3)
    torch_style = metrics.Precision(thresholds=0.5)
    torch_style.update(y_pred, y_true)
    assert torch_style.result() == pytest.approx(1 / 3)
    recall = metrics.Recall(thresholds=0.5)
    recall.update_state(y_true, y_pred)
    assert recall.result() == pytest.approx(1 / 2)
    acc = metrics.Accuracy()
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]], np.float32)
    labels = np.array([0, 0, 0])
    acc.update_state(labels, logits)
    assert acc.result() == pytest.approx(2 / 3)


def test_auc_roc_within_half_a_percent_of_the_exact_area():
    y, scores = _binary_scores()
    exact = _exact_roc_auc(y, scores)
    auc = metrics.AUC()
    for start in range(0, len(y), 300):  # in batches, as fit feeds it
        auc.update_state(y[start:start + 300], scores[start:start + 300])
    assert auc.result() == pytest.approx(exact, rel=0.005)
    try:  # scikit-learn, where it is installed, agrees with the exact reference
        from sklearn.metrics import roc_auc_score
    except ImportError:
        pass
    else:
        assert auc.result() == pytest.approx(roc_auc_score(y, scores), rel=0.005)
        assert exact == pytest.approx(roc_auc_score(y, scores), rel=1e-9)
    # from logits: the same area
    logits = np.log(scores / (1 - scores))
    auc_logits = metrics.AUC(from_logits=True)
    auc_logits.update_state(y, logits)
    assert auc_logits.result() == pytest.approx(auc.result(), rel=1e-6)
    # a (N, 1) column and a (N,) target are the same data
    auc_col = metrics.AUC()
    auc_col.update_state(y, scores.reshape(-1, 1))
    assert auc_col.result() == pytest.approx(auc.result(), rel=1e-12)
    auc.reset_state()
    assert auc.result() == 0.0


def test_auc_pr_close_to_average_precision_and_minoring_majoring_bracket():
    y, scores = _binary_scores(seed=1)
    pr = metrics.AUC(curve="PR")
    pr.update_state(y, scores)
    assert pr.result() == pytest.approx(_exact_average_precision(y, scores), rel=0.02)
    low, high = metrics.AUC(summation_method="minoring"), metrics.AUC(summation_method="majoring")
    low.update_state(y, scores)
    high.update_state(y, scores)
    exact = _exact_roc_auc(y, scores)
    assert low.result() <= exact <= high.result()


def test_auc_state_merges_across_processes():
    y, scores = _binary_scores(seed=2)
    whole, a, b = metrics.AUC(), metrics.AUC(), metrics.AUC()
    whole.update_state(y, scores)
    a.update_state(y[:700], scores[:700])
    b.update_state(y[700:], scores[700:])
    merged = metrics.AUC()
    merged.merge([a.state(), b.state()])
    assert merged.result() == pytest.approx(whole.result(), rel=1e-12)


def test_accuracy_classes_match_numpy_and_torch():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 6)).astype(np.float32)
    labels = rng.integers(0, 6, size=50)
    onehot = np.eye(6, dtype=np.float32)[labels]
    top3 = torch.topk(torch.tensor(logits), 3, dim=1).indices.numpy()
    expected_top3 = np.mean([labels[i] in top3[i] for i in range(50)])
    cases = [
        (metrics.CategoricalAccuracy(), onehot, np.mean(logits.argmax(1) == labels)),
        (metrics.SparseCategoricalAccuracy(), labels, np.mean(logits.argmax(1) == labels)),
        (metrics.TopKCategoricalAccuracy(k=3), onehot, expected_top3),
        (metrics.SparseTopKCategoricalAccuracy(k=3), labels, expected_top3),
    ]
    for metric, target, expected in cases:
        metric.update_state(target[:20], logits[:20])
        metric.update_state(target[20:], logits[20:])
        assert metric.result() == pytest.approx(expected), type(metric).__name__
    probs = 1 / (1 + np.exp(-logits))
    multi = (rng.random(size=(50, 6)) > 0.5).astype(np.float32)
    binary = metrics.BinaryAccuracy(threshold=0.5)
    binary.update_state(multi, probs)
    assert binary.result() == pytest.approx(np.mean((probs > 0.5) == (multi > 0.5)))
    weighted = metrics.SparseCategoricalAccuracy()
    w = rng.random(50)
    weighted.update_state(labels, logits, sample_weight=w)
    assert weighted.result() == pytest.approx(np.sum(w * (logits.argmax(1) == labels)) / w.sum())


def test_precision_recall_with_thresholds_top_k_and_class_id():
    rng = np.random.default_rng(4)
    probs = rng.random(size=(40, 5)).astype(np.float32)
    y = (rng.random(size=(40, 5)) > 0.6).astype(np.float32)

    def ratio(pred, truth, recall=False):
        tp = np.sum(pred & truth)
        other = np.sum(~pred & truth) if recall else np.sum(pred & ~truth)
        return tp / (tp + other)

    truth = y > 0.5
    several = metrics.Precision(thresholds=[0.3, 0.7])
    several.update_state(y, probs)
    assert several.result() == pytest.approx([ratio(probs > 0.3, truth), ratio(probs > 0.7, truth)])
    top2 = metrics.Precision(top_k=2)
    top2.update_state(y, probs)
    kth = np.sort(probs, axis=1)[:, -2:-1]
    assert top2.result() == pytest.approx(ratio(probs >= kth, truth))
    one_class = metrics.Recall(class_id=3, thresholds=0.5)
    one_class.update_state(y, probs)
    assert one_class.result() == pytest.approx(ratio(probs[:, 3] > 0.5, truth[:, 3], recall=True))


def test_regression_metrics_match_their_formulas():
    rng = np.random.default_rng(5)
    yt = rng.uniform(0.5, 3, size=(30, 2))
    yp = yt + rng.normal(0, 0.3, size=(30, 2))
    yp = np.abs(yp)
    eps = 1e-7
    r2_per_column = 1 - ((yt - yp) ** 2).sum(0) / ((yt - yt.mean(0)) ** 2).sum(0)
    kl_t, kl_p = yt / yt.sum(1, keepdims=True), yp / yp.sum(1, keepdims=True)
    cases = [
        (metrics.RootMeanSquaredError(), np.sqrt(np.mean((yt - yp) ** 2))),
        (metrics.MeanSquaredError(), np.mean((yt - yp) ** 2)),
        (metrics.MeanAbsoluteError(), np.mean(np.abs(yt - yp))),
        (metrics.MeanAbsolutePercentageError(), np.mean(100 * np.abs(yt - yp) / np.abs(yt))),
        (metrics.MeanSquaredLogarithmicError(), np.mean((np.log1p(yp) - np.log1p(yt)) ** 2)),
        (metrics.LogCoshError(), np.mean(np.log(np.cosh(yp - yt)))),
        (metrics.R2Score(), r2_per_column.mean()),
    ]
    for metric, expected in cases:
        metric.update_state(yt[:13], yp[:13])
        metric.update_state(yt[13:], yp[13:])
        assert metric.result() == pytest.approx(expected, rel=1e-6), type(metric).__name__
    kld = metrics.KLDivergence()
    kld.update_state(kl_t, kl_p)
    expected = np.mean(np.sum(np.clip(kl_t, eps, 1) * np.log(kl_t / kl_p), -1))
    assert kld.result() == pytest.approx(expected, rel=1e-6)
    cos = metrics.CosineSimilarity()
    cos.update_state(yt, yp)
    expected = np.mean(np.sum(yt * yp, 1) / np.linalg.norm(yt, axis=1) / np.linalg.norm(yp, axis=1))
    assert cos.result() == pytest.approx(expected, rel=1e-6)


def test_mean_and_sum_take_keras_sample_weights():
    mean, total = metrics.Mean(), metrics.Sum()
    mean.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    total.update_state([1.0, 2.0, 3.0])
    total.update_state([4.0])
    assert mean.result() == pytest.approx(2.0)
    assert total.result() == pytest.approx(10.0)
    other = metrics.Sum()
    other.update_state([5.0])
    merged = metrics.Sum()
    merged.merge([total.state(), other.state()])
    assert merged.result() == pytest.approx(15.0)


@pytest.mark.parametrize("cls, target", [
    (metrics.R2Score, "reg"), (metrics.RootMeanSquaredError, "reg"), (metrics.LogCoshError, "reg"),
    (metrics.CategoricalAccuracy, "onehot"), (metrics.SparseTopKCategoricalAccuracy, "sparse"),
    (metrics.KLDivergence, "prob"), (metrics.AUC, "multi"),
])
def test_new_metrics_merge_their_state_exactly(cls, target):
    rng = np.random.default_rng(6)
    pred = rng.random(size=(24, 4)).astype(np.float32)
    truth = {"reg": rng.random(size=(24, 4)), "onehot": np.eye(4)[rng.integers(0, 4, 24)],
             "sparse": rng.integers(0, 4, 24), "prob": rng.dirichlet(np.ones(4), 24),
             "multi": (rng.random(size=(24, 4)) > 0.5).astype(np.float32)}[target]
    whole, a, b = cls(), cls(), cls()
    whole.update_state(truth, pred)
    a.update_state(truth[:10], pred[:10])
    b.update_state(truth[10:], pred[10:])
    merged = cls()
    merged.merge([a.state(), b.state()])
    assert merged.result() == pytest.approx(whole.result(), rel=1e-9)


def test_keras_metric_names_compile_and_log():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32).reshape(-1, 1)
    ember.manual_seed(0)
    model = ember.models.Sequential(ember.nn.Linear(4, 1), ember.nn.Sigmoid())
    names = ["auc", "binary_accuracy", "precision", "recall", "mse", "rmse", "binary_crossentropy"]
    model.compile("adam", "binary_crossentropy", metrics=names)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_split=0.25)
    for name in names:
        assert len(history.history[name]) == 2 and len(history.history["val_" + name]) == 2
    assert 0.0 <= history.history["auc"][-1] <= 1.0
    for name in metrics.NAMES:
        assert isinstance(metrics.get(name), metrics.Metric)
    with pytest.raises(ValueError, match="valid names: .*auc"):
        metrics.get("aucc")
    # under a binary loss "precision" is Keras' (the positive class), else a macro average
    assert isinstance(metrics.get("precision", loss_kind="binary"), metrics.ThresholdPrecision)
    assert isinstance(metrics.get("recall", loss_kind="sparse"), metrics.Recall)
    mse = metrics.MeanSquaredError()
    mse.update_state([[1.0], [2.0]], [[2.0], [4.0]], sample_weight=[3.0, 1.0])
    assert mse.result() == pytest.approx((3 * 1 + 1 * 4) / 4)
