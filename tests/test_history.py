"""History: the per-epoch record, learning-curve plots and the under/over-fitting diagnosis."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.models import Diagnosis, History

OVERFIT = {  # validation loss bottoms out at epoch 3 (0-based) while training keeps falling
    "loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.12, 0.08, 0.05],
    "val_loss": [1.05, 0.7, 0.55, 0.5, 0.56, 0.65, 0.75, 0.9],
    "accuracy": [0.5, 0.7, 0.8, 0.88, 0.93, 0.96, 0.98, 0.99],
}
UNDERFIT = {  # barely learning, and still falling at the same rate at the end
    "loss": [2.30, 2.25, 2.20, 2.15, 2.10, 2.05],
    "val_loss": [2.31, 2.26, 2.21, 2.16, 2.11, 2.06],
    "accuracy": [0.1, 0.12, 0.15, 0.17, 0.2, 0.22],
}
GOOD = {  # converged, validation close to training and flat
    "loss": [1.0, 0.5, 0.35, 0.31, 0.30, 0.295, 0.293],
    "val_loss": [1.02, 0.55, 0.40, 0.37, 0.36, 0.358, 0.357],
    "accuracy": [0.6, 0.8, 0.86, 0.88, 0.89, 0.89, 0.895],
}


def test_diagnose_overfitting_curve():
    d = History(OVERFIT).diagnose()
    assert isinstance(d, Diagnosis)
    assert d.verdict == "overfitting"
    assert d.best_epoch == 3
    assert d.rising_from == 4
    assert d.gap.end == pytest.approx(0.9 - 0.05)
    assert d.gap.best == pytest.approx(0.5 - 0.3)
    text = " ".join(d.suggestions).lower()
    for word in ("more training data", "smaller model", "dropout", "weight decay", "early stopping"):
        assert word in text
    report = str(d)
    assert "OVERFITTING" in report and "best epoch: 4" in report and "\n" in report


def test_diagnose_underfitting_curve():
    d = History(UNDERFIT).diagnose()
    assert d.verdict == "underfitting"
    assert d.rising_from is None
    text = " ".join(d.suggestions).lower()
    for word in ("bigger model", "more epochs", "higher learning rate", "less regularisation"):
        assert word in text
    assert any("still falling" in r for r in d.reasons)


def test_diagnose_good_fit_curve():
    d = History(GOOD).diagnose()
    assert d.verdict == "good fit", str(d)
    assert d.best_epoch == 6
    assert d.rising_from is None
    assert d.gap.end == pytest.approx(0.357 - 0.293)


def test_diagnose_large_gap_without_rise_is_overfitting():
    h = History({"loss": [0.9, 0.3, 0.1, 0.05, 0.04], "val_loss": [1.0, 0.9, 0.85, 0.84, 0.84]})
    d = h.diagnose()
    assert d.verdict == "overfitting"
    assert d.rising_from is None


def test_diagnose_without_validation_and_errors():
    d = History({"loss": [1.0, 0.4, 0.2, 0.15, 0.14, 0.139]}).diagnose()
    assert d.verdict == "good fit" and d.gap is None
    assert any("no validation data" in r for r in d.reasons)
    with pytest.raises(ValueError, match="at least one epoch"):
        History().diagnose()


def test_history_from_dict_and_best_epoch():
    h = History(OVERFIT)
    assert h.epoch == list(range(8))
    assert h.best_epoch() == 3
    assert h.best_epoch("accuracy") == 7
    with pytest.raises(KeyError, match="val_accuracy"):
        h.best_epoch("val_accuracy")


def test_plot_writes_png(tmp_path):
    path = tmp_path / "curves" / "history.png"
    out = History(OVERFIT).plot(path)
    assert out == str(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    fig = History(OVERFIT).plot(metrics=["loss"])
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert [l.get_label() for l in ax.get_lines()][:2] == ["training", "validation"]
    # the best-epoch marker: a vertical line at epoch 4 (1-based x axis)
    assert any(list(l.get_xdata()) == [4, 4] for l in ax.get_lines())
    assert any("best epoch 4" in t.get_text() for t in ax.texts)
    with pytest.raises(KeyError, match="no values"):
        History(OVERFIT).plot(metrics=["f1"])


def test_real_fit_overfits_random_labels():
    """A wide network memorising random labels: training loss falls, validation loss rises."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 8)).astype(np.float32)
    y = rng.integers(0, 2, size=48)
    model = nn.Sequential(nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 2))
    model.compile(ember.optim.Adam(model.parameters(), lr=0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=60, batch_size=32, validation_split=0.5, verbose=0)
    d = history.diagnose()
    assert d.verdict == "overfitting", str(d)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert d.rising_from is not None and d.rising_from > d.best_epoch


def test_diagnose_ignores_a_one_epoch_bump_at_the_end():
    """A noisy last epoch is not a trend: the minimum must lie before the final window."""
    loss = [1.2, 0.6, 0.4, 0.3, 0.25, 0.2, 0.18, 0.16, 0.15, 0.14, 0.13, 0.12, 0.115, 0.11,
            0.105, 0.1, 0.098, 0.096, 0.095, 0.094]
    val = [1.0, 0.6, 0.42, 0.33, 0.27, 0.22, 0.2, 0.18, 0.17, 0.16, 0.15, 0.145, 0.14, 0.135,
           0.13, 0.128, 0.126, 0.125, 0.115, 0.14]
    d = History({"loss": loss, "val_loss": val}).diagnose()
    assert d.verdict == "good fit", str(d)
    assert d.rising_from is None and d.best_epoch == 18
    # the same bump sustained over the last epochs is over-fitting
    val_up = val[:16] + [0.15, 0.17, 0.19, 0.21]
    d = History({"loss": loss, "val_loss": val_up}).diagnose()
    assert d.verdict == "overfitting" and d.rising_from == 16


def test_good_fit_still_improving_at_the_end_suggests_more_epochs():
    from ember.models.diagnosis import diagnose

    n = 40
    # flattened (last 4 epochs fall at ~34% of the average rate, under the 50% "steep" line) but
    # validation loss is still lowest in the last epoch
    train = [1.2 * 0.9 ** i + 0.1 for i in range(n)]
    val = [t + 0.03 for t in train]
    d = diagnose({"loss": train, "val_loss": val})
    assert d.best_epoch == n - 1
    assert d.verdict == "good fit", str(d)
    assert d.suggestions[0].startswith("Train a few more epochs")
    assert any("had not finished improving" in r for r in d.reasons)
    # a slower decay is still falling steeply at the end (~55% of the average rate): under-fitting
    slow = [1.2 * 0.97 ** i + 0.1 for i in range(n)]
    d_slow = diagnose({"loss": slow, "val_loss": [t + 0.03 for t in slow]})
    assert d_slow.verdict == "underfitting", str(d_slow)
    assert any("still falling steeply" in r for r in d_slow.reasons)
    flat = [1.2 * 0.7 ** i + 0.1 for i in range(n)]
    val = [v + 0.03 + (0.01 if i == n - 1 else 0) for i, v in enumerate(flat)]
    d2 = diagnose({"loss": flat, "val_loss": val})
    assert d2.verdict == "good fit" and not any("more epochs" in s for s in d2.suggestions)


def test_best_epoch_skips_non_finite_values_like_diagnose():
    from ember.models.history import History

    h = History()
    for e, (loss, val) in enumerate([(1.0, float("nan")), (0.8, 0.5), (0.6, 0.3), (0.5, float("inf"))]):
        h.epoch.append(e)
        h.history.setdefault("loss", []).append(loss)
        h.history.setdefault("val_loss", []).append(val)
    assert h.best_epoch() == 2 == h.diagnose().best_epoch
    assert h.best_epoch("loss") == 3
