"""The ``ember`` command line: lab, train, info, help and error handling.

Most cases call :func:`ember.cli.main` in-process (fast); one runs ``python -m ember`` as a real
subprocess to check the module entry point and the exit code.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import cli, lab

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ["EMBER_DATA"])
HAS_MNIST = (DATA / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"no MNIST files under {DATA}")


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for word in ("lab", "train", "info"):
        assert word in out
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--dataset", "--model", "--epochs", "--batch-size", "--lr", "--optimizer",
                 "--seed", "--device", "--out", "--validation-split", "--patience"):
        assert flag in out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "lab" in capsys.readouterr().out


def test_bad_choice_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["lab", "--dataset", "cifar"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    import numpy

    import ember

    assert f"ember       {ember.__version__}" in out
    assert numpy.__version__ in out
    assert "cpu" in out and "cuda" in out
    for name in ("cupy", "mpi4py", "safetensors", "tqdm", "matplotlib"):
        assert name in out


def test_lab_iris_quick_writes_table_curves_and_histories(tmp_path, capsys):
    assert cli.main(["lab", "--dataset", "iris", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| iris | single layer (linear softmax) |" in out
    assert "| iris | multi-layer (MLP) |" in out
    assert "Iris protocol" in out and "Diagnosis:" in out
    runs = sorted(tmp_path.iterdir())
    assert len(runs) == 1 and runs[0].name.endswith("-iris-quick")
    run = runs[0]
    assert f"out={run}" in out and f"to {run}" in out
    for kind in ("linear", "mlp"):
        rows = list(csv.DictReader(open(run / f"iris_{kind}_history.csv")))
        assert rows and {"epoch", "loss", "val_loss", "accuracy", "val_accuracy"} <= set(rows[0])
        assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
        png = run / f"iris_{kind}_curves.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run gets a folder of its own and leaves the first one's pictures alone
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert cli.main(["lab", "--dataset", "iris", "--quick", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert len(list(tmp_path.iterdir())) == 2
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_lab_iris_cross_validation_folds_are_stratified_and_disjoint():
    from ember import lab

    folds = list(lab.iris_cv_folds(repeats=2))
    assert len(folds) == 10
    _, y = (np.array(t) for t in ember.datasets.Iris().tensors())
    for r in range(2):
        tests = [test for rr, _, _, test in folds if rr == r]
        assert sorted(np.concatenate(tests).tolist()) == list(range(150))  # each flower once
        for _, _, train, test in (f for f in folds if f[0] == r):
            assert not set(train) & set(test) and len(train) + len(test) == 150
            assert np.bincount(y[test]).tolist() == [10, 10, 10]
            split = lab.iris_fold_data(train, test)
            assert len(split.x_val) == 24 and set(split.y_val.tolist()) == {0, 1, 2}
            np.testing.assert_allclose(np.r_[split.x_train, split.x_val].mean(0), 0, atol=1e-5)
    assert not np.array_equal(folds[0][3], folds[5][3])  # the repeats differ


def test_train_iris_writes_history_curves_and_best_weights(tmp_path, capsys):
    code = cli.main(["train", "--dataset", "iris", "--model", "mlp", "--epochs", "15",
                     "--batch-size", "16", "--lr", "0.02", "--seed", "1", "--patience", "3",
                     "--out", str(tmp_path), "--verbose", "0"])
    assert code == 0
    out = capsys.readouterr().out
    assert "test accuracy:" in out and "Diagnosis:" in out
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert 1 <= len(rows) <= 15 and "val_loss" in rows[0]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    # the checkpoint holds the weights of the best epoch, which EarlyStopping also restored
    import ember

    model = lab.build_model("iris", "mlp")
    model.load_weights(tmp_path / "best.safetensors")
    assert set(ember.load(str(tmp_path / "best.safetensors"))) == set(model.state_dict())


def test_train_rejects_cnn_on_iris(tmp_path, capsys):
    code = cli.main(["train", "--dataset", "iris", "--model", "cnn", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_missing_mnist_is_a_clear_error_without_traceback(tmp_path):
    env = dict(os.environ, EMBER_DATA=str(tmp_path / "nothing"), XDG_CACHE_HOME=str(tmp_path),
               PYTHONPATH=str(ROOT), https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    env.pop("no_proxy", None)  # offline: the download is refused at once, never the network
    proc = subprocess.run([sys.executable, "-m", "ember", "train", "--dataset", "mnist",
                           "--epochs", "1", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "MNIST files not found" in proc.stderr
    assert proc.stderr.count("\n") <= 3


@needs_mnist
def test_lab_mnist_quick(tmp_path, capsys, monkeypatch):
    # smaller still than --quick: the suite has many tests to run on shared cores
    monkeypatch.setattr(lab, "QUICK_MNIST_TRAIN", 256)
    monkeypatch.setattr(lab, "QUICK_MNIST_TEST", 200)
    assert cli.main(["lab", "--dataset", "mnist", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for title in ("single layer (linear softmax)", "multi-layer (MLP)", "CNN"):
        assert f"| mnist | {title} |" in out
    (run,) = tmp_path.iterdir()  # the run's own folder
    assert run.name.endswith("-mnist-quick")
    for kind in ("linear", "mlp", "cnn"):
        assert (run / f"mnist_{kind}_history.csv").is_file()
        assert (run / f"mnist_{kind}_curves.png").is_file()


@needs_mnist
def test_train_mnist_linear_limit(tmp_path, capsys):
    code = cli.main(["train", "--dataset", "mnist", "--model", "linear", "--epochs", "2",
                     "--limit", "500", "--out", str(tmp_path), "--verbose", "0"])
    assert code == 0
    assert "test accuracy:" in capsys.readouterr().out
    assert (tmp_path / "best.safetensors").is_file()


def test_train_on_a_missing_gpu_is_a_clear_error(tmp_path, capsys):
    if cli._cuda_available():
        pytest.skip("a GPU is available here")
    code = cli.main(["train", "--dataset", "iris", "--model", "linear", "--device", "cuda",
                     "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "Traceback" not in err


def _offline(url, timeout=None):
    import urllib.error

    raise urllib.error.URLError("offline (test)")


def test_lab_all_without_mnist_reports_iris_then_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(ember.datasets.mnist, "_urlopen", _offline)  # never the network
    monkeypatch.setattr(lab, "QUICK", {**lab.QUICK, ("iris", "linear"): lab.TrainConfig(3, 16, 0.05),
                                       ("iris", "mlp"): lab.TrainConfig(3, 16, 0.01)})
    code = cli.main(["lab", "--dataset", "all", "--quick", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert "| iris | single layer (linear softmax) |" in captured.out
    assert "MNIST files not found" in captured.err and "Traceback" not in captured.err
