"""fit's progress output: every metric visible at any width, bars only on a terminal."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.callbacks import progbar


def _fit(verbose, epochs=2):
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.25, verbose=verbose)


def test_wrap_fields_breaks_between_fields_only():
    fields = ["Epoch 1/3 - 0.10s", "loss: 1.6966", "accuracy: 0.3167", "val_loss: 1.4529",
              "val_accuracy: 0.4000"]
    text = progbar.wrap_fields(fields, 40)
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines) and len(lines) == 3
    assert lines[1].startswith("    ") and lines[0] == "Epoch 1/3 - 0.10s - loss: 1.6966"
    for f in fields:  # none cut
        assert f in text
    assert progbar.wrap_fields(fields, 200) == " - ".join(fields)
    # a field wider than the line stays whole on its own line
    assert progbar.wrap_fields(["x" * 30, "y"], 10).splitlines() == ["x" * 30, "    y"]


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_summary_on_a_terminal_shows_every_metric_within_the_width(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr(progbar, "_is_terminal", lambda stream: True)
    history = _fit(verbose=1)
    out = capsys.readouterr().out
    summary = [ln for ln in out.replace("\r", "\n").splitlines()
               if ln.startswith(("Epoch 2/2 - ", "    ")) and "%|" not in ln]
    text = "\n".join(summary)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert f"{key}: {history.history[key][-1]:.4f}" in text, (key, text)
    bars = [ln for ln in out.replace("\r", "\n").splitlines() if "%|" in ln]
    assert bars and all(len(ln.rstrip()) <= columns for ln in bars + summary), out


def test_not_a_terminal_gets_one_plain_line_per_epoch(capsys):
    history = _fit(verbose=1, epochs=3)  # pytest's captured stdout is not a terminal
    out = capsys.readouterr().out
    assert "\r" not in out and "%|" not in out
    lines = out.splitlines()
    assert [ln.split(" - ")[0] for ln in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert lines[-1].endswith(f"val_accuracy: {history.history['val_accuracy'][-1]:.4f}")
    _fit(verbose=0)
    assert capsys.readouterr().out == ""
