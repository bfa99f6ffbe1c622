"""Every example runs on its own (as a subprocess, as a user would run it) with tiny settings,
and its output says what the example is meant to show."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(os.environ["EMBER_DATA"])
needs_mnist = pytest.mark.skipif(not (DATA / "mnist" / "train-images-idx3-ubyte.gz").is_file(),
                                 reason=f"no MNIST files under {DATA}")


def run(name: str, *args: str, timeout: float = 180) -> str:
    """Run ``examples/<name>`` from a scratch working directory; returns its stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # one BLAS thread: the examples' matrices are small, and oversubscribed threads on a shared
    # machine cost more than they give
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_lab_iris(tmp_path):
    out = run("lab_iris.py", "--quick", "--out", str(tmp_path))
    assert "| iris | single layer (linear softmax) |" in out
    assert "| iris | multi-layer (MLP) |" in out
    assert len(list(tmp_path.glob("iris_*_curves.png"))) == 2
    assert len(list(tmp_path.glob("iris_*_history.csv"))) == 2


@needs_mnist
def test_lab_mnist(tmp_path):
    out = run("lab_mnist.py", "--quick", "--out", str(tmp_path))
    for title in ("single layer (linear softmax)", "multi-layer (MLP)", "CNN"):
        assert f"| mnist | {title} |" in out
    assert len(list(tmp_path.glob("mnist_*_curves.png"))) == 3


def test_overfitting(tmp_path):
    out = run("overfitting.py", "--steps", "600", "--out", str(tmp_path))
    rows = dict(re.findall(r"^(line|polynomial) \(\d parameters\)\s+\d+\s+(.*)$", out, re.M))
    line_train, line_val = map(float, rows["line"].split())
    poly_train, poly_val = map(float, rows["polynomial"].split())
    assert poly_train < 0.01 < line_train      # 7 parameters through 5 points: ~0 error
    assert poly_val > line_val                 # ... and worse on fresh points
    assert "over-fits" in out
    assert (tmp_path / "overfitting.png").read_bytes()[:4] == b"\x89PNG"


@needs_mnist
def test_early_stopping(tmp_path):
    out = run("early_stopping.py", "--train", "300", "--val", "500", "--hidden", "256",
              "--epochs", "15", "--patience", "3", "--out", str(tmp_path))
    assert "Diagnosis: OVERFITTING" in out
    m = re.search(r"lowest val_loss ([\d.]+) at epoch (\d+), last epoch's ([\d.]+)", out)
    best, last = float(m.group(1)), float(m.group(3))
    assert last > best  # validation loss rose after its minimum
    restored = float(re.search(r"after restoring the best weights: val_loss ([\d.]+)", out).group(1))
    assert restored == pytest.approx(best, abs=2e-4)
    assert (tmp_path / "curves.png").is_file()


def test_custom_layer():
    out = run("custom_layer.py", "--epochs", "30")
    assert "GatedDense" in out  # in the summary
    assert "GatedDense parameters trained by fit: True" in out
    acc = float(re.search(r"test accuracy .*: ([\d.]+)%", out).group(1))
    assert acc > 60


def test_custom_loop():
    out = run("custom_loop.py", "--epochs", "15")
    losses = [float(v) for v in re.findall(r"train loss ([\d.]+)", out)]
    assert len(losses) >= 2 and losses[-1] < losses[0]
    acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert acc > 60
