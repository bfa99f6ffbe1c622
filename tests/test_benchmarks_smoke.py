"""The benchmark suite runs end to end (quick mode, one tiny benchmark). Nothing here is timed:
speed is reported by ``python -m benchmarks``, never asserted in the test suite."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_quick_small_op_benchmark_writes_json(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--only", "chain1",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ember/PyTorch" in proc.stdout
    data = json.loads(out.read_text())
    assert data["quick"] is True
    assert data["machine"]["threads"] == 1
    (result,) = data["results"]
    assert result["name"] == "chain1" and result["error"] is None
    assert result["ember"] > 0 and result["torch"] > 0


def test_unknown_benchmark_name_is_refused():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nonsense"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown benchmark" in proc.stderr


def test_raw_numpy_mlp_step_is_the_same_training_as_embers():
    """The "raw NumPy" benchmark row is only a fair ceiling if it does ember's maths: three steps
    of it and of ember's MLP + CrossEntropyLoss + SGD(momentum) from the same weights agree."""
    import numpy as np

    import ember
    from benchmarks.workloads import build_mlp_numpy

    step = build_mlp_numpy(batch=16)
    n = len(step.params) // 2
    layers = []
    for i in range(n):
        lin = ember.nn.Linear(*step.params[i].shape[::-1])
        with ember.no_grad():
            lin.weight.copy_(ember.from_numpy(step.params[i].copy()))
            lin.bias.copy_(ember.from_numpy(step.params[n + i].copy()))
        layers += [lin, ember.nn.ReLU()] if i < n - 1 else [lin]
    model = ember.nn.Sequential(*layers)
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = (ember.from_numpy(a) for a in step.data)
    for _ in range(3):
        step()
        opt.zero_grad()
        ember.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for i in range(n):
        np.testing.assert_allclose(model[2 * i].weight.detach().numpy(), step.params[i],
                                   rtol=1e-4, atol=1e-6)


def test_rows_taken_on_a_busy_machine_are_marked_and_recorded():
    sys.path.insert(0, str(ROOT))
    from benchmarks import suite

    meter = suite.CpuMeter()
    sum(i * i for i in range(200_000))  # this process's own work is not "others"
    assert meter.other_cores() >= 0.0
    quiet = suite._result("mlp", "MLP", "samples/s", "higher", 1.0, 2.0, 1.0)
    quiet.update(busy=False, other_cores=0.0)
    busy = suite._result("cnn", "CNN", "samples/s", "higher", 0.5, 1.0, 2.0)
    busy.update(busy=True, other_cores=1.4)
    assert not suite.any_busy([quiet])
    assert suite.any_busy([quiet, busy])
    table = suite.format_table([quiet, busy], threads=2, quick=False)
    assert "WARNING" in table
    (cnn_row,) = [line for line in table.splitlines() if line.startswith("| CNN")]
    assert "BUSY (1.4 cores used by others)" in cnn_row
    (mlp_row,) = [line for line in table.splitlines() if line.startswith("| MLP")]
    assert "BUSY" not in mlp_row and "yes" in mlp_row
    info = suite.machine_info(2)
    assert info["cpu"] and info["blas_kernels"] != "unknown"
    assert any(p["user_api"] == "blas" and p["internal_api"] for p in info["thread_pools"])
