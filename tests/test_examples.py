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


def _offline_env(tmp_path) -> dict:
    """A fresh clone's environment: no EMBER_DATA, an empty cache, and no network (every
    download goes to a proxy on a closed local port, refused at once)."""
    env = {k: v for k, v in os.environ.items() if k != "EMBER_DATA"}
    env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path / "cache"),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               OPENBLAS_NUM_THREADS="1")
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    return env


@pytest.mark.parametrize("name", ["lab_mnist.py", "early_stopping.py", "mnist_ddp.py"])
def test_data_examples_offline_say_the_one_thing_they_need(tmp_path, name):
    """From a fresh clone without the MNIST files and without a network, the example's first
    line of output names every missing file and how to point at them, and nothing is created."""
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          env=_offline_env(tmp_path), timeout=180, cwd=work)
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 2, out
    first = out.splitlines()[0]
    if name == "mnist_ddp.py" and "mpi4py" in first:
        assert 'pip install -e ".[mpi]"' in first  # the one thing it needs first
        return
    assert first.startswith("error: MNIST files not found:"), out
    for file in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert file in first
    assert "--data DIR" in first and "EMBER_DATA" in first
    cache = tmp_path / "cache"
    assert list(work.iterdir()) == [] and not cache.exists(), \
        f"left behind: {sorted(str(p.relative_to(tmp_path)) for p in cache.rglob('*'))}"


@pytest.mark.parametrize("name", ["lab_iris.py", "overfitting.py", "custom_layer.py",
                                  "custom_loop.py"])
def test_examples_without_data_files_run_with_no_argument_offline(tmp_path, name):
    """The examples that need no download start and run from a fresh clone with no argument
    (EMBER_QUICK keeps the lab short; the others are short already)."""
    env = _offline_env(tmp_path)
    env["EMBER_QUICK"] = "1"
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
