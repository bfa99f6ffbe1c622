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
UNDERFIT = {  # levelled off high: the loss stopped falling near where it started
    "loss": [0.70, 0.66, 0.64, 0.635, 0.633, 0.632, 0.632, 0.6318],
    "val_loss": [0.71, 0.67, 0.65, 0.645, 0.643, 0.642, 0.642, 0.6415],
    "accuracy": [0.5, 0.55, 0.58, 0.6, 0.61, 0.6, 0.61, 0.61],
}
STILL_FALLING = {  # barely learning, but still falling at the same rate at the end
    "loss": [2.30, 2.25, 2.20, 2.15, 2.10, 2.05],
    "val_loss": [2.31, 2.26, 2.21, 2.16, 2.11, 2.06],
    "accuracy": [0.1, 0.12, 0.15, 0.17, 0.2, 0.22],
}
GOOD = {  # converged, validation close to training and flat
    "loss": [1.0, 0.5, 0.35, 0.31, 0.30, 0.297, 0.296, 0.296, 0.2958],
    "val_loss": [1.02, 0.55, 0.40, 0.37, 0.36, 0.358, 0.357, 0.3572, 0.3571],
    "accuracy": [0.6, 0.8, 0.86, 0.88, 0.89, 0.89, 0.895, 0.895, 0.895],
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
    assert d.verdict == "underfitting", str(d)
    assert d.rising_from is None
    text = " ".join(d.suggestions).lower()
    for word in ("bigger model", "higher learning rate", "scaled"):
        assert word in text
    assert any("levelled off" in r and "stayed high" in r for r in d.reasons)


def test_diagnose_still_falling_is_still_improving_not_underfitting():
    d = History(STILL_FALLING).diagnose()
    assert d.verdict == "still improving", str(d)
    assert d.trend == pytest.approx(-0.05 / 2.10, rel=1e-6)  # least-squares slope / window mean
    assert d.suggestions[0].startswith("Train longer")
    assert "STILL IMPROVING" in str(d) and "falling 2.38% per epoch" in str(d)


def test_diagnose_good_fit_curve():
    d = History(GOOD).diagnose()
    assert d.verdict == "good fit", str(d)
    assert d.best_epoch == 6  # val_loss 0.357, its lowest
    assert d.rising_from is None
    assert d.gap.end == pytest.approx(0.3571 - 0.2958)


def test_diagnose_large_gap_without_rise_is_overfitting():
    h = History({"loss": [0.9, 0.3, 0.1, 0.05, 0.04], "val_loss": [1.0, 0.9, 0.85, 0.84, 0.84]})
    d = h.diagnose()
    assert d.verdict == "overfitting"
    assert d.rising_from is None


def test_diagnose_without_validation_and_errors():
    d = History({"loss": [1.0, 0.4, 0.2, 0.15, 0.14, 0.139, 0.139, 0.1389]}).diagnose()
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
    # not over-fitting; the training loss still falls 1.3% an epoch, so: still improving
    assert d.verdict == "still improving", str(d)
    assert d.rising_from is None and d.best_epoch == 18
    # the same bump sustained over the last epochs is over-fitting
    val_up = val[:16] + [0.15, 0.17, 0.19, 0.21]
    d = History({"loss": loss, "val_loss": val_up}).diagnose()
    assert d.verdict == "overfitting" and d.rising_from == 16


def test_still_improving_is_told_apart_from_a_good_fit():
    from ember.callbacks.diagnosis import TREND_IMPROVING, diagnose

    n = 40
    # still falling ~1.6% an epoch at the end, validation lowest in the last epoch
    train = [1.2 * 0.9 ** i + 0.1 for i in range(n)]
    val = [t + 0.03 for t in train]
    d = diagnose({"loss": train, "val_loss": val})
    assert d.best_epoch == n - 1
    assert -d.trend > TREND_IMPROVING
    assert d.verdict == "still improving", str(d)
    assert d.suggestions[0].startswith("Train longer")
    # the same shape decayed further: levelled off low, a good fit, no "train longer"
    flat = [1.2 * 0.7 ** i + 0.1 for i in range(n)]
    val = [v + 0.03 + (0.01 if i == n - 1 else 0) for i, v in enumerate(flat)]
    d2 = diagnose({"loss": flat, "val_loss": val})
    assert d2.verdict == "good fit" and not any("Train longer" in s for s in d2.suggestions)
    # too few epochs to judge at all
    assert diagnose({"loss": [1.0, 0.5, 0.4]}).verdict == "still improving"


def test_advice_reads_the_run_settings():
    curve = dict(OVERFIT)
    bare = History(curve, settings={"optimizer": "adam", "lr": 0.01, "weight_decay": 0.0,
                                    "dropout": [], "early_stopping": None, "epochs": 8})
    text = " ".join(bare.diagnose().suggestions)
    assert "Add dropout" in text and "Add weight decay" in text and "EarlyStopping" in text
    equipped = History(curve, settings={
        "optimizer": "adamw", "lr": 0.01, "weight_decay": 0.05, "dropout": [0.3],
        "early_stopping": {"monitor": "val_loss", "patience": 50, "restore_best_weights": True},
        "epochs": 8})
    text = " ".join(equipped.diagnose().suggestions)
    assert "Add dropout" not in text and "Add weight decay" not in text
    assert "Use early stopping" not in text
    assert "now 0.3" in text and "now 0.05" in text
    slow = History(STILL_FALLING, settings={"optimizer": "sgd", "lr": 0.001, "epochs": 6,
                                            "early_stopping": None, "dropout": []})
    text = " ".join(slow.diagnose().suggestions)
    assert "Adam" in text and "6 epoch(s) ran" in text


def test_early_stopping_restoring_the_best_epoch_is_judged_there():
    loss = [1.0, 0.6, 0.45, 0.4, 0.37, 0.35, 0.33, 0.31, 0.29, 0.27]
    val = [1.0, 0.62, 0.48, 0.43, 0.41, 0.42, 0.44, 0.46, 0.49, 0.52]
    es = {"monitor": "val_loss", "patience": 5, "restore_best_weights": True}
    h = History({"loss": loss, "val_loss": val},
                settings={"epochs": 100, "early_stopping": es, "dropout": []})
    d = h.diagnose()
    assert d.verdict == "good fit" and d.best_epoch == 4, str(d)
    assert any("restored the weights of epoch 5" in r for r in d.reasons)
    # the same curves with nothing restored: the model returned is past the turn
    assert History({"loss": loss, "val_loss": val}).diagnose().verdict == "overfitting"


def test_fit_records_settings_and_warns_on_a_sorted_split():
    x = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    y = np.repeat(np.arange(3), 20)  # class order, as Iris is stored
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.25), nn.Linear(8, 3))
    model.compile(ember.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1),
                  "sparse_categorical_crossentropy")
    stop = ember.callbacks.EarlyStopping(patience=3)
    with pytest.warns(UserWarning, match="validation_split=0.2 .* labels are sorted.*Shuffle"):
        h = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0, callbacks=[stop])
    assert h.settings == {"epochs": 2, "batch_size": 32,
                          "model": "Linear(4, 8) - Dropout(0.25) - Linear(8, 3) (67 parameters)",
                          "optimizer": "adamw", "lr": 0.01,
                          "weight_decay": 0.1, "dropout": [0.25],
                          "early_stopping": {"monitor": "val_loss", "patience": 3,
                                             "restore_best_weights": False}}
    # classes absent from the training part, labels one-hot
    onehot = np.eye(3, dtype=np.float32)[np.r_[np.zeros(48, int), np.full(12, 2)]]
    model.compile("adam", "categorical_crossentropy")
    with pytest.warns(UserWarning, match=r"label\(s\) \[2\] that the training part never has"):
        model.fit(x, onehot, epochs=1, validation_split=0.2, verbose=0)
    # shuffled labels: no warning
    import warnings
    perm = np.random.default_rng(1).permutation(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x[perm], y[perm], epochs=1, validation_split=0.2, verbose=0)


def test_history_round_trips_through_a_dict():
    h = History(OVERFIT, settings={"epochs": 8, "optimizer": "adam"})
    back = History.from_dict(h.to_dict())
    assert back.history == h.history and back.epoch == h.epoch and back.settings == h.settings
    assert back.diagnose().verdict == h.diagnose().verdict == "overfitting"


def test_best_epoch_skips_non_finite_values_like_diagnose():
    from ember.callbacks.history import History

    h = History()
    for e, (loss, val) in enumerate([(1.0, float("nan")), (0.8, 0.5), (0.6, 0.3), (0.5, float("inf"))]):
        h.epoch.append(e)
        h.history.setdefault("loss", []).append(loss)
        h.history.setdefault("val_loss", []).append(val)
    assert h.best_epoch() == 2 == h.diagnose().best_epoch
    assert h.best_epoch("loss") == 3


def test_plot_title_integer_ticks_markers_and_shaded_gap():
    from ember.callbacks.plotting import MARKER_EPOCHS

    short = History({"loss": [1.0, 0.8], "val_loss": [1.1, 0.95], "accuracy": [0.5, 0.7]},
                    settings={"model": "Linear(4, 3) (15 parameters)"})
    fig = short.plot()
    assert fig._suptitle.get_text() == "Linear(4, 3) (15 parameters)"
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert ax.get_lines()[0].get_marker() == "o"
    assert len(ax.collections) == 1  # the shaded gap
    # the best-epoch label lies inside the axes even when the best epoch is the last
    label = next(t for t in ax.texts if "best epoch 2" in t.get_text())
    box = label.get_window_extent(fig.canvas.get_renderer())
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 + 1 and box.y1 <= frame.y1 + 1
    assert fig.legends and not ax.get_legend()  # one legend for the figure, off the curves
    n = MARKER_EPOCHS + 20
    long = History({"loss": [1 / (i + 1) for i in range(n)], "val_loss": [1.0] * n})
    fig = long.plot(title="Iris: 4-8-3")
    assert fig._suptitle.get_text() == "Iris: 4-8-3"
    assert fig.axes[0].get_lines()[0].get_marker() in (None, "None", "")


def test_split_problem_signs():
    from ember.models.split_check import split_problem

    assert "sorted" in split_problem(np.array([3.0, 2.5, 2.0]), np.array([1.0, 0.5]))  # descending
    assert split_problem(np.array([0, 1, 0, 1]), np.array([1, 0])) == ""
    assert "[1]" in split_problem(np.array([0, 0, 2, 0]), np.array([1]))  # unseen, not sorted
    assert split_problem(np.zeros(5), np.zeros(2)) == ""  # one value: nothing to say
    assert split_problem(None, None) == ""  # a Dataset: labels unknown
